"""WebAuthn domain logic over py_webauthn: relying-party settings, ceremony state, key bookkeeping.

- RP id: ``PUSHMFA_WEBAUTHN_RP_ID`` or the request's host name; origins: ``PUSHMFA_WEBAUTHN_ORIGINS`` or
  the request's own origin; RP name: ``PUSHMFA_WEBAUTHN_RP_NAME`` or the site's name. Set the first
  two explicitly in production (the request's Host is only as trustworthy as ALLOWED_HOSTS).
- A ceremony's challenge lives in the session and is single use: it is popped when the ceremony
  completes, and a cache marker makes two concurrent completions with one challenge fail too
  (skipped, with a warning, while the cache is unreachable: keys keep working when push cannot).
"""
from __future__ import annotations

import hashlib
import logging
import time
from typing import Any

from django.core.cache import caches
from django.http import HttpRequest
from django.http.request import split_domain_port
from django.utils.crypto import salted_hmac
from webauthn.helpers import bytes_to_base64url
from webauthn.helpers.structs import AuthenticatorTransport, PublicKeyCredentialDescriptor

from ...adapter import get_adapter
from ...app_settings import app_settings
from ...exceptions import PushMFAError
from ...models import WebAuthnKey

REGISTRATION_SESSION_KEY = "pushmfa_webauthn_registration"
AUTHENTICATION_SESSION_KEY = "pushmfa_webauthn_authentication"
USER_HANDLE_SALT = "django_pushmfa.webauthn.user_handle"

logger = logging.getLogger("django_pushmfa")


class WebAuthnFailed(PushMFAError):
    """A ceremony that does not verify (wrong origin or RP, stale challenge, bad signature, cloned key).

    On the wire: ``400 webauthn_failed`` (an extension of the contract's codes).
    """

    code = "webauthn_failed"


class MalformedCredential(PushMFAError):
    """The posted credential is not a WebAuthn response at all. On the wire: ``400 invalid``."""

    code = "invalid"


def rp_id(request: HttpRequest) -> str:
    if app_settings.WEBAUTHN_RP_ID:
        return str(app_settings.WEBAUTHN_RP_ID)
    host, _port = split_domain_port(request.get_host())
    return host


def rp_name(request: HttpRequest) -> str:
    return str(app_settings.WEBAUTHN_RP_NAME or get_adapter().get_site_name(request))


def expected_origins(request: HttpRequest) -> list[str]:
    configured = app_settings.WEBAUTHN_ORIGINS
    if configured:
        return [str(o).rstrip("/") for o in ([configured] if isinstance(configured, str) else configured)]
    return [f"{request.scheme}://{request.get_host()}"]


def timeout_ms() -> int:
    return int(app_settings.WEBAUTHN_TIMEOUT) * 1000


def user_handle(user: Any) -> bytes:
    """A stable, opaque WebAuthn user handle (never the user's id or name)."""
    return salted_hmac(USER_HANDLE_SALT, str(user.pk), algorithm="sha256").digest()


def active_keys(user: Any) -> list[WebAuthnKey]:
    return list(
        WebAuthnKey.objects.select_related("credential")
        .filter(credential__user=user, credential__revoked_at__isnull=True, credential__method="webauthn")
        .order_by("credential__created_at")
    )


def descriptor(key: WebAuthnKey) -> PublicKeyCredentialDescriptor:
    transports = []
    for value in key.transports or []:
        try:
            transports.append(AuthenticatorTransport(value))
        except ValueError:
            continue
    return PublicKeyCredentialDescriptor(id=bytes(key.key_id), transports=transports or None)


# --- ceremony state ------------------------------------------------------------------------------
def store_state(request: HttpRequest, key: str, user: Any, challenge: bytes, **extra: Any) -> None:
    request.session[key] = {
        "user_id": str(user.pk),
        "challenge": bytes_to_base64url(challenge),
        "expires_at": time.time() + int(app_settings.WEBAUTHN_TIMEOUT),
        **extra,
    }


def pop_state(request: HttpRequest, key: str, user: Any) -> dict[str, Any]:
    """Take the ceremony state out of the session (single use); :class:`WebAuthnFailed` if unusable."""
    state = request.session.pop(key, None)
    if not isinstance(state, dict) or state.get("user_id") != str(user.pk):
        raise WebAuthnFailed("no ceremony in progress")
    try:
        expires_at = float(state["expires_at"])
        challenge = str(state["challenge"])
    except (KeyError, TypeError, ValueError):
        raise WebAuthnFailed("no ceremony in progress")
    if time.time() >= expires_at:
        raise WebAuthnFailed("ceremony expired")
    # Concurrent requests of one session may both have read the state before either saved the
    # session; the cache marker lets exactly one of them use the challenge. Security keys must keep
    # working while the cache (and so push) is down, so an unreachable cache skips the marker: the
    # session pop still makes the challenge single use for sequential requests, and the sign count's
    # conditional UPDATE still stops a replay of a key that keeps a counter.
    marker = "pushmfa:webauthn:challenge:" + hashlib.sha256(challenge.encode()).hexdigest()
    try:
        first = caches[app_settings.CACHE_ALIAS].add(marker, 1, int(app_settings.WEBAUTHN_TIMEOUT) + 60)
    except Exception:
        logger.warning("pushmfa: cache unreachable; WebAuthn challenge marker skipped", exc_info=True)
        first = True
    if first is None:  # a cache that swallows its errors (django-redis IGNORE_EXCEPTIONS) is unreachable too
        logger.warning("pushmfa: cache answered nothing; WebAuthn challenge marker skipped")
    elif not first:
        raise WebAuthnFailed("challenge already used")
    return state
