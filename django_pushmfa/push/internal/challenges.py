"""The push challenge flows: what the HTML views, the browser API and the device API all call.

A browser mid-login starts a challenge (``start_push``) and long-polls it (``wait_for_browser`` /
``await_for_browser``); the phone fetches it (``get_for_device``) and answers (``respond``); the
browser's poll that first sees "approved" consumes it (``consume``) and completes the login.
Every answer is one atomic store operation, so exactly one response ever changes a challenge.
"""
from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import replace
from typing import Any

from django.contrib.auth import get_user_model
from django.http import HttpRequest
from django.utils.crypto import constant_time_compare

from ... import signals
from ...adapter import get_adapter
from ...app_settings import app_settings
from ...exceptions import (
    ChallengeExpired,
    ChallengeNotFound,
    ChallengeResolved,
    NoPushDevice,
    RateLimited,
    WrongNumber,
)
from ...internal import pending
from ...internal.login import mark_session_read_before_wait
from ...models import MFACredential, PushDevice, SecurityEvent
from ...services import record_event
from ..store import Challenge, Resolution, get_store
from ..store.base import (
    APPROVED,
    CONSUMED,
    EXPIRED,
    PENDING,
    digest_number,
    is_challenge_id,
    new_challenge_id,
)
from . import fatigue, numbers
from .context import PURPOSE_LOGIN, build_context

logger = logging.getLogger("django_pushmfa")

DECISIONS = ("approve", "deny", "report")


def require_id(challenge_id: Any) -> str:
    """``challenge_id`` when it can be a challenge id (the store's canonical form); else ChallengeNotFound.

    The one check of a challenge id from a path: every flow below takes ids through it once."""
    if not is_challenge_id(challenge_id):
        raise ChallengeNotFound()
    return challenge_id


# --- browser side --------------------------------------------------------------------------------
def active_push_devices(user: Any) -> list[PushDevice]:
    """The user's push devices that can receive a push: credential active, token not reported dead."""
    return list(
        PushDevice.objects.select_related("credential").filter(
            credential__user=user,
            credential__method=MFACredential.Method.PUSH,
            credential__revoked_at__isnull=True,
            token_dead_at__isnull=True,
        )
    )


def polls_only(user: Any) -> bool:
    """True when every push device of ``user`` is poll-only (platform ``none``): no notification will
    arrive, so the login page tells the user to open the app."""
    platforms = set(
        PushDevice.objects.filter(
            credential__user=user, credential__method=MFACredential.Method.PUSH, credential__revoked_at__isnull=True
        ).values_list("platform", flat=True)
    )
    return platforms == {PushDevice.Platform.NONE}


def start_push(
    request: HttpRequest, user: Any, *, purpose: str = PURPOSE_LOGIN, service: str | None = None
) -> Challenge:
    """Create a challenge for ``user`` bound to this browser, expire their older pending one, and
    push it to every active device.

    ``purpose`` (``"login"`` or ``"reauthentication"``) and ``service`` (the application the user
    signs in to; None asks the adapter) travel in the challenge's context and the push, with the
    site's name, so the phone can say who is asking and why.

    Raises NoPushDevice, PushSuspended, RateLimited (recorded once per window) or
    ChallengeStoreUnavailable. A provider failure never prevents the challenge from existing.
    """
    devices = active_push_devices(user)
    if not devices:
        raise NoPushDevice()
    context = build_context(request, user, purpose=purpose, service=service)
    display_number, choices = numbers.generate()
    now = time.time()
    # Never outlive the MFA step it belongs to: when the pending login expires, so does its push.
    state = pending.get(request)
    expires_at = now + app_settings.CHALLENGE_TTL
    if state is not None:
        expires_at = min(expires_at, state.expires_at)
    challenge = Challenge(
        id=new_challenge_id(),
        user_id=str(user.pk),
        binding=pending.session_binding(request),
        display_number=display_number,
        choices=choices,
        status=PENDING,
        created_at=now,
        expires_at=expires_at,
        context=context,
    )
    try:
        superseded = get_store().create(
            challenge, limits=fatigue.limits_for(challenge.user_id, context["ip"]), suspension_of=challenge.user_id
        )
    except RateLimited as exc:
        fatigue.on_rate_limited(user, exc, request)
        raise
    if superseded is not None:
        signals.challenge_expired.send(sender=Challenge, challenge=superseded, user=user)
    from .dispatch import dispatch

    dispatch(challenge, devices)  # returns at once, never raises (PUSHMFA_PUSH_DELIVERY)
    signals.challenge_created.send(sender=Challenge, challenge=challenge, user=user, request=request)
    return challenge


