"""Remembered ("trusted") browsers: an optional signed cookie that skips the MFA step for N days.

The cookie is bound to a fingerprint of the user's security state — password hash and the set of
active credentials — so a password change, a revoked or added credential, or an MFA reset ends the
trust. Off unless ``PUSHMFA_TRUST_BROWSER_DAYS`` > 0. Never used for API (device) clients.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core import signing
from django.http import HttpRequest, HttpResponseBase
from django.utils.crypto import constant_time_compare, salted_hmac

from ..app_settings import app_settings
from ..models import MFACredential

SALT = "django_pushmfa.trusted-browser"


def security_fingerprint(user: Any) -> str:
    ids = MFACredential.objects.active().for_user(user).order_by("pk").values_list("pk", flat=True)
    material = "|".join([str(user.pk), getattr(user, "password", "") or "", *[str(i) for i in ids]])
    return salted_hmac(SALT, hashlib.sha256(material.encode()).hexdigest(), algorithm="sha256").hexdigest()


def max_age() -> int:
    return int(app_settings.TRUST_BROWSER_DAYS) * 86400


def is_browser_trusted(request: HttpRequest, user: Any) -> bool:
    if max_age() <= 0:
        return False
    raw = request.COOKIES.get(app_settings.TRUST_COOKIE_NAME)
    if not raw:
        return False
    try:
        data = signing.loads(raw, salt=SALT, max_age=max_age())
    except signing.BadSignature:
        return False
    if not isinstance(data, dict) or str(data.get("u")) != str(user.pk):
        return False
    return constant_time_compare(str(data.get("f", "")), security_fingerprint(user))


@dataclass(frozen=True)
class Cookie:
    """The signed trust cookie for one user, ready to be set on a response."""

    value: str
    max_age: int
    secure: bool

    def set_on(self, response: HttpResponseBase) -> None:
        response.set_cookie(
            app_settings.TRUST_COOKIE_NAME,
            self.value,
            max_age=self.max_age,
            domain=settings.SESSION_COOKIE_DOMAIN,
            secure=self.secure,
            httponly=True,
            samesite=cookie_samesite(),
        )


def cookie_for(request: HttpRequest, user: Any) -> Cookie | None:
    """The trust cookie for ``user`` (bound to their security state now); None when the feature is off."""
    if max_age() <= 0:
        return None
    value = signing.dumps({"u": str(user.pk), "f": security_fingerprint(user)}, salt=SALT)
    # Like the session cookie: behind a TLS proxy without SECURE_PROXY_SSL_HEADER the request looks
    # like plain HTTP, yet SESSION_COOKIE_SECURE says the site is served over HTTPS.
    return Cookie(value, max_age(), bool(settings.SESSION_COOKIE_SECURE) or request.is_secure())


def cookie_samesite() -> str:
    """The session cookie's ``SameSite`` when it is "Strict", else "Lax": never looser than Lax
    (the cookie is only needed on the site's own login pages)."""
    return "Strict" if str(settings.SESSION_COOKIE_SAMESITE or "").lower() == "strict" else "Lax"
