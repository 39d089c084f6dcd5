"""Request-level WebAuthn ceremonies, shared by the pages (through ``webauthn.js``) and the JSON API.

- Registration (a logged-in user): :func:`begin_registration` → creation options,
  :func:`complete_registration` → a new active credential. ``passkey=True`` asks for a discoverable
  credential with user verification (and requires UV in the response); otherwise a security key.
- Authentication (the MFA step): :func:`begin_authentication` → request options listing the user's
  keys, :func:`verify_login` → the verified credential. Pure verification: the caller then calls
  :func:`django_pushmfa.internal.login.finish_step`, the one writer of ``last_used_at``.
"""
from __future__ import annotations

import logging
from typing import Any, NoReturn

from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import (
    base64url_to_bytes,
    bytes_to_base64url,
    parse_authentication_credential_json,
    parse_registration_credential_json,
)
from webauthn.helpers.options_to_json_dict import options_to_json_dict
from webauthn.helpers.structs import (
    AttestationConveyancePreference,
    AuthenticatorSelectionCriteria,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from ... import services
from ...models import MFACredential, SecurityEvent, WebAuthnKey
from . import auth
from .auth import MalformedCredential, WebAuthnFailed

logger = logging.getLogger("django_pushmfa")


# --- registration --------------------------------------------------------------------------------
def begin_registration(request: HttpRequest, user: Any, *, passkey: bool = False) -> dict[str, Any]:
    """Creation options (JSON form) for ``navigator.credentials.create()``; the challenge waits in the session."""
    if passkey:
        selection = AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED, user_verification=UserVerificationRequirement.REQUIRED
        )
    else:
        selection = AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.DISCOURAGED, user_verification=UserVerificationRequirement.DISCOURAGED
        )
    display_name = (getattr(user, "get_full_name", lambda: "")() or "").strip() or user.get_username()
    options = generate_registration_options(
        rp_id=auth.rp_id(request),
        rp_name=auth.rp_name(request),
        user_name=user.get_username(),
        user_id=auth.user_handle(user),
        user_display_name=display_name,
        timeout=auth.timeout_ms(),
        attestation=AttestationConveyancePreference.NONE,
        authenticator_selection=selection,
        exclude_credentials=[auth.descriptor(k) for k in auth.active_keys(user)],
    )
    auth.store_state(request, auth.REGISTRATION_SESSION_KEY, user, options.challenge, passkey=bool(passkey))
    return options_to_json_dict(options)


def complete_registration(request: HttpRequest, user: Any, data: Any, *, label: str = "") -> MFACredential:
    """Verify the attestation against the session's challenge and activate the new key.

    Raises :class:`MalformedCredential` for a body that is not a registration response and
    :class:`WebAuthnFailed` for one that does not verify (the challenge is spent either way once read).
    """
    try:
        parsed = parse_registration_credential_json(data)
    except Exception as exc:  # the parser's errors vary (JSON structure, base64, enum values)
        raise MalformedCredential(str(exc))
    state = auth.pop_state(request, auth.REGISTRATION_SESSION_KEY, user)
    passkey = bool(state.get("passkey"))
    try:
        verified = verify_registration_response(
            credential=parsed,
            expected_challenge=base64url_to_bytes(state["challenge"]),
            expected_rp_id=auth.rp_id(request),
            expected_origin=auth.expected_origins(request),
            require_user_verification=passkey,
        )
    except Exception as exc:  # InvalidRegistrationResponse, and CBOR/key errors from hostile input
        _fail(request, user, "registration", exc)
    key_id_b64 = bytes_to_base64url(verified.credential_id)
    default_label = _("Passkey") if passkey else _("Security key")
    try:
        with transaction.atomic():
            credential = services.add_credential(
                user, MFACredential.Method.WEBAUTHN, label=label or str(default_label), request=request
            )
            WebAuthnKey.objects.create(
                credential=credential,
                key_id=verified.credential_id,
                key_id_b64=key_id_b64,
                public_key=verified.credential_public_key,
                sign_count=verified.sign_count,
                transports=[t.value for t in (parsed.response.transports or [])],
                aaguid=str(verified.aaguid or ""),
                is_passkey=passkey,
                backed_up=bool(verified.credential_backed_up),
            )
    except IntegrityError as exc:  # this authenticator credential is already registered
        _fail(request, user, "registration", exc)
    services.notify_credential_added(credential, request)
    return credential


