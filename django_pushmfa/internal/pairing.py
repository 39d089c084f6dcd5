"""Pairing a phone: a single-use token issued to a logged-in user, redeemed by the phone app.

The token is shown once (as a ``pushmfa://pair?...`` URI in a QR code) and only its SHA-256 is
stored. Redemption is one conditional UPDATE, so a token works exactly once even when two phones
race with it; the new push credential and its device row are created in the same transaction.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from .. import services
from ..app_settings import app_settings
from ..exceptions import InvalidPairingToken
from ..models import MFACredential, PairingToken, PushDevice, SecurityEvent
from .signing import UnsupportedKey, parse_public_key

PAIRING_URI_VERSION = "1"
# Longest token string looked up at all; real tokens are 43 characters.
MAX_TOKEN_LENGTH = 256


@dataclass(frozen=True)
class PairingIssued:
    """A freshly issued pairing token. ``token`` is the only copy of the secret: show it once."""

    token: str
    expires_at: datetime
    pairing_uri: str


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def api_base_url(request: HttpRequest | None = None) -> str:
    """Absolute URL of the app's ``api/`` root (ends with ``/``): the ``server`` a phone talks to.

    ``PUSHMFA_PAIRING_SERVER_URL`` wins (set it behind proxies that hide the public host);
    otherwise it is built from ``request``.
    """
    configured = app_settings.PAIRING_SERVER_URL
    if configured:
        return configured if configured.endswith("/") else configured + "/"
    if request is None:
        raise ImproperlyConfigured(
            "PUSHMFA_PAIRING_SERVER_URL is not set and there is no request to build the API URL from."
        )
    register_path = reverse("pushmfa:api-device-register")
    suffix = "device/register/"
    base_path = register_path[: -len(suffix)] if register_path.endswith(suffix) else register_path
    return request.build_absolute_uri(base_path)


def create_pairing_token(user: Any, request: HttpRequest | None = None) -> PairingIssued:
    """Issue a single-use pairing token for ``user`` (valid ``PUSHMFA_PAIRING_TOKEN_TTL`` seconds).

    Stores only the token's SHA-256 and records ``pairing_token_created``.
    """
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    expires_at = now + timedelta(seconds=int(app_settings.PAIRING_TOKEN_TTL))
    server = api_base_url(request)
    with transaction.atomic():
        row = PairingToken.objects.create(
            token_hash=hash_token(token), user=user, created_at=now, expires_at=expires_at
        )
        services.record_event(
            user,
            SecurityEvent.Kind.PAIRING_TOKEN_CREATED,
            request=request,
            pairing_token_id=row.pk,
            expires_at=expires_at.isoformat(),
        )
    query = urlencode({"token": token, "server": server, "v": PAIRING_URI_VERSION})
    uri = f"{app_settings.PAIRING_URI_SCHEME}://pair?{query}"
    return PairingIssued(token=token, expires_at=expires_at, pairing_uri=uri)


def redeem_pairing_token(
    token: str,
    *,
    platform: str,
    push_token: str,
    public_key_der: bytes,
    name: str = "",
    language: str = "",
    request: HttpRequest | None = None,
) -> PushDevice:
    """Turn a pairing token into a push device of its user. Raises ``InvalidPairingToken``.

    The token must exist, be unused and unexpired; it is spent by a single
    ``UPDATE ... WHERE used_at IS NULL AND expires_at > now`` so concurrent redemptions of one token
    produce exactly one device. ``public_key_der`` must be an ECDSA P-256 or Ed25519
    SubjectPublicKeyInfo (else :class:`~django_pushmfa.internal.signing.UnsupportedKey`; a malformed
    key is refused before the token is looked at, a key already registered only after the token
    proved valid, and neither burns the token); it is stored in canonical form.
    ``platform`` and ``push_token`` are validated by the caller (the API serializer).
    Records ``device_registered`` (plus ``credential_added``) and sends the "credential added"
    signal and alert once the transaction commits.
    """
    key_type, public_key_der = parse_public_key(public_key_der)
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
        raise InvalidPairingToken()
    token_hash = hash_token(token)
    now = timezone.now()
    with transaction.atomic():
        spent = PairingToken.objects.filter(token_hash=token_hash, used_at__isnull=True, expires_at__gt=now).update(
            used_at=now
        )
        if spent != 1:
            raise InvalidPairingToken()
        # Only a holder of a valid token learns whether the key is registered (no oracle for
        # anybody else); the exception rolls the token's UPDATE back, so it is not burnt.
        # The device id is not among the signed bytes, so one key must never serve two active devices:
        # a request signed for one could otherwise be replayed as the other (see docs/device-api.md).
        if PushDevice.objects.filter(public_key=public_key_der, credential__revoked_at__isnull=True).exists():
            raise UnsupportedKey("this key is already registered; generate a new key for each pairing")
        pairing = PairingToken.objects.select_related("user").get(token_hash=token_hash)
        user = pairing.user
        if not getattr(user, "is_active", True):
            # Rolls the UPDATE back too; the token stays unusable anyway while the user is inactive.
            raise InvalidPairingToken()
        label = name or gettext("Phone")
        credential = services.add_credential(user, MFACredential.Method.PUSH, label=label, request=request)
        device = PushDevice.objects.create(
            credential=credential,
            platform=platform,
            push_token=push_token,
            public_key=public_key_der,
            key_type=key_type,
            name=name,
            language=language,
            last_seen_at=now,
        )
        services.record_event(
            user,
            SecurityEvent.Kind.DEVICE_REGISTERED,
            request=request,
            credential=credential,
            platform=platform,
            key_type=key_type,
            name=name,
            pairing_token_id=pairing.pk,
        )
    transaction.on_commit(lambda: services.notify_credential_added(credential, request))
    return device
