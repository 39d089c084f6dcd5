"""The one service layer for MFA state changes. The admin, the API and the flows all call these.

Nothing is hard-deleted: revocation sets ``revoked_at``; every change records a SecurityEvent.
"""
from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from . import signals
from .models import BackupCode, MFACredential, SecurityEvent

logger = logging.getLogger("django_pushmfa")


def client_ip(request: HttpRequest | None) -> str | None:
    """The client's IP as the adapter sees it (override the adapter behind a proxy)."""
    if request is None:
        return None
    from .adapter import get_adapter

    return get_adapter().get_client_ip(request)


def record_event(
    user: Any,
    kind: str,
    *,
    request: HttpRequest | None = None,
    actor: Any = None,
    credential: MFACredential | None = None,
    ip: str | None = None,
    user_agent: str | None = None,
    **detail: Any,
) -> SecurityEvent:
    """Append a SecurityEvent. ``detail`` must hold no secret (codes, keys, tokens)."""
    if request is not None:
        ip = ip or client_ip(request)
        user_agent = user_agent if user_agent is not None else request.META.get("HTTP_USER_AGENT", "")
    event = SecurityEvent.objects.create(
        user=user,
        kind=kind,
        ip=ip or None,
        # A client-sent header: PostgreSQL refuses NUL in text columns (a 500 instead of the answer).
        user_agent=(user_agent or "").replace("\x00", "")[:512],
        actor=actor if (actor is not None and getattr(actor, "pk", None)) else None,
        credential=credential,
        detail=detail,
    )
    logger.info("pushmfa security event %s user=%s", kind, getattr(user, "pk", None))
    signals.security_event_recorded.send(sender=SecurityEvent, event=event)
    return event


def revoke_credential(
    credential: MFACredential, actor: Any = None, reason: str = "", *, request: HttpRequest | None = None
) -> bool:
    """Revoke one credential (never a hard delete). Returns False when it was already revoked.

    ``actor`` is the staff user who did it, or None / the owner when the user did it themself.
    Revoking a backup-codes credential also invalidates its unused codes.
    """
    with transaction.atomic():
        now = timezone.now()
        updated = MFACredential.objects.filter(pk=credential.pk, revoked_at__isnull=True).update(
            revoked_at=now,
            is_primary=False,
            revoked_by=actor if (actor is not None and getattr(actor, "pk", None)) else None,
            revoke_reason=(reason or "")[:255],
        )
        if not updated:
            return False
        credential.refresh_from_db()
        if credential.method == MFACredential.Method.BACKUP_CODES:
            BackupCode.objects.filter(credential=credential, used_at__isnull=True).update(used_at=now)
        staff_actor = actor if (actor is not None and getattr(actor, "pk", None) != credential.user_id) else None
        record_event(
            credential.user,
            SecurityEvent.Kind.CREDENTIAL_REVOKED,
            request=request,
            actor=staff_actor,
            credential=credential,
            method=credential.method,
            reason=reason,
        )
        _promote_new_primary(credential.user)
    signals.credential_revoked.send(
        sender=MFACredential, user=credential.user, credential=credential, actor=actor, reason=reason
    )
    from .adapter import get_adapter

    get_adapter().send_alert(credential.user, "credential_revoked", {"credential": credential, "reason": reason})
    return True


