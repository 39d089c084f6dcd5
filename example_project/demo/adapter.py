"""The example site's adapter: the service the user signs in to, shown on the phone.

The site's name comes from ``PUSHMFA_SITE_NAME`` (settings.py); this adapter adds the service: a
login on its way to the admin says "Admin", any other "Workspace".
"""
from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from django_pushmfa.adapter import DefaultMFAAdapter
from django_pushmfa.internal import pending


class ExampleAdapter(DefaultMFAAdapter):
    def get_push_service(self, request: HttpRequest | None, user: Any) -> str | None:
        login = pending.get(request) if request is not None else None
        return "Admin" if login is not None and login.next_url.startswith("/admin/") else "Workspace"
