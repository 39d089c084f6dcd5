"""Request-level TOTP operations, shared by the HTML pages and the JSON API.

- :func:`begin_setup` / :func:`confirm_setup`: enrollment. The seed waits (encrypted) in the session
  until the user proves their app produces codes; only then does a credential exist.
- :func:`verify_login`: the MFA step. Pure verification: returns the credential; the caller then
  calls :func:`django_pushmfa.internal.login.finish_step`, the one writer of ``last_used_at``.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, NoReturn

from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _

from ... import services
from ...adapter import get_adapter
from ...app_settings import app_settings
from ...exceptions import InvalidCode
from ...internal import throttle
from ...models import MFACredential, TOTPDevice
from . import auth

SETUP_SESSION_KEY = "pushmfa_totp_setup"


@dataclass(frozen=True)
class PendingSetup:
    secret: str
    otpauth_uri: str
    expires_at: float


def issuer(request: HttpRequest | None) -> str:
    return app_settings.TOTP_ISSUER or get_adapter().get_site_name(request)


def begin_setup(request: HttpRequest, user: Any, *, restart: bool = True) -> PendingSetup:
    """Start (or, with ``restart=False``, resume) a TOTP enrollment for ``user``.

    The seed is kept in the session, encrypted with the adapter, until :func:`confirm_setup`.
    """
    if not restart:
        current = pending_setup(request, user)
        if current is not None:
            return current
    secret = auth.generate_secret()
    expires_at = time.time() + int(app_settings.TOTP_SETUP_TIMEOUT)
    request.session[SETUP_SESSION_KEY] = {
        "user_id": str(user.pk),
        "secret": get_adapter().encrypt_secret(secret),
        "expires_at": expires_at,
    }
    return PendingSetup(secret, _uri(request, user, secret), expires_at)


def pending_setup(request: HttpRequest, user: Any) -> PendingSetup | None:
    """The setup this session started for ``user`` and has not confirmed, if still valid."""
    state = request.session.get(SETUP_SESSION_KEY)
    if not isinstance(state, dict) or state.get("user_id") != str(user.pk):
        return None
    try:
        expires_at = float(state["expires_at"])
        secret = get_adapter().decrypt_secret(str(state["secret"]))
    except (KeyError, TypeError, ValueError):
        request.session.pop(SETUP_SESSION_KEY, None)
        return None
    if time.time() >= expires_at:
        request.session.pop(SETUP_SESSION_KEY, None)
        return None
    return PendingSetup(secret, _uri(request, user, secret), expires_at)


def _uri(request: HttpRequest, user: Any, secret: str) -> str:
    return auth.provisioning_uri(secret, user.get_username(), issuer(request))


def confirm_setup(request: HttpRequest, user: Any, code: Any, *, label: str = "") -> MFACredential:
    """Activate the pending TOTP enrollment if ``code`` verifies; raises :class:`InvalidCode`.

    The confirmed step is stored as used, so the code typed here cannot also log anybody in.
    """
    setup = pending_setup(request, user)
    if setup is None:
        raise InvalidCode(_("No authenticator setup is in progress; start again."))
    throttle.check(user)
    digits, period = int(app_settings.TOTP_DIGITS), int(app_settings.TOTP_PERIOD)
    normalized = auth.normalize_code(code, digits)
    step = None
    if normalized is not None:
        step = auth.matching_step(
            setup.secret, normalized, digits=digits, period=period
        )
    if step is None:
        _fail(request, user, stage="setup")
    with transaction.atomic():
        credential = services.add_credential(
            user, MFACredential.Method.TOTP, label=label or str(_("Authenticator app")), request=request
        )
        TOTPDevice.objects.create(
            credential=credential,
            encrypted_secret=get_adapter().encrypt_secret(setup.secret),
            digits=digits,
            period=period,
            last_used_step=step,
        )
    request.session.pop(SETUP_SESSION_KEY, None)
    throttle.reset(user)
    services.notify_credential_added(credential, request)
    return credential


def verify_login(request: HttpRequest, user: Any, code: Any) -> MFACredential:
    """Verify a TOTP code for ``user``'s MFA step and return the credential it matched.

    Raises :class:`~django_pushmfa.exceptions.RateLimited` during a back-off and
    :class:`~django_pushmfa.exceptions.InvalidCode` for a wrong, malformed or already used code.
    Does not log anybody in: the caller calls ``internal.login.finish_step``.
    """
    throttle.check(user)
    adapter = get_adapter()
    for device in auth.active_devices(user):
        normalized = auth.normalize_code(code, device.digits)
        if normalized is None:
            continue
        try:
            secret = adapter.decrypt_secret(device.encrypted_secret)
        except ValueError:  # SECRET_KEY rotated without keeping the old one in SECRET_KEY_FALLBACKS
            services.logger.error("pushmfa: cannot decrypt TOTP credential %s", device.pk)
            continue
        step = auth.matching_step(secret, normalized, digits=device.digits, period=device.period)
        if step is not None and auth.consume_step(device, step):
            throttle.reset(user)
            return device.credential
    _fail(request, user, stage="login")


def _fail(request: HttpRequest, user: Any, *, stage: str) -> NoReturn:
    throttle.record_failure(user, request, method="totp", stage=stage)
    if stage == "login":
        services.alert_second_step_failed(user, request, "code")
    raise InvalidCode()