def get_for_browser(request: HttpRequest, challenge_id: str) -> Challenge:
    """The challenge this browser started. ChallengeNotFound when the id is malformed, unknown or
    bound to another browser; an expired one comes back with status "expired"."""
    challenge = get_store().get(require_id(challenge_id))
    if challenge is None or not constant_time_compare(challenge.binding, pending.session_binding(request)):
        raise ChallengeNotFound()
    return _settle(challenge)


def latest_for_browser(request: HttpRequest, user_or_id: Any) -> Challenge | None:
    """The user's latest challenge when this browser started it (any status), else None."""
    user_id = str(getattr(user_or_id, "pk", user_or_id))
    challenge = get_store().latest_for_user(user_id)
    binding = request.session.get(pending.BINDING_KEY)
    if challenge is None or not binding or not constant_time_compare(challenge.binding, binding):
        return None
    return _settle(challenge)


def claim_for_browser(request: HttpRequest, challenge_id: str, ticket: int | None = None) -> Challenge:
    """:func:`get_for_browser` for the browser's poll: an approved challenge is consumed by this same
    store operation (one round trip instead of a read and a consume). It then comes back "approved"
    with ``claimed`` set: only this caller may log the user in, so it must do so (or give the
    approval back with :func:`release`). With the ``ticket`` of a poll that waited
    (:func:`register_poller`), only while that poll is still its browser's newest (see :func:`claim`).
    Everything else as :func:`get_for_browser`."""
    challenge_id = require_id(challenge_id)
    challenge = get_store().claim(challenge_id, pending.session_binding(request), _ticket(challenge_id, ticket))
    if challenge is None:
        raise ChallengeNotFound()
    challenge.poller = ticket
    return _settle(challenge)


def claim(challenge: Challenge) -> Challenge:
    """Consume ``challenge`` (approved, and this browser's: read before its poll waited) for this poll,
    in one store operation: it comes back "approved" with ``claimed`` set for the one caller that
    consumed it. A poll with a ticket claims only as its browser's newest (:func:`register_poller`):
    otherwise the challenge comes back "approved" and not claimed, for a newer poll to claim. A
    challenge consumed (or gone) meanwhile comes back "consumed"."""
    claimed = get_store().claim(challenge.id, challenge.binding, _ticket(challenge.id, challenge.poller))
    if claimed is None:
        return replace(challenge, status=CONSUMED)
    claimed.poller = challenge.poller
    return claimed


def _ticket(challenge_id: str, ticket: int | None) -> tuple[str, int] | None:
    return None if ticket is None else (poller_key(challenge_id), ticket)


def release_db_connections() -> None:
    """Hand this thread's database connections back before a long-poll waits (up to 30 s).

    A waiting browser needs no database; without this, every waiter holds a connection (a pooled
    one, or one of PostgreSQL's ``max_connections``) for its whole wait, which caps the number of
    concurrent waiters at the pool size (measured in bench/README.md). Django's own rules decide:
    a pooled connection goes back to the pool, a ``CONN_MAX_AGE=0`` one is closed, a persistent one
    within its age is kept. A connection inside a transaction (``ATOMIC_REQUESTS``) is left alone.
    The next query of the request takes a connection again.
    """
    from django.db import connections

    for connection in connections.all(initialized_only=True):
        if not connection.in_atomic_block:
            connection.close_if_unusable_or_obsolete()