# --- authentication ------------------------------------------------------------------------------
def begin_authentication(request: HttpRequest, user: Any) -> dict[str, Any]:
    """Request options (JSON form) for ``navigator.credentials.get()`` with the user's keys allowed."""
    keys = auth.active_keys(user)
    if not keys:
        raise WebAuthnFailed(_("No security key or passkey is registered."))
    # Required when every key is a passkey; otherwise preferred (and required per key at verify time).
    all_passkeys = all(k.is_passkey for k in keys)
    uv = UserVerificationRequirement.REQUIRED if all_passkeys else UserVerificationRequirement.PREFERRED
    options = generate_authentication_options(
        rp_id=auth.rp_id(request),
        timeout=auth.timeout_ms(),
        allow_credentials=[auth.descriptor(k) for k in keys],
        user_verification=uv,
    )
    auth.store_state(request, auth.AUTHENTICATION_SESSION_KEY, user, options.challenge)
    return options_to_json_dict(options)


def verify_login(request: HttpRequest, user: Any, data: Any) -> MFACredential:
    """Verify an assertion for ``user``'s MFA step; returns the key's credential.

    Checks origin, RP id, the session's single-use challenge, the signature, user verification for
    passkeys, and refuses a sign count that did not increase (a cloned key), recording
    ``webauthn_sign_count_regression``. The new count is stored with one conditional UPDATE.
    """
    try:
        parsed = parse_authentication_credential_json(data)
    except Exception as exc:
        raise MalformedCredential(str(exc))
    state = auth.pop_state(request, auth.AUTHENTICATION_SESSION_KEY, user)
    key = (
        WebAuthnKey.objects.select_related("credential")
        .filter(
            key_id_b64=bytes_to_base64url(parsed.raw_id),
            credential__user=user,
            credential__revoked_at__isnull=True,
            credential__method="webauthn",
        )
        .first()
    )
    if key is None:
        _fail(request, user, "unknown_key")
    stored = int(key.sign_count)
    try:
        # The library's own counter check is bypassed (current count 0) so a regression can be
        # told apart from a forgery below — and only once the signature has verified.
        verified = verify_authentication_response(
            credential=parsed,
            expected_challenge=base64url_to_bytes(state["challenge"]),
            expected_rp_id=auth.rp_id(request),
            expected_origin=auth.expected_origins(request),
            credential_public_key=bytes(key.public_key),
            credential_current_sign_count=0,
            require_user_verification=key.is_passkey,
        )
    except Exception as exc:
        _fail(request, user, "verification", exc, credential=key.credential)
    new = int(verified.new_sign_count)
    if new or stored:
        updated = WebAuthnKey.objects.filter(pk=key.pk, sign_count__lt=new).update(
            sign_count=new, backed_up=bool(verified.credential_backed_up)
        )
        if not updated:
            services.record_event(
                user,
                SecurityEvent.Kind.SIGN_COUNT_REGRESSION,
                request=request,
                credential=key.credential,
                stored_sign_count=stored,
                received_sign_count=new,
            )
            _fail(request, user, "sign_count_regression", credential=key.credential)
    return key.credential


def _fail(
    request: HttpRequest,
    user: Any,
    reason: str,
    exc: BaseException | None = None,
    *,
    credential: MFACredential | None = None,
) -> NoReturn:
    if exc is not None:
        # The library's message names what failed (origin, RP id, challenge); it holds no secret.
        logger.info("pushmfa: WebAuthn %s failed for user %s: %s", reason, getattr(user, "pk", None), exc)
    services.record_event(
        user, SecurityEvent.Kind.MFA_FAILED, request=request, credential=credential, method="webauthn", reason=reason
    )
    raise WebAuthnFailed(reason)
