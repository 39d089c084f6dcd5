"""A logged-in user's view of their own credentials: listing, revoking, choosing the primary.

The account page and the account API both call these, so they never diverge.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.http import Http404, HttpRequest

from .. import services
from ..models import BackupCode, MFACredential
from .methods import REGISTRY, name_of


@dataclass(frozen=True)
class CredentialSummary:
    """What the owner sees of one credential. No secret, no key material, no push token."""

    id: str
    method: str  # API method name: push, totp, webauthn, backup_code
    label: str
    is_primary: bool
    created_at: datetime
    last_used_at: datetime | None
    can_be_primary: bool
    remaining_codes: int | None = None  # backup codes only

    @property
    def method_label(self) -> str:
        """The method's type in words ("Push notification", "Security key or passkey"...)."""
        return str(REGISTRY[self.method].label if self.method in REGISTRY else self.method)

    def as_json(self) -> dict[str, Any]:
        data = {
            "id": self.id,
            "method": self.method,
            "label": self.label,
            "is_primary": self.is_primary,
            "created_at": self.created_at.isoformat(),
            "last_used_at": self.last_used_at.isoformat() if self.last_used_at else None,
        }
        if self.remaining_codes is not None:
            data["remaining_codes"] = self.remaining_codes
        return data


def list_credentials(user: Any) -> list[CredentialSummary]:
    """The user's active credentials, primary first then oldest first. Revoked ones are not listed."""
    credentials = list(
        MFACredential.objects.active()
        .for_user(user)
        .select_related("push_device")
        .order_by("-is_primary", "created_at")
    )
    remaining: dict[Any, int] = {}
    if any(c.method == MFACredential.Method.BACKUP_CODES for c in credentials):
        for code in BackupCode.objects.filter(user=user, used_at__isnull=True).values_list("credential_id", flat=True):
            remaining[code] = remaining.get(code, 0) + 1
    summaries = []
    for credential in credentials:
        method = name_of(credential.method)
        summaries.append(
            CredentialSummary(
                id=str(credential.pk),
                method=method,
                label=display_label(credential),
                is_primary=credential.is_primary,
                created_at=credential.created_at,
                last_used_at=credential.last_used_at,
                can_be_primary=method != "backup_code" and not credential.is_primary,
                remaining_codes=remaining.get(credential.pk, 0) if method == "backup_code" else None,
            )
        )
    return summaries


def display_label(credential: MFACredential) -> str:
    """The name the owner knows a credential by: its label, a paired phone's name, else its type."""
    method = name_of(credential.method)
    label = credential.label
    if not label and method == "push":
        device = getattr(credential, "push_device", None)
        label = getattr(device, "name", "") or ""
    return label or str(REGISTRY[method].label if method in REGISTRY else credential.get_method_display())


def get_own_credential(user: Any, credential_id: str) -> MFACredential:
    """The user's own active credential with this id; ``Http404`` for anything else.

    Malformed ids, unknown ids, revoked ones and other users' ids are indistinguishable.
    """
    try:
        pk = uuid.UUID(str(credential_id))
    except ValueError:
        raise Http404("not found")
    credential = MFACredential.objects.active().for_user(user).filter(pk=pk).first()
    if credential is None:
        raise Http404("not found")
    return credential


def revoke_own_credential(request: HttpRequest, credential_id: str) -> MFACredential:
    """Revoke one of the logged-in user's credentials (records ``credential_revoked``, alerts)."""
    credential = get_own_credential(request.user, credential_id)
    if not services.revoke_credential(credential, actor=request.user, reason="revoked by the user", request=request):
        raise Http404("not found")  # revoked concurrently
    return credential


def make_primary(request: HttpRequest, credential_id: str) -> MFACredential:
    """Make one of the user's credentials primary; ``ValueError`` for backup codes."""
    credential = get_own_credential(request.user, credential_id)
    services.set_primary(credential, request=request)
    return credential
