"""Test helper for sites' own tests: log a test ``Client`` in as if the MFA step was done.

``Client.force_login(user)`` goes through ``django.contrib.auth.login()``, so for a user with an
active MFA credential it rightly ends in the "MFA pending" state. Use :func:`force_mfa_login`
when a test needs a fully logged-in enrolled user without driving a second factor.
"""
from __future__ import annotations

from importlib import import_module
from typing import Any

from django.conf import settings
from django.http import HttpRequest


def force_mfa_login(
    client: Any, user: Any, *, method: str = "test", backend: str | None = None, recently: bool = True
) -> None:
    """Log ``client`` (a ``django.test.Client``) in as ``user`` with the MFA step marked done.

    The session counts as recently authenticated (step-up, ``PUSHMFA_REAUTH_WINDOW``) as after a
    real MFA step; ``recently=False`` makes it an older session that must re-authenticate first.

    Mirrors ``Client.force_login`` but logs in through the app's own ``log_in`` (what a completed
    MFA step runs), so the MFA step is not inserted. Records nothing (no SecurityEvent): it is not
    a real login.
    """
    from ..internal.login import log_in

    request = HttpRequest()
    if client.session:
        request.session = client.session
    else:
        request.session = import_module(settings.SESSION_ENGINE).SessionStore()
    log_in(request, user, backend or settings.AUTHENTICATION_BACKENDS[0], method)
    if not recently:
        from ..internal.reauth import AUTHENTICATED_AT_KEY

        request.session.pop(AUTHENTICATED_AT_KEY, None)
    request.session.save()
    # Set the session cookie the way Client.force_login does. Done here rather than through the
    # private ``Client._set_login_cookies``, which only exists since Django 5.0.
    session_cookie = settings.SESSION_COOKIE_NAME
    client.cookies[session_cookie] = request.session.session_key
    client.cookies[session_cookie].update(
        {
            "max-age": None,
            "path": "/",
            "domain": settings.SESSION_COOKIE_DOMAIN,
            "secure": settings.SESSION_COOKIE_SECURE or None,
            "expires": None,
        }
    )
