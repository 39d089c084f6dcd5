"""The challenge store interface and the challenge record it keeps.

A challenge moves ``pending → approved | denied | expired`` and ``approved → consumed``; every move is
one atomic compare-and-set in the store, so two racing responses can never both win. A pending
challenge whose window has passed *reads* as ``expired`` even before anyone persists that state.
Keys expire on their own (no cleanup job); a key's lifetime only ever moves forward.
"""
from __future__ import annotations

import base64
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from django.utils.crypto import constant_time_compare, salted_hmac

from .waiters import Watch, hub

PENDING = "pending"
APPROVED = "approved"
DENIED = "denied"
EXPIRED = "expired"
CONSUMED = "consumed"
STATUSES = (PENDING, APPROVED, DENIED, EXPIRED, CONSUMED)
ANSWERED = (APPROVED, DENIED)


def iso(ts: float) -> str:
    """Unix seconds as ISO 8601 in UTC, millisecond precision (``2026-01-01T10:00:00.000Z``)."""
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def is_challenge_id(value: Any) -> bool:
    """True for a canonical uuid4-shaped string (what :func:`new_challenge_id` makes)."""
    if not isinstance(value, str) or len(value) != 36:
        return False
    try:
        return str(uuid.UUID(value)) == value
    except ValueError:
        return False


def new_challenge_id() -> str:
    return str(uuid.uuid4())


def digest_number(challenge_id: str, number: str) -> str:
    """A keyed digest (HMAC-SHA256 under ``SECRET_KEY``, 128 bits) of a number for one challenge.

    The stores compare a picked number with the display number through these digests, never the raw
    numbers, so the comparison can run inside the store (Redis: in a script) and still reveals
    nothing through its timing. Bound to the challenge id: a digest is worthless for any other one.
    """
    mac = salted_hmac("django_pushmfa.push.number", f"{challenge_id}\n{number}", algorithm="sha256").digest()
    return base64.urlsafe_b64encode(mac[:16]).rstrip(b"=").decode()


@dataclass
class Challenge:
    id: str
    user_id: str
    binding: str  # pending.session_binding(request) of the browser that started it
    display_number: str
    choices: list[str] | None  # None in "entry" mode
    status: str
    created_at: float
    expires_at: float
    responded_at: float | None = None
    device_id: str | None = None  # the device that answered
    # {"ip", "user_agent", "browser", "os", "location", "site_name", "purpose", "service"}
    context: dict = field(default_factory=dict)
    # True when the stored status is still "pending" but the window has passed: the record reads as
    # "expired"; the flows persist that (once) and send challenge_expired.
    lapsed: bool = field(default=False, compare=False, repr=False)
    # True on the "approved" record a browser's poll just consumed itself (ChallengeStore.claim):
    # that poll, and only it, may log the user in (``consume()`` then needs no store call).
    claimed: bool = field(default=False, compare=False, repr=False)
    # A waiting browser poll's ticket (challenges.register_poller): only the newest poll may claim.
    poller: int | None = field(default=None, compare=False, repr=False)

    def is_expired(self, now: float | None = None) -> bool:
        """Expired for good, or still pending past its answer window."""
        if self.status == EXPIRED:
            return True
        return self.status == PENDING and (now if now is not None else time.time()) >= self.expires_at

    def normalized(self, now: float | None = None) -> Challenge:
        """This record as it reads at ``now``: a pending one past its window reads as expired."""
        if self.status == PENDING and self.is_expired(now):
            return replace(self, status=EXPIRED, lapsed=True)
        return self

    def to_device_json(self) -> dict[str, Any]:
        """The contract's device view. Never holds the display number on its own: in "choices" mode
        it is one of ``choices``, in "entry" mode the user types it."""
        return {
            "challenge_id": self.id,
            "choices": list(self.choices) if self.choices is not None else None,
            "context": {
                "location": self.context.get("location"),
                "ip": self.context.get("ip"),
                "browser": self.context.get("browser"),
                "os": self.context.get("os"),
                "requested_at": iso(self.created_at),
                "site_name": self.context.get("site_name"),
                "purpose": self.context.get("purpose") or "login",
                "service": self.context.get("service"),
            },
            "expires_at": iso(self.expires_at),
        }

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("lapsed")
        data.pop("claimed")
        data.pop("poller")
        return data


@dataclass(frozen=True)
class RateLimit:
    """At most ``limit`` hits per fixed ``window`` seconds for ``key`` (scope: "user" | "ip")."""

    scope: str
    key: str
    limit: int
    window: int


