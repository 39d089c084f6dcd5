"""The adapter: the one place a site customises policy (as django-allauth's adapters).

Point ``PUSHMFA_ADAPTER`` at a subclass of :class:`DefaultMFAAdapter` and override what you need.
"""
from __future__ import annotations

import base64
import hashlib
import logging
from typing import Any

from django.conf import settings
from django.contrib.sites.shortcuts import get_current_site
from django.core.mail import send_mail
from django.http import HttpRequest
from django.template import TemplateDoesNotExist
from django.template.loader import render_to_string

from .app_settings import app_settings, import_setting

logger = logging.getLogger("django_pushmfa")


class DefaultMFAAdapter:
    def get_client_ip(self, request: HttpRequest) -> str | None:
        """The client's IP. The default trusts REMOTE_ADDR only; override behind a proxy."""
        return request.META.get("REMOTE_ADDR") or None

    def resolve_location(self, ip: str | None) -> str | None:
        """Approximate location of ``ip`` via ``PUSHMFA_LOCATION_RESOLVER``; None when unknown."""
        if not ip or not app_settings.LOCATION_RESOLVER:
            return None
        resolver = import_setting("LOCATION_RESOLVER")
        try:
            return resolver(ip) or None
        except Exception:  # a resolver outage must not break logins
            logger.warning("pushmfa: location resolver failed", exc_info=True)
            return None

    def get_site_name(self, request: HttpRequest | None = None) -> str:
        """The site's name, as pushes, the phone app, emails and authenticator apps show it:
        ``PUSHMFA_SITE_NAME``, else the sites framework's current site (or the request's host)."""
        if app_settings.SITE_NAME:
            return str(app_settings.SITE_NAME)
        try:
            return get_current_site(request).name
        except Exception:
            return "Django"

    def get_push_service(self, request: HttpRequest | None, user: Any) -> str | None:
        """The service or application the user is signing in to, shown on the phone beside the site's
        name ("Payroll" on "Acme Workspace"), as Microsoft Authenticator's additional context does.
        ``None`` (the default) shows only the site. Called when a push challenge starts, unless the
        caller passed ``service`` itself."""
        return None

    def is_mfa_required(self, user: Any) -> bool:
        """Whether ``user`` must enroll before logging in (``PUSHMFA_REQUIRE_MFA`` by default)."""
        return bool(app_settings.REQUIRE_MFA)

    # --- app clients ------------------------------------------------------------------------------
    def get_app_tokens(self, request: HttpRequest, user: Any) -> dict[str, Any] | None:
        """The site's own tokens for an app client whose login just completed (MFA step done, or no
        MFA needed), returned to it as ``"tokens"`` beside its ``session_token``; None (the default)
        for none. Override to hand out a simplejwt pair, a DRF authtoken or a knox token (see
        ``django_pushmfa.contrib.simplejwt`` and docs/integration.md, "API clients"). Called only for
        a fully logged-in ``user``, never for a pending session.
        """
        return None

    # --- secrets at rest -------------------------------------------------------------------------
    def _fernet(self, key: str):
        from cryptography.fernet import Fernet

        digest = hashlib.sha256(("django-pushmfa:secret-encryption:" + key).encode()).digest()
        return Fernet(base64.urlsafe_b64encode(digest))

    def encrypt_secret(self, secret: str) -> str:
        """Encrypt a secret (a TOTP seed) for storage, with a key derived from SECRET_KEY."""
        return self._fernet(settings.SECRET_KEY).encrypt(secret.encode()).decode()

    def decrypt_secret(self, token: str) -> str:
        """Decrypt what :meth:`encrypt_secret` made; accepts keys from SECRET_KEY_FALLBACKS."""
        from cryptography.fernet import InvalidToken

        for key in [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]:
            try:
                return self._fernet(key).decrypt(token.encode()).decode()
            except InvalidToken:
                continue
        raise ValueError("Cannot decrypt the stored secret with SECRET_KEY or its fallbacks.")

    # --- alerts ----------------------------------------------------------------------------------
    def send_alert(self, user: Any, alert: str, context: dict[str, Any] | None = None) -> bool:
        """Email ``user`` about a security-relevant change, unless ``PUSHMFA_ALERTS[alert]`` is off.

        Renders ``pushmfa/email/<alert>_subject.txt`` and ``pushmfa/email/<alert>_message.txt``.
        """
        if not app_settings.ALERTS.get(alert, False):
            return False
        email = getattr(user, "email", "")
        if not email:
            return False
        ctx = {"user": user, "site_name": self.get_site_name(), **(context or {})}
        try:
            subject = render_to_string(f"pushmfa/email/{alert}_subject.txt", ctx).strip()
            body = render_to_string(f"pushmfa/email/{alert}_message.txt", ctx)
        except TemplateDoesNotExist:
            logger.warning("pushmfa: no email template for alert %s", alert)
            return False
        try:
            send_mail(" ".join(subject.splitlines()), body, None, [email])
        except Exception:  # an SMTP outage must not break the security flow that triggered it
            logger.exception("pushmfa: sending the %s alert failed", alert)
            return False
        return True


def get_adapter() -> DefaultMFAAdapter:
    return import_setting("ADAPTER")()
