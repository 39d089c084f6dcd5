"""Recovery ends what an intruder may hold (docs/api-contract.md, v1.1).

An MFA reset (``services.reset_mfa``) and a change or reset of the user's password call
:func:`evict`: every session of the user other than the one making the change ends (on every session
engine, see ``internal.sessions``), unused pairing tokens are voided, MFA steps in progress are
dropped (pending push challenges expire; a pending login's session record ends with the others, so
its MFA step can no longer complete, ``sessions.activate``), remembered browsers are forgotten, and
the user gets an e-mail.

A password change is seen on the user model's ``post_save`` (``set_password()`` then ``save()``:
Django's own password change and reset views, the admin's password form, ``changepassword``). The
session making the change is the request ``MFAMiddleware`` is serving (:data:`current_request`),
when it is the user's own.
"""
from __future__ import annotations

import contextvars
import logging
from typing import Any

from django.http import HttpRequest
from django.utils import timezone

from ..models import PairingToken, SecurityEvent, UserSession
from . import sessions, trust

logger = logging.getLogger("django_pushmfa")

#: The request being served (set by ``MFAMiddleware``), so a password change made through a view
#: knows which session made it.
current_request: contextvars.ContextVar[HttpRequest | None] = contextvars.ContextVar(
    "pushmfa_current_request", default=None
)


def evict(
    user: Any, *, reason: str, request: HttpRequest | None = None, actor: Any = None, alert: bool = True
) -> int:
    """End what an intruder may hold of ``user``'s account; the number of sessions ended.

    ``request`` is the one making the change: its session stays when it is ``user``'s own.
    Records ``sessions_ended`` and sends the ``sessions_ended`` alert unless ``alert`` is False (a
    staff MFA reset says it in its own ``mfa_reset`` alert: one event, one e-mail).
    """
    from ..adapter import get_adapter
    from ..services import record_event

    own = request is not None and getattr(request.user, "pk", None) == user.pk
    keep = sessions.current_id(request) if own and request is not None else None
    now = timezone.now()
    ended = sessions.end_all(user, reason=reason, keep=keep)
    voided = PairingToken.objects.filter(user=user, used_at__isnull=True, expires_at__gt=now).update(expires_at=now)
    forgotten = trust.forget_all(user)
    expired = _expire_challenges(user)
    record_event(
        user,
        SecurityEvent.Kind.SESSIONS_ENDED,
        request=request,
        actor=actor if actor is not None and getattr(actor, "pk", None) != user.pk else None,
        reason=reason,
        sessions=ended,
        pairing_tokens=voided,
        browsers=forgotten,
        challenges=expired,
    )
    if alert:
        get_adapter().send_alert(user, "sessions_ended", {"reason": reason, "sessions": ended, "browsers": forgotten})
    return ended


def _expire_challenges(user: Any) -> int:
    """Expire ``user``'s pending push challenges; a store outage is logged (pending logins are refused
    at completion anyway, ``sessions.activate``)."""
    from ..push.store import get_store
    from ..push.store.base import EXPIRED, PENDING

    try:
        store = get_store()
        return sum(
            1 for c in store.pending_for_user(str(user.pk)) if store.transition(c.id, PENDING, EXPIRED) is not None
        )
    except Exception:
        logger.exception("pushmfa: could not expire the pending challenges of user %s", user.pk)
        return 0


def on_user_saved(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    """``post_save`` receiver of the user model: a changed password evicts (see the module docstring)."""
    if created or getattr(instance, "_password", None) is None:
        return
    if instance.last_login is None and not UserSession.objects.filter(user=instance).exists():
        return  # never signed in (a new account's password being set): nothing to end, no alert
    from ..services import record_event

    request = current_request.get()
    actor = getattr(request, "user", None) if request is not None else None
    if actor is not None and (not actor.is_authenticated or actor.pk == instance.pk):
        actor = None
    record_event(instance, SecurityEvent.Kind.PASSWORD_CHANGED, request=request, actor=actor)
    evict(instance, reason="password_changed", request=request, actor=actor)
