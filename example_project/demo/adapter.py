"""The example site's adapter: only the name shown in pushes, emails and authenticator apps."""
from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest

from django_pushmfa.adapter import DefaultMFAAdapter


class ExampleAdapter(DefaultMFAAdapter):
    def get_site_name(self, request: HttpRequest | None = None) -> str:
        return getattr(settings, "PUSHMFA_SITE_NAME", "Acme Workspace")
