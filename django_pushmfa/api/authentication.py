"""DRF authentication: the phone app's ``PushMFA-Signature`` header (see docs/device-api.md), and
the ``X-Session-Token`` of app clients that log in (:class:`SessionTokenAuthentication`).

``Authorization: PushMFA-Signature device="<id>", ts="<unix s>", nonce="<16..128 chars>", sig="<base64>"``

The signature covers ``PUSHMFA-V1\\n<METHOD>\\n<path?query>\\n<ts>\\n<nonce>\\n<hex sha256(body)>``
(:func:`~django_pushmfa.internal.signing.canonical_message`). Any failure is ``401 invalid_signature``
with the same message, so a caller never learns which part failed; a request without the header
(or with another scheme) is ``401 not_authenticated``. Both carry ``WWW-Authenticate: PushMFA-Signature``.

Refused devices: unknown ids, revoked credentials, credentials that are not push devices, and
devices of inactive users ("dead" in the contract's sense). A device whose *push token* the
provider reported dead is still accepted: it has to be able to ``PUT`` its new push token.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import re
import time
import uuid
from typing import Any

from django.core.cache import caches
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import BasePermission

from ..app_settings import app_settings
from ..internal import app_sessions, pending
from ..internal.signing import canonical_message, verify_signature
from ..models import MFACredential, PushDevice
from .exceptions import APIError, InvalidSignature, MFARequired, check_body_size

logger = logging.getLogger("django_pushmfa")

SCHEME = "PushMFA-Signature"
PARAMS = ("device", "ts", "nonce", "sig")
# One ``name="value"`` pair; values never contain quotes or backslashes in this scheme.
_PARAM_RE = re.compile(r'([a-z]+)="([^"\\]*)"')
_SEPARATOR_RE = re.compile(r"[ \t]*,[ \t]*")
NONCE_RE = re.compile(r"[A-Za-z0-9._~+/=-]{16,128}")
TS_RE = re.compile(r"[0-9]{1,12}")
SIG_RE = re.compile(r"[A-Za-z0-9+/]{4,256}={0,2}")
NONCE_CACHE_PREFIX = "pushmfa:sig-nonce:"


def parse_header(value: str) -> dict[str, str] | None:
    """Parse the parameters of a ``PushMFA-Signature`` header value (scheme included), strictly.

    Returns ``{"device", "ts", "nonce", "sig"}`` or None when the value is malformed: each of the
    four parameters exactly once (any order), quoted, comma-separated, nothing else.
    """
    scheme, _sep, rest = value.partition(" ")
    if scheme.lower() != SCHEME.lower() or not rest.strip():
        return None
    params: dict[str, str] = {}
    pos, rest = 0, rest.strip()
    while True:
        match = _PARAM_RE.match(rest, pos)
        if match is None:
            return None
        name, val = match.groups()
        if name not in PARAMS or name in params:
            return None
        params[name] = val
        pos = match.end()
        if pos == len(rest):
            break
        sep = _SEPARATOR_RE.match(rest, pos)
        if sep is None:
            return None
        pos = sep.end()
    if set(params) != set(PARAMS):
        return None
    return params


def request_targets(request: Any) -> list[str]:
    """The path-with-query strings a signature may cover for this request.

    First ``request.get_full_path()`` (Django's path, re-quoted, plus the raw query string): the
    request line exactly for the plain-ASCII paths of this app. Where the server also passes the
    request target untouched (gunicorn's ``RAW_URI``, uWSGI's ``REQUEST_URI``, ASGI's ``raw_path``),
    that is accepted too, so a client that percent-encodes differently still verifies.
    """
    targets = [request.get_full_path()]
    raw: str | None = None
    scope = getattr(request, "scope", None)
    if isinstance(scope, dict) and isinstance(scope.get("raw_path"), bytes | bytearray):
        raw = bytes(scope["raw_path"]).decode("latin-1")
        query = scope.get("query_string") or b""
        if query:
            raw += "?" + bytes(query).decode("latin-1")
    else:
        meta_raw = request.META.get("RAW_URI") or request.META.get("REQUEST_URI")
        if isinstance(meta_raw, str):
            raw = meta_raw
    if raw and raw.startswith("/") and raw not in targets:
        targets.append(raw)
    return targets


class DeviceSignatureAuthentication(BaseAuthentication):
    """Authenticates a paired phone. ``request.user`` is its owner, ``request.auth`` the PushDevice."""

    keyword = SCHEME

    def authenticate(self, request: Any) -> tuple[Any, PushDevice] | None:
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header or header.partition(" ")[0].lower() != SCHEME.lower():
            return None  # no credentials of this scheme: the permission answers not_authenticated
        params = parse_header(header)
        if params is None:
            raise InvalidSignature()
        device_id = self._device_id(params["device"])
        ts, nonce, signature = self._check_fields(params)
        body = self._body(request)

        device = self._load_device(device_id)
        django_request = getattr(request, "_request", request)
        if not any(
            verify_signature(
                device.key_type,
                device.public_key,
                signature,
                canonical_message(request.method, target, ts, nonce, body),
            )
            for target in request_targets(django_request)
        ):
            raise InvalidSignature()
        self._remember_nonce(device_id, nonce, int(ts))
        user = device.credential.user
        return user, device

    def authenticate_header(self, request: Any) -> str:
        return SCHEME

    # --- steps ---------------------------------------------------------------------------------
    @staticmethod
    def _device_id(raw: str) -> uuid.UUID:
        """The canonical 36-character form only (``uuid.UUID`` would also take braces, URNs...)."""
        try:
            device_id = uuid.UUID(raw)
        except (ValueError, AttributeError):
            raise InvalidSignature()
        if str(device_id) != raw.lower():
            raise InvalidSignature()
        return device_id

    @staticmethod
    def _check_fields(params: dict[str, str]) -> tuple[str, str, bytes]:
        ts, nonce, sig = params["ts"], params["nonce"], params["sig"]
        if not TS_RE.fullmatch(ts) or not NONCE_RE.fullmatch(nonce) or not SIG_RE.fullmatch(sig):
            raise InvalidSignature()
        # Checked before any database or cache work: stale captures are refused cheaply.
        if abs(time.time() - int(ts)) > int(app_settings.SIGNATURE_SKEW):
            raise InvalidSignature()
        try:
            signature = base64.b64decode(sig, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidSignature()
        return ts, nonce, signature

    @staticmethod
    def _body(request: Any) -> bytes:
        check_body_size(request)
        return request.body or b""

    @staticmethod
    def _load_device(device_id: uuid.UUID) -> PushDevice:
        device = (
            PushDevice.objects.select_related("credential", "credential__user").filter(credential_id=device_id).first()
        )
        if (
            device is None
            or device.credential.revoked_at is not None
            or device.credential.method != MFACredential.Method.PUSH
            or not getattr(device.credential.user, "is_active", True)
        ):
            raise InvalidSignature()
        return device

    @staticmethod
    def _remember_nonce(device_id: uuid.UUID, nonce: str, ts: int) -> None:
        """Accept ``nonce`` once per device for twice the skew (the longest a ``ts`` stays valid),
        and only for a request signed after the nonce store's epoch (see :func:`remember_nonce`)."""
        key = NONCE_CACHE_PREFIX + hashlib.sha256(f"{device_id}:{nonce}".encode()).hexdigest()
        try:
            added = remember_nonce(key, ts, 2 * int(app_settings.SIGNATURE_SKEW))
        except Exception:
            added = None
        if added is None:
            # Without the cache (raising, or answering nothing under django-redis IGNORE_EXCEPTIONS)
            # a replay cannot be detected: fail closed.
            logger.warning("pushmfa: nonce cache unavailable; refusing a signed device request", exc_info=True)
            raise APIError("service_unavailable", _("The MFA service is temporarily unavailable."), 503)
        if not added:
            raise InvalidSignature()


# The nonce store's epoch: since when it holds every nonce it accepted. A store that lost its data
# (a Redis restart without persistence) has none; a request signed before the epoch is refused: the
# lost store may have seen it. On Redis the epoch is the server's start (``INFO`` uptime, read once
# after a restart), so requests signed after the restart pass however slow their network; on other
# caches it is the moment the empty store was noticed, less a second for a request in flight.
NONCE_EPOCH_KEY = "pushmfa:nonce-epoch"
EPOCH_GRACE = 1
# KEYS: epoch, nonce. ARGV: the request's ts, the nonce's TTL.
# Returns 1 (new nonce), 0 (seen nonce), -1 (signed before the epoch) or -2 (no epoch yet).
NONCE_SCRIPT = """
local epoch = redis.call('GET', KEYS[1])
if not epoch then return -2 end
if tonumber(ARGV[1]) < tonumber(epoch) then return -1 end
if redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[2]) then return 1 end
return 0
"""
_nonce_script: Any = None


def remember_nonce(key: str, ts: int, ttl: int) -> bool | None:
    """Record nonce ``key`` of a request signed at ``ts``: True when new and signed after the store's
    epoch, False otherwise, None when the cache answered nothing. One round trip on Redis (two more,
    once, after the server restarted)."""
    from ..internal import redis_client

    alias = app_settings.CACHE_ALIAS
    cache = caches[alias]
    if redis_client.is_redis_alias(alias):
        global _nonce_script
        if _nonce_script is None:
            from redis.commands.core import Script

            # redis-py's hint omits None; the client is passed on each call.
            _nonce_script = Script(None, NONCE_SCRIPT.encode())  # type: ignore[arg-type]
        client = redis_client.raw_client(alias)
        keys = [cache.make_key(NONCE_EPOCH_KEY), cache.make_key(key)]
        result = int(_nonce_script(keys=keys, args=[ts, ttl], client=client))
        if result == -2:
            started = int(time.time()) - int(client.info("server")["uptime_in_seconds"]) - EPOCH_GRACE
            client.set(keys[0], started, nx=True)
            result = int(_nonce_script(keys=keys, args=[ts, ttl], client=client))
        return result == 1
    epoch = cache.get(NONCE_EPOCH_KEY)
    if epoch is None:
        cache.add(NONCE_EPOCH_KEY, int(time.time()) - EPOCH_GRACE, None)
        epoch = cache.get(NONCE_EPOCH_KEY)
        if epoch is None:
            return None
    if ts < int(epoch):
        return False
    return cache.add(key, 1, timeout=ttl)


class IsSignedDevice(BasePermission):
    """The request was authenticated by :class:`DeviceSignatureAuthentication`."""

    def has_permission(self, request: Any, view: Any) -> bool:
        return isinstance(request.auth, PushDevice)


# --- app clients: X-Session-Token ---------------------------------------------------------------------
class SessionTokenAuthentication(BaseAuthentication):
    """``X-Session-Token`` for the site's own DRF views (docs/integration.md, "API clients").

    A token of a fully logged-in app session is that user (``request.auth`` is the session); a
    request without the header is left to the view's other authentication classes. A token whose
    MFA step is not done is refused with ``403 mfa_required``; an unknown, ended or browser session,
    or a user that may no longer log in, with ``401 not_authenticated``. The header is never "fallen
    back" from to a cookie.
    """

    keyword = app_sessions.HEADER

    def authenticate(self, request: Any) -> tuple[Any, Any] | None:
        token = app_sessions.token_from(request._request)
        if token is None:
            return None
        try:
            session = app_sessions.load(token)
        except app_sessions.InvalidSessionToken:
            raise SessionTokenRefused()
        if session.get(pending.PENDING_KEY) is not None:
            raise MFARequired()
        user = app_sessions.user_of(session)
        if not user.is_authenticated:  # logged out, deactivated, password changed since
            raise SessionTokenRefused()
        return user, session

    def authenticate_header(self, request: Any) -> str | None:  # None in AppSessionAuthentication
        return self.keyword


class AppSessionAuthentication(SessionTokenAuthentication):
    """``X-Session-Token`` on the app's own browser, account and re-authentication endpoints.

    Puts the token's session on the request in place of the cookie's (the base views save it and
    put the cookie's back, see ``internal.app_sessions``), so the same flows run; a pending
    session is accepted here (the permissions decide, as for a cookie). No CSRF check: a cross-site
    page cannot send the header. ``request.auth`` is :data:`APP_SESSION`.
    """

    def authenticate(self, request: Any) -> tuple[Any, Any] | None:
        try:
            if not app_sessions.authenticate_request(request._request):
                return None
        except app_sessions.InvalidSessionToken:
            raise SessionTokenRefused()
        return request._request.user, APP_SESSION

    def authenticate_header(self, request: Any) -> None:
        return None  # v1: a cookie request without a session stays 403 not_authenticated


# request.auth of a request authenticated by AppSessionAuthentication.
APP_SESSION = "app-session"


class SessionTokenRefused(exceptions.APIException):
    """``401``, whatever the view's first authentication class (DRF turns AuthenticationFailed into a
    403 when that class names no ``WWW-Authenticate`` scheme)."""

    status_code = 401
    # A 401 names its scheme: the app's exception handler reads ``headers``, DRF's ``auth_header``.
    auth_header = app_sessions.HEADER
    headers = {"WWW-Authenticate": app_sessions.HEADER}
    default_detail = _("The session token is unknown or has ended. Log in again.")
    default_code = "not_authenticated"
