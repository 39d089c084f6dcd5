"""TOTP domain logic (RFC 6238 through pyotp): secrets, provisioning URIs, code matching, replay guard.

A code is accepted once: the time step it matched must be newer than the device's ``last_used_step``,
and advancing ``last_used_step`` is one conditional UPDATE, so a replayed code and two concurrent
submissions of the same code cannot both pass.
"""
from __future__ import annotations

import re
import time
from typing import Any

import pyotp
from django.utils.crypto import constant_time_compare

from ...app_settings import app_settings
from ...internal import throttle
from ...models import TOTPDevice

# pyotp.random_base32 draws from ``secrets``; 32 base32 characters = 160 bits (RFC 4226's recommendation).
SECRET_LENGTH = 32
_WHITESPACE = re.compile(r"[ \t]+")


def generate_secret() -> str:
    """A fresh base32 TOTP seed (160 bits, from ``secrets``)."""
    return pyotp.random_base32(length=SECRET_LENGTH)


def make_totp(secret: str, *, digits: int | None = None, period: int | None = None) -> pyotp.TOTP:
    return pyotp.TOTP(
        secret,
        digits=int(digits or app_settings.TOTP_DIGITS),
        interval=int(period or app_settings.TOTP_PERIOD),
    )


def provisioning_uri(secret: str, account_name: str, issuer: str) -> str:
    """The ``otpauth://totp/...`` URI authenticator apps scan."""
    return make_totp(secret).provisioning_uri(name=account_name, issuer_name=issuer)


def normalize_code(code: Any, digits: int) -> str | None:
    """The code as ``digits`` ASCII digits, or None when it cannot be one (never raises).

    Spaces between groups ("123 456") are allowed; anything else that is not an ASCII digit
    (unicode digits, NUL, letters) makes the code malformed.
    """
    if not isinstance(code, str) or len(code) > throttle.MAX_CODE_LENGTH:
        return None
    cleaned = _WHITESPACE.sub("", code.strip())
    if len(cleaned) != digits or not cleaned.isascii() or not cleaned.isdigit():
        return None
    return cleaned


def current_step(period: int, now: float | None = None) -> int:
    return int((time.time() if now is None else now) // period)


def accepted_window(tolerance: Any = None) -> tuple[int, int]:
    """``(steps behind, steps ahead)`` accepted around the current step.

    ``PUSHMFA_TOTP_TOLERANCE`` (or ``tolerance``) ``"previous"`` (the default): the current step and
    the one before, for a code typed just as it changed — a code then lives at most two periods
    (OWASP ASVS 5 caps a code's lifetime); an integer ``n``: ``n`` steps either side (``1``: the v1
    default).
    """
    value = app_settings.TOTP_TOLERANCE if tolerance is None else tolerance
    if value == "previous":
        return 1, 0
    steps = int(value)
    return steps, steps


def matching_step(
    secret: str, code: str, *, digits: int, period: int, tolerance: Any = None, now: float | None = None
) -> int | None:
    """The newest time step within the accepted window (see :func:`accepted_window`) whose code
    equals ``code``, else None.

    Every candidate is compared (constant-time) so timing does not reveal which step matched.
    """
    totp = make_totp(secret, digits=digits, period=period)
    step = current_step(period, now)
    behind, ahead = accepted_window(tolerance)
    matched: int | None = None
    for candidate in range(step - behind, step + ahead + 1):
        if candidate < 0:
            continue
        if constant_time_compare(totp.generate_otp(candidate), code):
            matched = candidate
    return matched


def consume_step(device: TOTPDevice, step: int) -> bool:
    """Atomically record ``step`` as used; False when it (or a later one) was already used.

    One conditional UPDATE: of concurrent submissions of one code exactly one sees a row updated.
    """
    updated = TOTPDevice.objects.filter(pk=device.pk, last_used_step__lt=step).update(last_used_step=step)
    if updated:
        device.last_used_step = step
    return bool(updated)


def active_devices(user: Any) -> list[TOTPDevice]:
    return list(
        TOTPDevice.objects.select_related("credential")
        .filter(credential__user=user, credential__revoked_at__isnull=True, credential__method="totp")
        .order_by("credential__created_at")
    )
