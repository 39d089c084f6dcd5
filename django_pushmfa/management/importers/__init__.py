"""``manage.py pushmfa_import``: carry users' existing second factors over from another MFA package, so
they keep signing in with the authenticator app, security keys and codes they already have.

Each source module yields :class:`Imported` credentials per user; :func:`save` stores them through
the service layer (``credential_added`` + ``credential_imported`` SecurityEvents, no alert e-mails:
nothing new was enrolled). A credential already imported (same source and source id, found in the
event log) is skipped, so the command can run again. The source package's rows are left untouched.
"""
from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from ... import services
from ...adapter import get_adapter
from ...backup_codes.internal import auth as backup_auth
from ...models import BackupCode, MFACredential, SecurityEvent, TOTPDevice, WebAuthnKey

SOURCES = ("django-otp", "allauth")


@dataclass
class Imported:
    """One credential from the source package, in this package's terms."""

    method: str  # an MFACredential.Method value
    source_id: str  # the source row's id: what makes a second run skip it
    label: str = ""
    totp_secret: str = ""  # base32
    totp_digits: int = 6
    totp_period: int = 30
    totp_last_step: int = -1
    backup_codes: list[str] = field(default_factory=list)  # unused codes, plain
    webauthn: dict[str, Any] = field(default_factory=dict)  # WebAuthnKey field values


@dataclass
class Skipped:
    """A source credential this package cannot take over, and why (shown to the operator)."""

    source_id: str
    reason: str


def hex_to_base32(hex_key: str) -> str:
    """django-otp stores TOTP keys as hex; pyotp and authenticator apps use base32."""
    return base64.b32encode(bytes.fromhex(hex_key)).decode("ascii").rstrip("=")


def source_module(source: str) -> Any:
    if source == "django-otp":
        from . import django_otp

        return django_otp
    if source == "allauth":
        from . import allauth

        return allauth
    raise ValueError(f"unknown source {source!r}; choose from {', '.join(SOURCES)}")


def already_imported(user: Any, source: str, source_id: str) -> bool:
    return SecurityEvent.objects.filter(
        user=user, kind=SecurityEvent.Kind.CREDENTIAL_IMPORTED, detail__source=source, detail__source_id=source_id
    ).exists()


def save(user: Any, source: str, item: Imported) -> MFACredential:
    """Store one imported credential with its method's data row, in one transaction."""
    with transaction.atomic():
        credential = services.add_credential(user, item.method, label=item.label)
        if item.method == MFACredential.Method.TOTP:
            TOTPDevice.objects.create(
                credential=credential,
                encrypted_secret=get_adapter().encrypt_secret(item.totp_secret),
                digits=item.totp_digits,
                period=item.totp_period,
                last_used_step=item.totp_last_step,
            )
        elif item.method == MFACredential.Method.BACKUP_CODES:
            codes = [normalized for code in item.backup_codes if (normalized := backup_auth.normalize(code))]
            BackupCode.objects.bulk_create(
                [BackupCode(user=user, credential=credential, code_hash=backup_auth.code_hash(user, c)) for c in codes]
            )
        elif item.method == MFACredential.Method.WEBAUTHN:
            WebAuthnKey.objects.create(credential=credential, **item.webauthn)
        else:  # pragma: no cover - the sources yield only the methods above
            raise ValueError(item.method)
        services.record_event(
            user, SecurityEvent.Kind.CREDENTIAL_IMPORTED, credential=credential, source=source,
            source_id=item.source_id, method=item.method,
        )
    return credential


def default_label(method: str) -> str:
    labels: dict[str, str] = {
        MFACredential.Method.TOTP: _("Authenticator app"),
        MFACredential.Method.BACKUP_CODES: _("Backup codes"),
        MFACredential.Method.WEBAUTHN: _("Security key"),
    }
    return labels.get(method, method)


def backup_code_set(source_id: str, codes: list[str]) -> Imported:
    """The unused codes of a source's code set, as one backup-code credential."""
    return Imported(
        MFACredential.Method.BACKUP_CODES,
        source_id,
        label=default_label(MFACredential.Method.BACKUP_CODES),
        backup_codes=codes,
    )


def iter_users(source: str, username: str | None) -> Iterator[Any]:
    """The users with anything to import from ``source`` (or just ``username``)."""
    from django.contrib.auth import get_user_model

    users = get_user_model()._default_manager.filter(pk__in=source_module(source).user_ids())
    if username is not None:
        users = users.filter(**{get_user_model().USERNAME_FIELD: username})
    return users.order_by("pk").iterator()