def _wait_seconds(wait: float) -> float:
    """The wait a long poll does: ``wait`` capped at ``LONG_POLL_MAX_WAIT``, less a random part of up
    to ``LONG_POLL_JITTER`` of it, so browsers that began waiting together do not re-poll together."""
    capped = max(0.0, min(float(wait), float(app_settings.LONG_POLL_MAX_WAIT)))
    jitter = min(max(float(app_settings.LONG_POLL_JITTER), 0.0), 1.0)
    return capped * (1.0 - jitter * secrets.randbelow(1001) / 1000) if capped and jitter else capped


def register_poller(challenge: Challenge) -> Challenge:
    """Make this waiting poll the newest of its browser's for ``challenge`` (a pending one, already
    checked to be this browser's): the ticket it carries is checked when it claims (:func:`claim`).

    A reload, or a second tab, leaves the first page's long poll waiting on the server with nobody
    to read its answer; if it claimed the approval, the login (and its new session cookie) would be
    lost. So an approval is claimed only by the newest poll (an older one answers "pending", and a
    page still waiting on it polls again and becomes the newest). The MFA page registers too when it
    shows a challenge (the moment between a reload and its first poll), and when a page goes away
    (pushmfa.js's ``pagehide`` beacon: a closed tab's poll may be the newest one). A page that dies
    without a beacon can still take an approval: its browser then signs in again.
    """
    count, _ = get_store().hit(poller_key(challenge.id), _poller_window())
    challenge.poller = count
    return challenge


def poller_key(challenge_id: str) -> str:
    """The store counter (:meth:`ChallengeStore.hit`) that hands out the tickets of a challenge's polls."""
    return f"poller:{challenge_id}"


def _poller_window() -> int:
    # The counter must outlive the challenge and the longest wait on it (fixed window from the first poll).
    return int(app_settings.CHALLENGE_TTL) + int(app_settings.LONG_POLL_MAX_WAIT) + 5


def wait_for_browser(request: HttpRequest, challenge_id: str, wait: float) -> Challenge:
    """:func:`get_for_browser`, but while the challenge is pending wait up to ``wait`` seconds
    (capped at ``PUSHMFA_LONG_POLL_MAX_WAIT``) for it to change. Sync (WSGI) views."""
    wait = _wait_seconds(wait)
    if wait <= 0:
        return get_for_browser(request, challenge_id)
    require_id(challenge_id)
    store = get_store()
    # Register before reading, so a change between the read and the wait still wakes us.
    with store.watch(challenge_id) as watcher:
        challenge = get_for_browser(request, challenge_id)
        if challenge.status != PENDING:
            return challenge
        register_poller(challenge)
        mark_session_read_before_wait(request)
        release_db_connections()
        updated = watcher.wait(challenge, wait)
    result = _settle(updated if updated is not None else replace(challenge, status=EXPIRED))
    result.poller = challenge.poller
    return result


async def await_for_browser(
    request: HttpRequest, challenge_id: str, wait: float, *, check: Callable[[], None] | None = None
) -> Challenge:
    """:func:`wait_for_browser` for async (ASGI) views: the event loop never blocks.

    ``check`` (sync: who may poll, say) runs first. Everything sync before the wait — ``check``,
    making sure notifications reach this process, the read, handing back the database connections —
    is one hop to the request's thread, and the wait itself needs no thread: each hop costs a
    thread switch per poll, which under load is most of the wake latency an ASGI server adds.
    """
    from asgiref.sync import sync_to_async

    wait = _wait_seconds(wait)
    if wait <= 0:
        return await sync_to_async(_read_for_wait)(request, challenge_id, None, check)
    require_id(challenge_id)
    store = get_store()
    # Registered before the read (in _read_for_wait), so a change between the read and the wait still wakes us.
    with store.watch(challenge_id, prepare=False) as watcher:
        challenge = await sync_to_async(_read_for_wait)(request, challenge_id, store, check)
        if challenge.status != PENDING:
            return challenge
        updated = await watcher.await_change(challenge, wait)
    result = updated if updated is not None else replace(challenge, status=EXPIRED)
    result.poller = challenge.poller
    return await sync_to_async(_settle)(result) if result.lapsed else result  # _settle is a no-op otherwise


