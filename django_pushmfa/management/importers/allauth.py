"""From django-allauth's ``mfa`` app: TOTP authenticators, recovery codes (the unused ones) and WebAuthn
authenticators (security keys and passkeys; the relying-party id must stay the same, as it does when
both serve the same domain)."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.apps import apps

from ...models import MFACredential
from . import Imported, Skipped, backup_code_set, default_label


def _model() -> Any:
    if not apps.is_installed("allauth.mfa"):
        raise LookupError('django-allauth\'s MFA app is not in INSTALLED_APPS ("allauth.mfa").')
    return apps.get_model("mfa", "Authenticator")


def user_ids() -> set[Any]:
    return set(_model().objects.values_list("user_id", flat=True))


def credentials(user: Any) -> Iterator[Imported | Skipped]:
    from allauth.mfa import app_settings as mfa_settings
    from allauth.mfa.utils import decrypt

    model = _model()
    for authenticator in model.objects.filter(user=user).order_by("pk"):
        source_id = f"mfa.authenticator/{authenticator.pk}"
        if authenticator.type == model.Type.TOTP:
            yield Imported(
                MFACredential.Method.TOTP,
                source_id,
                label=default_label(MFACredential.Method.TOTP),
                totp_secret=decrypt(authenticator.data["secret"]),
                totp_digits=mfa_settings.TOTP_DIGITS,
                totp_period=mfa_settings.TOTP_PERIOD,
            )
        elif authenticator.type == model.Type.RECOVERY_CODES:
            codes = authenticator.wrap().get_unused_codes()
            if codes:
                yield backup_code_set(source_id, codes)
        elif authenticator.type == model.Type.WEBAUTHN:
            yield _webauthn(authenticator, source_id)
        else:
            yield Skipped(source_id, f"allauth authenticator type {authenticator.type!r}")


def _webauthn(authenticator: Any, source_id: str) -> Imported | Skipped:
    from fido2 import cbor
    from webauthn.helpers import bytes_to_base64url

    wrapped = authenticator.wrap()
    data = wrapped.authenticator_data
    attested = data.credential_data
    if attested is None:
        return Skipped(source_id, "WebAuthn authenticator without attested credential data")
    transports = authenticator.data["credential"].get("response", {}).get("transports") or []
    return Imported(
        MFACredential.Method.WEBAUTHN,
        source_id,
        label=wrapped.name or default_label(MFACredential.Method.WEBAUTHN),
        webauthn={
            "key_id": bytes(attested.credential_id),
            "key_id_b64": bytes_to_base64url(bytes(attested.credential_id)),
            "public_key": cbor.encode(dict(attested.public_key)),
            "sign_count": int(data.counter),
            "transports": list(transports),
            "aaguid": str(attested.aaguid),
            "is_passkey": bool(wrapped.is_passwordless),
            "backed_up": bool(data.flags & data.FLAG.BACKUP_STATE),
        },
    )