def reset_mfa(user: Any, actor: Any, reason: str, *, request: HttpRequest | None = None) -> list[MFACredential]:
    """Staff reset: revoke every active credential of ``user`` and invalidate backup codes.

    Refuses (``PermissionError``) a staff member resetting their own MFA.
    """
    if actor is not None and getattr(actor, "pk", None) == user.pk:
        raise PermissionError("Staff cannot reset their own MFA.")
    if not (reason or "").strip():
        raise ValueError("A reason is required.")
    with transaction.atomic():
        now = timezone.now()
        revoked = list(MFACredential.objects.active().for_user(user).select_for_update())
        MFACredential.objects.filter(pk__in=[c.pk for c in revoked]).update(
            revoked_at=now, is_primary=False, revoked_by=actor, revoke_reason=f"MFA reset: {reason}"[:255]
        )
        BackupCode.objects.filter(user=user, used_at__isnull=True).update(used_at=now)
        record_event(
            user,
            SecurityEvent.Kind.MFA_RESET,
            request=request,
            actor=actor,
            reason=reason,
            revoked=[str(c.pk) for c in revoked],
        )
    signals.mfa_reset.send(sender=MFACredential, user=user, actor=actor, reason=reason, revoked=revoked)
    from .adapter import get_adapter

    # The staff member's reason stays internal: the email says what happened and what to do.
    get_adapter().send_alert(user, "mfa_reset", {"revoked": len(revoked)})
    return revoked


def alert_second_step_failed(user: Any, request: HttpRequest | None, reason: str) -> None:
    """Email ``user`` that a login with their right password failed its second step (``reason``:
    "code", "denied" or "reported"); once per login in progress when the request has its session."""
    from .adapter import get_adapter
    from .internal.pending import ALERTED_KEY

    session = getattr(request, "session", None)
    if session is not None:
        if session.get(ALERTED_KEY):
            return
        session[ALERTED_KEY] = True

    get_adapter().send_alert(user, "second_step_failed", {"reason": reason, "ip": client_ip(request)})


def add_credential(
    user: Any,
    method: str,
    *,
    label: str = "",
    request: HttpRequest | None = None,
    make_primary: bool | None = None,
) -> MFACredential:
    """Create an active credential. The first authenticating credential becomes primary.

    Call inside a transaction together with the method's own data row.
    """
    has_primary = MFACredential.objects.active().for_user(user).filter(is_primary=True).exists()
    if make_primary is None:
        make_primary = not has_primary and method != MFACredential.Method.BACKUP_CODES
    with transaction.atomic():
        if make_primary and has_primary:
            MFACredential.objects.active().for_user(user).filter(is_primary=True).update(is_primary=False)
        credential = MFACredential.objects.create(user=user, method=method, label=label, is_primary=make_primary)
        record_event(user, SecurityEvent.Kind.CREDENTIAL_ADDED, request=request, credential=credential, method=method)
    return credential


def notify_credential_added(credential: MFACredential, request: HttpRequest | None = None) -> None:
    """Signal and alert for a new credential; call after the transaction that created it."""
    from .adapter import get_adapter

    signals.credential_added.send(
        sender=MFACredential, user=credential.user, credential=credential, request=request
    )
    get_adapter().send_alert(credential.user, "credential_added", {"credential": credential})


def set_primary(credential: MFACredential, *, request: HttpRequest | None = None) -> None:
    """Make ``credential`` the user's primary method (backup codes cannot be primary)."""
    if credential.method == MFACredential.Method.BACKUP_CODES or not credential.is_active:
        raise ValueError("This credential cannot be primary.")
    with transaction.atomic():
        MFACredential.objects.active().for_user(credential.user).filter(is_primary=True).update(is_primary=False)
        MFACredential.objects.filter(pk=credential.pk).update(is_primary=True)
        credential.is_primary = True
        record_event(credential.user, SecurityEvent.Kind.PRIMARY_CHANGED, request=request, credential=credential)


def _promote_new_primary(user: Any) -> None:
    active = MFACredential.objects.authenticating().for_user(user)
    if active.exists() and not active.filter(is_primary=True).exists():
        first = active.order_by("created_at").first()
        if first is not None:
            MFACredential.objects.filter(pk=first.pk).update(is_primary=True)


def has_active_mfa(user: Any) -> bool:
    """True when ``user`` holds an active push device, TOTP credential or security key/passkey."""
    if user is None or not getattr(user, "pk", None):
        return False
    return MFACredential.objects.authenticating().for_user(user).exists()
