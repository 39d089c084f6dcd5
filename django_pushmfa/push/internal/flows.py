"""The browser's side of a push, as the pages and the API both use it: start it, poll it, finish it.

:func:`poll` (and :func:`apoll` for async views) is the whole poll: wait for a change, claim an
approval, and complete the step it belongs to (by default the login's MFA step, see
:class:`~django_pushmfa.internal.login.Purpose`). An approval is given back to the store when its
completion fails (a database error while logging in), so the next poll completes it instead of
finding it consumed: an approved login is never lost, and never completed twice.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.utils.crypto import constant_time_compare

from ...asgi import ticket_of
from ...exceptions import ChallengeStoreUnavailable, MFANotInProgress
from ...internal import login as login_flow
from ...internal import pending
from ..store import Challenge
from ..store.base import APPROVED, CONSUMED, DENIED, PENDING, STATUSES
from . import challenges, outcome

logger = logging.getLogger("django_pushmfa")


@dataclass(frozen=True)
class PollResult:
    """What a poll saw: the contract's ``status``; ``done`` once, for the poll that completed the step."""

    status: str
    challenge: Challenge
    done: login_flow.StepDone | None = None
    reason: str | None = None  # a denial's: "wrong_number", "denied" or "reported" (a page extension)

    def as_json(self) -> dict[str, Any]:
        if self.done is not None:
            return self.done.as_json()
        return {"status": self.status, "reason": self.reason} if self.reason else {"status": self.status}


def start(
    request: HttpRequest, user: Any, *, remember: bool = False, purpose: login_flow.Purpose = login_flow.LOGIN
) -> Challenge:
    """Send a push for ``user``'s step of ``purpose`` (its name travels in the challenge's context and
    the push), keeping the "trust this browser" choice for when a login completes."""
    challenge = challenges.start_push(request, user, purpose=purpose.name)
    if purpose is login_flow.LOGIN:
        login_flow.set_remember_choice(request, remember)
    return challenge


def abandon(request: HttpRequest, user_id: Any) -> None:
    """The MFA step of this session for ``user_id`` ended (completed by another method, cancelled,
    logged out): withdraw its push, so the phone answers "already handled" and an approval can
    never count for it. A store outage is logged, never raised: the step is over whatever the store
    says, and the challenge can no longer complete anything (its session has no pending login).
    """
    try:
        challenge = challenges.latest_for_browser(request, user_id)
        if challenge is not None:
            challenges.withdraw(challenge.id)
    except ChallengeStoreUnavailable:
        logger.warning("pushmfa: could not withdraw the push of an ended MFA step (store unavailable)")


def end_on_completion(sender: Any, user: Any, method: str, request: HttpRequest | None = None, **kwargs: Any) -> None:
    """``mfa_completed`` receiver: a step another method finished ends its push (a push's own
    completion has already consumed it: no store call then)."""
    if request is not None and method != "push" and getattr(request, "session", None) is not None:
        abandon(request, user.pk)


def end_on_logout(sender: Any, request: HttpRequest | None = None, **kwargs: Any) -> None:
    """``user_logged_out`` receiver (sent before the session is flushed): a cancelled step's push ends."""
    if request is None:
        return
    state = pending.get(request)
    if state is not None:
        abandon(request, state.user_id)


def check_poller(request: HttpRequest, *, logged_in: bool) -> None:
    """Who may poll: a login in progress, or a session that completed its login and still holds the
    binding (its later polls answer ``consumed``). Anyone else: ``MFANotInProgress``."""
    has_binding = bool(request.session.get(pending.BINDING_KEY))
    if not has_binding or (pending.get(request) is None and not logged_in):
        raise MFANotInProgress()


def poll(
    request: HttpRequest, challenge_id: str, wait: float = 0, *, purpose: login_flow.Purpose = login_flow.LOGIN
) -> PollResult:
    """The poll of this browser's challenge: wait up to ``wait`` s for a change, then :func:`finish`.

    Raises ChallengeNotFound (malformed, unknown, another browser's) and ChallengeStoreUnavailable.
    """
    if wait:
        challenge = challenges.wait_for_browser(request, challenge_id, wait)
    else:
        # Reads and, when approved, consumes in one store operation; with the ticket of a wait that
        # django_pushmfa.asgi did before Django saw this poll, only as the browser's newest poll.
        challenge = challenges.claim_for_browser(request, challenge_id, ticket_of(request))
    return finish(request, challenge, purpose=purpose)


async def apoll(
    request: HttpRequest,
    challenge_id: str,
    wait: float = 0,
    *,
    purpose: login_flow.Purpose = login_flow.LOGIN,
    check: Callable[[], None] | None = None,
) -> PollResult:
    """:func:`poll` for async views: the wait never blocks the event loop, nor holds a thread busy.

    ``check`` (sync: who may poll) runs in the same hop to the request's thread as the read; the
    whole poll takes two such hops (one when it does not wait), whatever it waits for.
    """
    from asgiref.sync import sync_to_async

    if not wait:
        return await sync_to_async(_checked_poll)(request, challenge_id, check, purpose)
    challenge = await challenges.await_for_browser(request, challenge_id, wait, check=check)
    return await sync_to_async(finish)(request, challenge, purpose=purpose)


def _checked_poll(
    request: HttpRequest, challenge_id: str, check: Callable[[], None] | None, purpose: login_flow.Purpose
) -> PollResult:
    if check is not None:
        check()
    return poll(request, challenge_id, 0, purpose=purpose)


def finish(
    request: HttpRequest, challenge: Challenge, *, purpose: login_flow.Purpose = login_flow.LOGIN
) -> PollResult:
    """The poll's outcome for ``challenge`` (already checked to be bound to this browser).

    Completes the step when this call is the one that consumes an approved challenge of the step's
    own user. An approval seen with no step in progress (the login completed with another method,
    or it expired mid-wait) is consumed unused so it can never log anyone in.
    """
    status = challenge.status
    if status == DENIED:
        # Why, so the page can say "a wrong number was picked" instead of guessing.
        return PollResult(status, challenge, reason=outcome.denial_reason(challenge))
    if status != APPROVED:
        # an unknown status from a newer store: fail closed
        return PollResult(status if status in STATUSES else DENIED, challenge)
    if not challenge.claimed:
        challenge = challenges.claim(challenge)
        if not challenge.claimed:
            # "approved": a newer poll of this browser (after a reload, in another tab) waits for it
            # too, and claims it, so that the new session cookie reaches a page that is still there.
            # Else another poll of this browser won the race.
            return PollResult(PENDING if challenge.status == APPROVED else CONSUMED, challenge)
    owner = purpose.owner_id(request)
    # A challenge completes only the kind of step it was started for (a re-authentication's approval
    # never logs a pending session in, a login's never stamps a logged-in one). Claimed, it can
    # never log anyone in now.
    started_for = (challenge.context or {}).get("purpose", login_flow.LOGIN.name)
    if owner is None or started_for != purpose.name or not constant_time_compare(str(challenge.user_id), owner):
        if owner is None and not request.user.is_authenticated:
            raise MFANotInProgress()
        return PollResult(CONSUMED, challenge)
    user = purpose.user(request)
    try:
        # The answering device's credential, matched to this user inside the completion's UPDATE.
        done = purpose.finish(request, user, "push", credential_id=challenge.device_id or None)
    except BaseException:
        challenges.release(challenge)
        raise
    return PollResult(APPROVED, challenge, done)
