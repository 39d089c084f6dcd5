"""Template filters of the django-pushmfa pages: ``{% load pushmfa %}``."""
from __future__ import annotations

from datetime import datetime, timedelta

from django import template
from django.utils import timezone

register = template.Library()

JUST_NOW = timedelta(minutes=1)


@register.filter
def pushmfa_is_recent(when: datetime | None) -> bool:
    """True for a moment less than a minute ago: the pages say "just now", not "0 minutes ago"."""
    if not isinstance(when, datetime):
        return False
    return timezone.now() - when < JUST_NOW
