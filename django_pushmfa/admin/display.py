"""What the admin shows of a credential: summaries and fingerprints, never a secret.

The push token is a bearer address for the phone (whoever holds it can send it notifications), so
only a short SHA-256 fingerprint of it is shown: enough to tell two devices apart or match a
provider's log, useless to an attacker. TOTP seeds, backup-code hashes and key material are never
rendered at all; public keys are shown as fingerprints for the same "tell them apart" reason.
"""
from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Q
from django.utils import dateformat, formats, timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from ..models import BackupCode, MFACredential

FINGERPRINT_CHARS = 12


def fingerprint(value: str | bytes | memoryview | None) -> str:
    """``sha256:<first 12 hex digits>`` of ``value``; "—" for nothing."""
    if value is None or len(value) == 0:
        return "—"
    data = value.encode() if isinstance(value, str) else bytes(value)
    return "sha256:" + hashlib.sha256(data).hexdigest()[:FINGERPRINT_CHARS]


def user_search_fields(prefix: str = "user__") -> list[str]:
    """Search fields for the user's username (whatever ``USERNAME_FIELD`` is) and email."""
    user_model = get_user_model()
    fields = [prefix + user_model.USERNAME_FIELD]
    email_field = user_model.get_email_field_name()
    try:
        user_model._meta.get_field(email_field)
    except Exception:  # a custom user model without an email field
        return fields
    if email_field != user_model.USERNAME_FIELD:
        fields.append(prefix + email_field)
    return fields


def related(credential: MFACredential, name: str) -> Any:
    """The credential's method-specific row, or None when it has none."""
    try:
        return getattr(credential, name)
    except ObjectDoesNotExist:
        return None


def status_text(credential: MFACredential) -> str:
    return _("Active") if credential.revoked_at is None else _("Revoked")


def device_summary(credential: MFACredential) -> str:
    """One line for the list: platform and name of a push device, key kind of a security key."""
    if credential.method == MFACredential.Method.PUSH:
        device = related(credential, "push_device")
        if device is None:
            return "—"
        parts = [device.get_platform_display(), device.name or _("unnamed phone")]
        if device.token_dead_at:
            parts.append(_("token dead"))
        return " · ".join(parts)
    if credential.method == MFACredential.Method.WEBAUTHN:
        key = related(credential, "webauthn_key")
        if key is None:
            return "—"
        return _("Passkey") if key.is_passkey else _("Security key")
    return ""


def compact_time(when: datetime | None) -> str:
    """"2026-12-05 06:27" in the current time zone: narrow enough for a change list column."""
    if when is None:
        return "—"
    return dateformat.format(timezone.localtime(when) if timezone.is_aware(when) else when, "Y-m-d H:i")


def credential_kind(credential: MFACredential) -> str:
    """"Push notification (FCM)": the method and what the device adds, without repeating the label
    (a paired phone's name is usually its label)."""
    extra = [p for p in device_summary(credential).split(" · ") if p and p not in ("—", credential.label)]
    kind = str(credential.get_method_display())
    return f"{kind} ({', '.join(extra)})" if extra else kind


def credential_line(credential: MFACredential) -> str:
    """"Pixel 8 — Push notification (FCM)": each thing said once (the reset page's list)."""
    kind = credential_kind(credential)
    label = credential.label
    if not label or label == credential.get_method_display():  # "Backup codes — Backup codes"
        return kind
    return f"{label} — {kind}"


def backup_code_counts(user: Any) -> tuple[int, int]:
    """(unused, total) backup codes of ``user`` on active backup-code credentials."""
    active = BackupCode.objects.filter(user=user).filter(
        Q(credential__isnull=True) | Q(credential__revoked_at__isnull=True)
    )
    return active.filter(used_at__isnull=True).count(), active.count()


def when(value: datetime | None) -> str:
    """A datetime in the site's time zone and format; "—" for none."""
    if value is None:
        return "—"
    return formats.localize(timezone.localtime(value) if timezone.is_aware(value) else value)


def _rows(rows: list[tuple[str, Any]]) -> SafeString:
    cells = ((k, "—" if v in (None, "") else when(v) if isinstance(v, datetime) else v) for k, v in rows)
    body = format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", cells)
    return format_html('<table class="pushmfa-details">{}</table>', body)


def method_details(credential: MFACredential) -> SafeString:
    """The method-specific data a support person needs, as an HTML table without any secret."""
    method = credential.method
    if method == MFACredential.Method.PUSH:
        device = related(credential, "push_device")
        if device is None:
            return _rows([(_("Push device"), _("missing"))])
        return _rows(
            [
                (_("Platform"), device.get_platform_display()),
                (_("Device name"), device.name),
                (_("Last seen"), device.last_seen_at),
                (_("Token reported dead"), device.token_dead_at or _("no")),
                (_("Push token"), fingerprint(device.push_token)),
                (_("Key"), f"{device.get_key_type_display()}, {fingerprint(device.public_key)}"),
            ]
        )
    if method == MFACredential.Method.TOTP:
        totp = related(credential, "totp_device")
        rows = [(_("Secret"), _("hidden (never shown after enrollment)"))]
        if totp is not None:
            rows += [(_("Digits"), totp.digits), (_("Period"), _("%d seconds") % totp.period)]
        return _rows(rows)
    if method == MFACredential.Method.WEBAUTHN:
        key = related(credential, "webauthn_key")
        if key is None:
            return _rows([(_("Security key"), _("missing"))])
        return _rows(
            [
                (_("Kind"), _("Passkey") if key.is_passkey else _("Security key")),
                (_("Backed up (synced)"), _("yes") if key.backed_up else _("no")),
                (_("AAGUID"), key.aaguid),
                (_("Transports"), ", ".join(key.transports or [])),
                (_("Signature counter"), key.sign_count),
                (_("Credential id"), fingerprint(key.key_id_b64)),
            ]
        )
    if method == MFACredential.Method.BACKUP_CODES:
        codes = credential.backup_codes.all()
        unused = sum(1 for c in codes if c.used_at is None)
        return _rows([(_("Unused codes"), unused), (_("Codes in this set"), len(codes))])
    return _rows([])
