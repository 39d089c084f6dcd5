"""The methods: one registry of what exists, and the chooser of which a user's MFA step offers.

:data:`REGISTRY` names every method the app knows once (its wire name, its model name, its label,
the modules of its endpoints and pages); ``PUSHMFA_METHODS`` says which of them exist on this site (allauth's
``MFA_SUPPORTED_TYPES``): only those get URLs, pages and a place in the chooser.

The chooser follows the seed's ``getMFAChallengeOptions``: the user's active credentials, the
primary one first, then ``PUSHMFA_METHOD_PRIORITY``. Revoked credentials never appear. Backup codes
are offered only beside a method that authenticates on its own (they are a way back in, not a
method). Labels are generic ("Push notification"): the list is shown to a browser that has only
done the password step, so it must not reveal device names.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

from ..app_settings import app_settings
from ..models import BackupCode, MFACredential


@dataclass(frozen=True)
class Method:
    """One second factor. ``name`` is its one spelling on the wire, in the pages and in event details."""

    name: str
    model: str  # MFACredential.Method
    label: Promise
    api: str  # the module of its JSON endpoints (``urlpatterns``, mounted under ``api/``)
    pages: str = ""  # the module of its pages (``urlpatterns``), if it has any of its own
    authenticates: bool = True  # False: a way back in (backup codes), offered only beside another
    code_flow: str = ""  # a typed-code method: the flows module whose verify_login(request, user, code) checks it

    def verify_code(self, request: Any, user: Any, code: Any) -> MFACredential:
        """A typed-code method's ``verify_login``: the credential, or InvalidCode / RateLimited."""
        return import_string(f"{self.code_flow}.verify_login")(request, user, code)


REGISTRY: dict[str, Method] = {
    m.name: m
    for m in (
        Method("push", MFACredential.Method.PUSH, _("Push notification"), api="django_pushmfa.api.push"),
        Method(
            "totp",
            MFACredential.Method.TOTP,
            _("Authenticator app code"),
            api="django_pushmfa.api.totp",
            pages="django_pushmfa.totp.urls",
            code_flow="django_pushmfa.totp.internal.flows",
        ),
        Method(
            "webauthn",
            MFACredential.Method.WEBAUTHN,
            _("Security key or passkey"),
            api="django_pushmfa.api.webauthn",
            pages="django_pushmfa.webauthn.urls",
        ),
        Method(
            "backup_code",
            MFACredential.Method.BACKUP_CODES,
            _("Backup code"),
            api="django_pushmfa.api.backup_codes",
            pages="django_pushmfa.backup_codes.urls",
            authenticates=False,
            code_flow="django_pushmfa.backup_codes.internal.flows",
        ),
    )
}
NAMES: list[str] = list(REGISTRY)
_BY_MODEL: dict[str, Method] = {m.model: m for m in REGISTRY.values()}
# Names a site may use in PUSHMFA_METHOD_PRIORITY / PUSHMFA_METHODS beside the registry's own.
ALIASES: dict[str, str] = {"passkey": "webauthn", "backup_codes": "backup_code", "security_key": "webauthn"}


def _canonical(names: Any) -> list[str]:
    out: list[str] = []
    for name in names or []:
        canonical = ALIASES.get(str(name), str(name))
        if canonical in REGISTRY and canonical not in out:
            out.append(canonical)
    return out


def enabled() -> list[Method]:
    """The methods ``PUSHMFA_METHODS`` turns on, in registry order (unknown names are a system check)."""
    names = set(_canonical(app_settings.METHODS))
    return [m for m in REGISTRY.values() if m.name in names]


def get(name: str) -> Method | None:
    """An enabled method by its name; None for an unknown or disabled one."""
    method = REGISTRY.get(name)
    return method if method is not None and method in enabled() else None


def name_of(model_method: str) -> str:
    """The method's name for an ``MFACredential.method`` value (the value itself when unknown)."""
    method = _BY_MODEL.get(model_method)
    return method.name if method is not None else model_method


def label_of(name: str) -> Any:
    method = REGISTRY.get(name)
    return method.label if method is not None else name


@dataclass(frozen=True)
class MethodOption:
    """One entry of the chooser. ``method`` is a method name (push, totp, webauthn, backup_code)."""

    method: str
    label: str | Promise
    is_primary: bool

    def as_json(self) -> dict[str, Any]:
        return {"method": self.method, "label": str(self.label), "is_primary": self.is_primary}


def priority_order() -> list[str]:
    """``PUSHMFA_METHOD_PRIORITY`` as enabled method names, unknown names dropped, then any left out."""
    names = [m.name for m in enabled()]
    order = [name for name in _canonical(app_settings.METHOD_PRIORITY) if name in names]
    order.extend(name for name in names if name not in order)
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
    order = priority_order()
    available: set[str] = set()
    primary: str | None = None
    for model_method, is_primary, token_dead_at in rows:
        method = name_of(model_method)
        if method not in order:
            continue
        if method == "push" and token_dead_at is not None:
            continue
        available.add(method)
        if is_primary and primary is None:
            primary = method
    if not any(REGISTRY[m].authenticates for m in available):
        return []
    if "backup_code" in available and not BackupCode.objects.filter(
        user=user, used_at__isnull=True, credential__revoked_at__isnull=True
    ).exists():
        available.discard("backup_code")
    if primary not in available:
        primary = None
    ordered = [m for m in order if m in available]
    if primary is not None:
        ordered.remove(primary)
        ordered.insert(0, primary)
    return [MethodOption(method=m, label=REGISTRY[m].label, is_primary=(m == primary)) for m in ordered]
