"""Remembered ("trusted") browsers: an optional signed cookie that skips the MFA step for N days.

Each remembered browser is a server-side :class:`~django_pushmfa.models.RememberedBrowser` record
that the user sees and can forget one by one; the signed cookie names that record. The cookie is
also bound to a fingerprint of the user's security state — password hash and the set of active
credentials — so a password change, a revoked or added credential, or an MFA reset ends the trust
(and recovery forgets every record, ``internal.recovery``). Off unless
``PUSHMFA_TRUST_BROWSER_DAYS`` > 0. Never used for API (device) clients.
"""
from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

from django.conf import settings
from django.core import signing
from django.http import HttpRequest, HttpResponseBase
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from ..app_settings import app_settings
from ..models import MFACredential, RememberedBrowser, SecurityEvent

SALT = "django_pushmfa.trusted-browser"


def security_fingerprint(user: Any) -> str:
    ids = MFACredential.objects.active().for_user(user).order_by("pk").values_list("pk", flat=True)
    material = "|".join([str(user.pk), getattr(user, "password", "") or "", *[str(i) for i in ids]])
    return salted_hmac(SALT, hashlib.sha256(material.encode()).hexdigest(), algorithm="sha256").hexdigest()


def max_age() -> int:
    return int(app_settings.TRUST_BROWSER_DAYS) * 86400


def use_remembered(request: HttpRequest, user: Any) -> bool:
    """Whether this browser's trust cookie skips ``user``'s MFA step now; its record's last use is kept.

    The cookie must verify, name ``user`` and the current security fingerprint, and its record must
    be neither forgotten nor expired (one conditional UPDATE checks and touches it).
    """
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
    if not constant_time_compare(str(data.get("f", "")), security_fingerprint(user)):
        return False
    try:
        record_id = uuid.UUID(str(data.get("b")))
    except ValueError:
        return False  # a cookie from before browsers were records: not trusted any more
    now = timezone.now()
    return bool(
        RememberedBrowser.objects.filter(
            pk=record_id, user_id=user.pk, revoked_at__isnull=True, expires_at__gt=now
        ).update(last_used_at=now)
    )


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
    """Remember this browser for ``user``: a new record, and the cookie naming it (bound to their
    security state now); None when the feature is off."""
    if max_age() <= 0:
        return None
    from ..push.internal.context import parse_user_agent

    browser, os_name = parse_user_agent(request.META.get("HTTP_USER_AGENT", ""))
    record = RememberedBrowser.objects.create(
        user=user, browser=browser[:100], os=os_name[:100], expires_at=timezone.now() + timedelta(seconds=max_age())
    )
    value = signing.dumps({"u": str(user.pk), "f": security_fingerprint(user), "b": str(record.pk)}, salt=SALT)
    # Like the session cookie: behind a TLS proxy without SECURE_PROXY_SSL_HEADER the request looks
    # like plain HTTP, yet SESSION_COOKIE_SECURE says the site is served over HTTPS.
    return Cookie(value, max_age(), bool(settings.SESSION_COOKIE_SECURE) or request.is_secure())


def remembered(user: Any) -> list[RememberedBrowser]:
    """``user``'s remembered browsers that still skip the MFA step, newest first."""
    return list(
        RememberedBrowser.objects.filter(user=user, revoked_at__isnull=True, expires_at__gt=timezone.now()).order_by(
            "-created_at"
        )
    )


def forget(request: HttpRequest, user: Any, browser_id: Any) -> bool:
    """Forget one of ``user``'s remembered browsers (``browser_forgotten``); False when there is none such."""
    from ..services import record_event

    try:
        pk = uuid.UUID(str(browser_id))
    except ValueError:
        return False
    if not RememberedBrowser.objects.filter(pk=pk, user=user, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    ):
        return False
    record_event(user, SecurityEvent.Kind.BROWSER_FORGOTTEN, request=request, browser_id=str(pk))
    return True


def forget_all(user: Any) -> int:
    """Forget every remembered browser of ``user`` (recovery); how many were still remembered."""
    return RememberedBrowser.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())


def cookie_samesite() -> Literal["Strict", "Lax"]:
    """The session cookie's ``SameSite`` when it is "Strict", else "Lax": never looser than Lax
    (the cookie is only needed on the site's own login pages)."""
    return "Strict" if str(settings.SESSION_COOKIE_SAMESITE or "").lower() == "strict" else "Lax"