@dataclass(frozen=True)
class SuspensionPolicy:
    """When answers to a user's challenges suspend push for them (see ``push.internal.fatigue``)."""

    user_id: str
    denial_limit: int  # denials / wrong numbers within ``window`` that suspend
    report_limit: int  # "this wasn't me" reports within ``window`` that suspend
    window: int
    seconds: int  # how long the suspension lasts


@dataclass(frozen=True)
class Resolution:
    """Outcome of :meth:`ChallengeStore.resolve`.

    ``ok``: this call changed the challenge. ``challenge``: its state after the call (None when it is
    gone). ``suspended_until``: unix time when push is suspended until, set only by the one call that
    started a suspension (so its alert goes out once).
    """

    ok: bool
    challenge: Challenge | None
    suspended_until: float | None = None


class ChallengeStore(ABC):
    """Where challenges, the per-user pointer, rate-limit counters and suspensions live.

    Every method raises :class:`~django_pushmfa.exceptions.ChallengeStoreUnavailable` when the
    backing cache cannot be reached (the login fails closed). Implementations: ``cache`` (any Django
    cache, correct within one process), ``redis`` (atomic Lua scripts, pub/sub wake; standalone or
    Sentinel) and ``cluster`` (the same scripts in one hash slot each, sharded pub/sub wake).
    """

    def __init__(self, alias: str) -> None:
        self.alias = alias

    # --- challenges ------------------------------------------------------------------------------
    @abstractmethod
    def create(
        self, challenge: Challenge, *, limits: Sequence[RateLimit] = (), suspension_of: str | None = None
    ) -> Challenge | None:
        """Atomically: refuse when push is suspended for ``suspension_of`` (PushSuspended) or a limit in
        ``limits`` is exceeded (RateLimited, with ``first_in_window`` True only on the first refusal
        of a window); else save ``challenge`` as the user's one outstanding challenge.

        Returns the user's previous challenge if it was still pending (now stored as "expired"),
        else None. Limits are counted in order; a refused hit still counts.
        """

    @abstractmethod
    def get(self, challenge_id: str) -> Challenge | None:
        """The challenge as it reads now (see :meth:`Challenge.normalized`), or None when unknown/gone."""

    @abstractmethod
    def resolve(
        self,
        challenge_id: str,
        from_status: str,
        to_status: str,
        *,
        penalty: str | None = None,
        suspension: SuspensionPolicy | None = None,
        reset_denials: bool = False,
        **fields: Any,
    ) -> Resolution:
        """Atomic compare-and-set ``from_status → to_status`` setting ``fields`` (responded_at,
        device_id). A pending challenge past its window can only move to "expired".

        When the move succeeds and ``suspension`` is given: ``penalty`` "denial" or "report" counts
        towards suspending the user, and may start a suspension (reported in the result);
        ``reset_denials`` clears the run of denials (an approval). Wakes waiters on success.
        """

    def transition(self, challenge_id: str, from_status: str, to_status: str, **fields: Any) -> Challenge | None:
        """Compare-and-set; the challenge after the move, or None when it was not in ``from_status``."""
        result = self.resolve(challenge_id, from_status, to_status, **fields)
        return result.challenge if result.ok else None

    def answer(
        self,
        challenge_id: str,
        user_id: str,
        *,
        number_digest: str | None = None,
        penalty: str = "denial",
        suspension: SuspensionPolicy | None = None,
        **fields: Any,
    ) -> Resolution:
        """A device's answer to a pending challenge of ``user_id``, as one compare-and-set.

        With ``number_digest`` (an approval: :func:`digest_number` of the picked number) the challenge
        becomes "approved" when it matches the digest of its display number (and the run of denials
        ends), else "denied" counting as ``penalty``; without one it becomes "denied" counting as
        ``penalty`` ("denial" or "report"). ``fields``, ``suspension`` and waking: as :meth:`resolve`.

        Refused (``ok`` False): ``challenge`` None when it is unknown, gone or another user's; else the
        challenge as it reads (not pending, or lapsed: it reads as "expired"). This generic version
        reads then resolves (the compare-and-set keeps it exactly-once); the Redis store does both
        in one script.
        """
        current = self.get(challenge_id)
        if current is None or not constant_time_compare(current.user_id, str(user_id)):
            return Resolution(False, None)
        if current.status != PENDING:
            return Resolution(False, current)
        matched = number_digest is not None and constant_time_compare(
            number_digest, digest_number(current.id, current.display_number)
        )
        return self.resolve(
            challenge_id,
            PENDING,
            APPROVED if matched else DENIED,
            penalty=None if matched else penalty,
            suspension=suspension,
            reset_denials=matched,
            **fields,
        )

    def claim(self, challenge_id: str, binding: str, ticket: tuple[str, int] | None = None) -> Challenge | None:
        """A browser's read of its challenge that consumes an approval in the same step.

        None when the challenge is unknown, gone or bound to another browser (``binding`` is
        compared in constant time, or as digests). An "approved" one moves to "consumed" (exactly
        once, as :meth:`transition`) and the caller that moved it gets it back as "approved" with
        ``claimed`` True; everyone else gets the challenge as it reads. With ``ticket`` — a
        :meth:`hit` counter's key and the count the caller got from it — the approval moves only
        while that counter still reads that count; otherwise it comes back "approved" and not
        claimed (a newer poll of the browser will claim it). The Redis store does all of it in one
        script; here the counter is read just before the compare-and-set move, not atomically with
        it, so a poll that registers in between can still lose the approval to the older one.
        """
        current = self.get(challenge_id)
        if current is None or not constant_time_compare(current.binding, binding):
            return None
        if current.status != APPROVED or (ticket is not None and self.hits(ticket[0]) != ticket[1]):
            return current
        moved = self.transition(challenge_id, APPROVED, CONSUMED)
        if moved is None:
            return replace(current, status=CONSUMED)
        return replace(current, claimed=True)

    def pending_for_user(self, user_id: str) -> list[Challenge]:
        """The user's outstanding challenge (a list of at most one), if still pending."""
        challenge = self.latest_for_user(user_id)
        return [challenge] if challenge is not None and challenge.status == PENDING else []

    @abstractmethod
    def latest_for_user(self, user_id: str) -> Challenge | None:
        """The user's most recent challenge whatever its status (as it reads now), or None when gone."""

    # --- long-poll ---------------------------------------------------------------------------------
    @contextmanager
    def watch(self, challenge_id: str, *, prepare: bool = True) -> Iterator[Watch]:
        """Register interest in changes of ``challenge_id`` *before* reading it, so a change between
        the read and the wait cannot be missed. Use ``watch.wait(current, timeout)`` afterwards.

        ``prepare=False`` skips :meth:`prepare_watch` (async callers run it in a thread first)."""
        if prepare:
            self.prepare_watch()
        watcher = hub.register(self.alias, challenge_id, self)
        try:
            yield watcher
        finally:
            hub.unregister(watcher)

    def prepare_watch(self) -> None:
        """Hook: make sure change notifications reach this process (may block briefly, once).

        The cache store needs nothing: its changes happen in this process and wake waiters directly.
        """
        return None

    def wait(self, challenge_id: str, timeout: float) -> Challenge | None:
        """Block until the challenge leaves "pending" (or its window ends), at most ``timeout`` s."""
        with self.watch(challenge_id) as watcher:
            current = self.get(challenge_id)
            if current is None or current.status != PENDING:
                return current
            return watcher.wait(current, timeout)

    async def await_change(self, challenge_id: str, timeout: float) -> Challenge | None:
        """:meth:`wait` for async views: the event loop is never blocked."""
        from asgiref.sync import sync_to_async

        await sync_to_async(self.prepare_watch, thread_sensitive=False)()
        with self.watch(challenge_id, prepare=False) as watcher:
            current = await sync_to_async(self.get, thread_sensitive=False)(challenge_id)
            if current is None or current.status != PENDING:
                return current
            return await watcher.await_change(current, timeout)

    # --- fatigue -----------------------------------------------------------------------------------
    @abstractmethod
    def hit(self, key: str, window: int) -> tuple[int, int]:
        """Count one hit on a fixed-window counter: (count after this hit, seconds until reset)."""

    @abstractmethod
    def hits(self, key: str) -> int:
        """The count of :meth:`hit`'s counter ``key`` in its current window, without counting (0: none)."""

    @abstractmethod
    def suspension_remaining(self, user_id: str) -> int:
        """Seconds push stays suspended for the user (0: not suspended)."""

    @abstractmethod
    def lift_suspension(self, user_id: str) -> bool:
        """End a suspension early (and the runs counting towards the next). True if one was active."""