def _read_for_wait(
    request: HttpRequest, challenge_id: str, store: Any, check: Callable[[], None] | None
) -> Challenge:
    """The sync part of :func:`await_for_browser` before its wait (``store`` None: no wait follows)."""
    if check is not None:
        check()
    if store is not None:
        store.prepare_watch()
    challenge = get_for_browser(request, challenge_id)
    if store is not None and challenge.status == PENDING:
        register_poller(challenge)
        mark_session_read_before_wait(request)
        release_db_connections()  # in the request's thread, where they live
    return challenge


def withdraw(challenge_id: str) -> bool:
    """End a challenge whose MFA step is over (pending or approved → consumed): the phone's answer
    is then ``challenge_resolved`` ("already handled") and no poll can complete anything with it."""
    store = get_store()
    return (
        store.transition(challenge_id, PENDING, CONSUMED) is not None
        or store.transition(challenge_id, APPROVED, CONSUMED) is not None
    )


def release(challenge: Challenge) -> bool:
    """Give back a claim whose completion failed (consumed → approved), so a retry can complete it.

    Only for the caller that consumed it (:func:`claim` set ``claimed``) and whose completion raised
    before anything was committed; False when the challenge is gone (expired) meanwhile."""
    return get_store().transition(challenge.id, CONSUMED, APPROVED) is not None


# --- device side -----------------------------------------------------------------------------------
def _device_user_id(device: PushDevice) -> str:
    return str(device.credential.user_id)


def _paired_at(device: PushDevice) -> float:
    return device.credential.created_at.timestamp()


def pending_for_device(device: PushDevice) -> list[Challenge]:
    """The pending challenges of the device's user (at most one), for when a push got lost; only
    those created after the device was paired (a phone paired later is never offered an older one)."""
    paired_at = _paired_at(device)
    return [c for c in get_store().pending_for_user(_device_user_id(device)) if c.created_at >= paired_at]


def get_for_device(device: PushDevice, challenge_id: str) -> Challenge:
    """A challenge of the device's user. ChallengeNotFound (malformed, unknown, another user's) or
    ChallengeExpired; an answered one is returned as is (``respond`` then says ChallengeResolved)."""
    challenge = get_store().get(require_id(challenge_id))
    if (
        challenge is None
        or not constant_time_compare(challenge.user_id, _device_user_id(device))
        or challenge.created_at < _paired_at(device)
    ):
        raise ChallengeNotFound()
    if challenge.status == EXPIRED:
        _settle(challenge)
        raise ChallengeExpired()
    return challenge


