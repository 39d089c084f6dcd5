"""Small helpers shared by the page views."""
from __future__ import annotations

from django.urls import NoReverseMatch, reverse


def optional_url(name: str, *args: object) -> str | None:
    """``reverse(name)``, or None when that page is not installed (method subpackages are optional)."""
    try:
        return reverse(name, args=args or None)
    except NoReverseMatch:
        return None
