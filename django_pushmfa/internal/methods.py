"""The method chooser: which second factors the MFA step offers a user, in which order.

Follows the seed's ``getMFAChallengeOptions``: the user's active credentials, the primary one first,
then ``PUSHMFA_METHOD_PRIORITY``. Revoked credentials never appear. Backup codes are offered only
beside a method that authenticates on its own (they are a way back in, not a method). Labels are
generic ("Push notification"): the list is shown to a browser that has only done the password step,
so it must not reveal device names.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _

from ..app_settings import app_settings
from ..models import BackupCode, MFACredential

# The method names of the API and the pages ("backup_code"), and the model's for each.
API_TO_MODEL: dict[str, str] = {
    "push": MFACredential.Method.PUSH,
    "totp": MFACredential.Method.TOTP,
    "webauthn": MFACredential.Method.WEBAUTHN,
    "backup_code": MFACredential.Method.BACKUP_CODES,
}
MODEL_TO_API: dict[str, str] = {model: api for api, model in API_TO_MODEL.items()}
# Names a site may use in PUSHMFA_METHOD_PRIORITY beside the API's own (the seed says "passkey").
PRIORITY_ALIASES: dict[str, str] = {"passkey": "webauthn", "backup_codes": "backup_code", "security_key": "webauthn"}

LABELS: dict[str, Any] = {
    "push": _("Push notification"),
    "totp": _("Authenticator app code"),
    "webauthn": _("Security key or passkey"),
    "backup_code": _("Backup code"),
}


@dataclass(frozen=True)
class MethodOption:
    """One entry of the chooser. ``method`` is an API method name (push, totp, webauthn, backup_code)."""

    method: str
    label: str
    is_primary: bool

    def as_json(self) -> dict[str, Any]:
        return {"method": self.method, "label": str(self.label), "is_primary": self.is_primary}


def priority_order() -> list[str]:
    """``PUSHMFA_METHOD_PRIORITY`` as API method names, unknown names dropped, then any left out."""
    order: list[str] = []
    for name in app_settings.METHOD_PRIORITY or []:
        api_name = PRIORITY_ALIASES.get(str(name), str(name))
        if api_name in LABELS and api_name not in order:
            order.append(api_name)
    order.extend(m for m in LABELS if m not in order)
    return order


def get_mfa_options(user: Any) -> list[MethodOption]:
    """The methods ``user`` can complete the MFA step with: primary first, then the priority order.

    One entry per method (two paired phones are one "push" entry). A push device whose provider
    token is dead is not offered (a push cannot reach it); backup codes only while unused codes
    remain and beside an authenticating method. Two queries.
    """
    if user is None or not getattr(user, "pk", None):
        return []
    rows = list(
        MFACredential.objects.active()
        .for_user(user)
        .values_list("method", "is_primary", "push_device__token_dead_at")
    )
    available: set[str] = set()
    primary: str | None = None
    for model_method, is_primary, token_dead_at in rows:
        method = MODEL_TO_API.get(model_method)
        if method is None:
            continue
        if method == "push" and token_dead_at is not None:
            continue
        available.add(method)
        if is_primary and primary is None:
            primary = method
    authenticating = available - {"backup_code"}
    if not authenticating:
        return []
    if "backup_code" in available and not BackupCode.objects.filter(
        user=user, used_at__isnull=True, credential__revoked_at__isnull=True
    ).exists():
        available.discard("backup_code")
    if primary not in available:
        primary = None
    ordered = [m for m in priority_order() if m in available]
    if primary is not None:
        ordered.remove(primary)
        ordered.insert(0, primary)
    return [MethodOption(method=m, label=LABELS[m], is_primary=(m == primary)) for m in ordered]


def offers(user: Any, method: str) -> bool:
    """Whether the chooser offers ``method`` (an API name) to ``user``."""
    return any(option.method == method for option in get_mfa_options(user))