def respond(
    device: PushDevice,
    challenge_id: str,
    decision: str,
    selected_number: str | None,
    request: HttpRequest | None = None,
) -> Challenge:
    """The device's answer: "approve" (with the number the user picked or typed), "deny" or "report".

    A wrong number denies the challenge for good (WrongNumber); denials, wrong numbers and reports
    count towards suspending push. Raises ChallengeNotFound, ChallengeExpired, ChallengeResolved;
    ValueError for an unknown decision or an approval without a number (the API validates these).
    """
    if decision not in DECISIONS:
        raise ValueError(f"decision must be one of {DECISIONS}")
    if decision == "approve" and (not isinstance(selected_number, str) or not selected_number.strip()):
        raise ValueError("selected_number is required to approve")
    require_id(challenge_id)
    user_id = _device_user_id(device)
    answer = {"responded_at": time.time(), "device_id": device.device_id}
    # One store operation checks the owner and the state, compares the picked number (as digests,
    # in constant time or inside the store) and resolves: no read before it.
    result = get_store().answer(
        challenge_id,
        user_id,
        number_digest=digest_number(challenge_id, str(selected_number).strip()) if decision == "approve" else None,
        penalty="report" if decision == "report" else "denial",
        suspension=fatigue.suspension_policy(user_id),
        **answer,
    )
    if not result.ok:
        if result.challenge is None:
            raise ChallengeNotFound()  # unknown, gone, or another user's
        _raise_lost(result)
    resolved = result.challenge
    if resolved is None:  # answered, then gone at once (cannot happen within the grace period)
        raise ChallengeExpired()
    if resolved.status == APPROVED:
        kind, reason = SecurityEvent.Kind.PUSH_APPROVED, None
    elif decision == "approve":
        kind, reason = SecurityEvent.Kind.WRONG_NUMBER, "wrong_number"
    elif decision == "deny":
        kind, reason = SecurityEvent.Kind.PUSH_DENIED, "denied"
    else:
        kind, reason = SecurityEvent.Kind.PUSH_REPORTED, "reported"
    _after_response(device, resolved, kind, reason, result, request)
    if reason == "wrong_number":
        raise WrongNumber()
    return resolved


def _raise_lost(result: Resolution) -> None:
    """Another response (or the clock) won the race: say why, as the contract does."""
    current = result.challenge
    if current is None or current.status == EXPIRED:
        if current is not None:
            _settle(current)
        raise ChallengeExpired()
    raise ChallengeResolved()


def _after_response(
    device: PushDevice, challenge: Challenge, kind: str, reason: str | None, result: Resolution, request: Any
) -> None:
    from django.db import router, transaction

    user = device.credential.user
    # One commit: the answer's event, with the device's last_seen_at when that is due (the app's
    # fetch of the challenge a moment before usually stamped it). The answer itself is already final
    # in the store; signals go out after the commit.
    stamp = device.seen_stamp_due()
    with transaction.atomic(using=router.db_for_write(SecurityEvent)) if stamp else nullcontext():
        if stamp:
            device.mark_seen()
        # The detail never holds the numbers: they would help whoever reads the log guess the next one.
        record_event(user, kind, request=request, credential=device.credential, challenge_id=challenge.id)
    if reason is None:
        signals.challenge_approved.send(sender=Challenge, challenge=challenge, user=user, device=device)
    else:
        signals.challenge_denied.send(sender=Challenge, challenge=challenge, user=user, device=device, reason=reason)
    if reason == "wrong_number":
        get_adapter().send_alert(user, "wrong_number", {"context": challenge.context, "device": device})
    elif reason is not None:  # denied or reported: the password that started it was right
        get_adapter().send_alert(
            user, "second_step_failed", {"reason": reason, "ip": (challenge.context or {}).get("ip")}
        )
    if result.suspended_until is not None:
        fatigue.on_suspended(
            user,
            result.suspended_until,
            fatigue.REASON_REPORTED if reason == "reported" else fatigue.REASON_DENIALS,
            request=request,
            challenge_id=challenge.id,
        )


# --- expiry ----------------------------------------------------------------------------------------
def _settle(challenge: Challenge) -> Challenge:
    """Persist "expired" for a challenge found past its window, and signal it once (the one caller
    whose compare-and-set wins); the challenge is returned as it reads."""
    if challenge.lapsed:
        moved = get_store().transition(challenge.id, PENDING, EXPIRED)
        if moved is not None:
            user = get_user_model()._default_manager.filter(pk=challenge.user_id).first()
            signals.challenge_expired.send(sender=Challenge, challenge=moved, user=user)
    return challenge
