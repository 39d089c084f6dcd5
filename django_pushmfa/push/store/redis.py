"""The challenge store on Redis, through the redis-py connection of a cache alias (django-redis or
Django's own ``RedisCache``).

Every state change is one Lua script (``redis_scripts``), so racing responses cannot both win and no
read-modify-write loses an update. Each script publishes the change on one channel; one listener
thread per process (and per store alias) receives it and wakes the local waiters (``waiters``).
"""
from __future__ import annotations

import hashlib
import json
import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any, TypeVar

from ...app_settings import app_settings
from ...exceptions import ChallengeStoreUnavailable, PushSuspended, RateLimited
from . import redis_scripts
from .base import (
    APPROVED,
    CONSUMED,
    Challenge,
    ChallengeStore,
    RateLimit,
    Resolution,
    SuspensionPolicy,
    digest_number,
)
from .listener import Listener
from .waiters import Change

logger = logging.getLogger("django_pushmfa")
T = TypeVar("T")

_SCRIPTS: dict[tuple[str, str], Any] = {}
READY_TIMEOUT = 2.0  # how long the first waiter of a process waits for the listener to subscribe


def _store_errors() -> tuple[type[BaseException], ...]:
    from ...internal.redis_client import redis_errors

    return redis_errors()


class RedisChallengeStore(ChallengeStore):
    #: The command the scripts publish changes with (the Cluster store: ``SPUBLISH``, sharded pub/sub).
    PUBLISH = "PUBLISH"
    #: Whether one script may touch a challenge and its user's counters together (not on a Cluster,
    #: where they live in different hash slots: there the penalty is a second script).
    ATOMIC_PENALTY = True

    def __init__(self, alias: str) -> None:
        super().__init__(alias)
        self._errors = _store_errors()
        self.channel = self.key("events")

    # --- low level -------------------------------------------------------------------------------
    @property
    def cache(self) -> Any:
        from django.core.cache import caches

        return caches[self.alias]  # per thread in Django; the connection pool behind it is shared

    def key(self, name: str) -> str:
        return str(self.cache.make_key(f"pushmfa:{name}"))

    def client(self) -> Any:
        from ...internal.redis_client import raw_client

        try:
            return raw_client(self.alias)
        except NotImplementedError as exc:
            raise ChallengeStoreUnavailable(f"cache {self.alias!r} is not a Redis cache") from exc

    def _script(self, name: str) -> Any:
        # A Script only computes the SHA and loads itself on NOSCRIPT; any client can run it.
        script = _SCRIPTS.get((name, self.PUBLISH))
        if script is None:
            from redis.commands.core import Script

            source = getattr(redis_scripts, name).replace("'PUBLISH'", f"'{self.PUBLISH}'")
            # redis-py takes no client here (typed too narrowly in its annotations).
            script = _SCRIPTS[(name, self.PUBLISH)] = Script(None, source.encode())  # type: ignore[arg-type]
        return script

    def _call(self, fn: Callable[[], T]) -> T:
        try:
            return fn()
        except self._errors as exc:
            logger.warning("pushmfa: challenge store %r unavailable: %s", self.alias, type(exc).__name__)
            raise ChallengeStoreUnavailable(f"challenge store {self.alias!r} failed: {type(exc).__name__}") from exc

    def _run(self, name: str, keys: Sequence[str], args: Sequence[Any]) -> Any:
        script = self._script(name)
        return self._call(lambda: script(keys=list(keys), args=list(args), client=self.client()))

    def ckey(self, challenge_id: str) -> str:
        return self.key(f"c:{challenge_id}")

    def ukey(self, kind: str, user_id: str) -> str:
        """A per-user key: "u" (pointer to the outstanding challenge), "sus", "den", "rep"."""
        return self.key(f"{kind}:{user_id}")

    def channel_for(self, challenge_id: str) -> str:
        """Where changes of ``challenge_id`` are published (here: the store's one channel)."""
        return self.channel

    def _penalty(self, suspension: SuspensionPolicy | None) -> tuple[list[str], list[Any]]:
        """The keys and args of a move's penalty part (the users' runs and suspension flag)."""
        if suspension is None:
            return [], [0, 0, 0, 0]
        uid = suspension.user_id
        keys = [self.ukey("den", uid), self.ukey("rep", uid), self.ukey("sus", uid)]
        return keys, [suspension.denial_limit, suspension.report_limit, suspension.window, suspension.seconds]

    def _moved(
        self, name: str, challenge_id: str, args: list[Any], suspension: SuspensionPolicy | None, now: float,
        penalty: str | None = None, reset: bool = False,
    ) -> Resolution:
        """Run RESOLVE or RESPOND (whose ARGV ends with the penalty args) and read the result.

        With ``ATOMIC_PENALTY`` off the script moves the challenge only, and the penalty of the move
        it made (``PENALTY``) runs in the user's own hash slot afterwards."""
        keys = [self.ckey(challenge_id)]
        penalty_keys, penalty_args = self._penalty(suspension)
        if self.ATOMIC_PENALTY:
            result = self._run(name, keys + penalty_keys, args + penalty_args)
        else:
            result = self._run(name, keys, args + [0, 0, 0, 0])
        ok = int(result[0]) == 1
        challenge = self._decode(challenge_id, result[1], now) if len(result) > 1 else None
        suspended = _text(result[2]) if ok and len(result) > 2 else ""
        if ok and not self.ATOMIC_PENALTY and penalty_keys and challenge is not None:
            if name == "RESPOND":  # the script decided: an approval ends the run, a refusal counts
                penalty, reset = (None, True) if challenge.status == APPROVED else (penalty, False)
            if penalty or reset:
                suspended = _text(self._run("PENALTY", penalty_keys, [now, penalty or "", "1" if reset else "0",
                                                                      *penalty_args]))
        return Resolution(ok, challenge, now + float(suspended) if suspended else None)

    # --- encoding --------------------------------------------------------------------------------
    @staticmethod
    def _static(challenge: Challenge) -> str:
        return json.dumps(
            {
                "u": challenge.user_id,
                "b": challenge.binding,
                "n": challenge.display_number,
                "c": challenge.choices,
                "t": challenge.created_at,
                "x": challenge.context,
                # What RESPOND compares a picked number's digest with (see base.digest_number).
                "h": digest_number(challenge.id, challenge.display_number),
            },
            separators=(",", ":"),
        )

    @staticmethod
    def _decode(challenge_id: str, raw: Any, now: float | None = None) -> Challenge | None:
        """From HGETALL (a dict) or a Lua HGETALL (a flat list) to a Challenge."""
        if not raw:
            return None
        if isinstance(raw, list):
            raw = dict(zip(raw[::2], raw[1::2], strict=True))
        data = {(k.decode() if isinstance(k, bytes) else k): (v.decode() if isinstance(v, bytes) else v)
                for k, v in raw.items()}
        if "d" not in data or "s" not in data:
            return None
        static = json.loads(data["d"])
        challenge = Challenge(
            id=challenge_id,
            user_id=static["u"],
            binding=static["b"],
            display_number=static["n"],
            choices=static["c"],
            status=data["s"],
            created_at=float(static["t"]),
            expires_at=float(data["e"]),
            responded_at=float(data["r"]) if data.get("r") else None,
            device_id=data.get("v") or None,
            context=static.get("x") or {},
        )
        return challenge.normalized(now if now is not None else time.time())

    # --- challenges ------------------------------------------------------------------------------
    def create(
        self, challenge: Challenge, *, limits: Sequence[RateLimit] = (), suspension_of: str | None = None
    ) -> Challenge | None:
        now = time.time()
        ckey = self.ckey(challenge.id)
        ttl_ms = max(1, math.ceil((challenge.expires_at - now + app_settings.CHALLENGE_GRACE) * 1000))
        keys = [ckey, self.ukey("u", challenge.user_id), self.ukey("sus", suspension_of or challenge.user_id)]
        args: list[Any] = [
            repr(now), challenge.id, self._static(challenge), repr(challenge.expires_at), ttl_ms,
            f"{challenge.id} {ckey}", self.channel, "1" if suspension_of is not None else "0", len(limits),
        ]
        for limit in limits:
            keys.append(self.key(f"rl:{limit.scope}:{limit.key}"))
            args += [int(limit.limit), int(limit.window), limit.scope]
        result = self._run("CREATE", keys, args)
        outcome = _text(result[0])
        if outcome == "suspended":
            raise PushSuspended(math.ceil(int(result[1]) / 1000))
        if outcome == "limited":
            exc = RateLimited(math.ceil(int(result[3]) / 1000), _text(result[1]))
            exc.first_in_window = int(result[2]) == int(result[4]) + 1
            raise exc
        if len(result) == 3:
            return self._decode(_text(result[1]), result[2], now)
        return None

    def get(self, challenge_id: str) -> Challenge | None:
        client = self.client()
        return self._decode(challenge_id, self._call(lambda: client.hgetall(self.ckey(challenge_id))))

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
        now = time.time()
        responded_at = fields.get("responded_at")
        device_id = fields.get("device_id")
        change = Change(to_status, responded_at, device_id)
        args: list[Any] = [
            repr(now), from_status, to_status, int(app_settings.CHALLENGE_GRACE * 1000),
            self.channel_for(challenge_id), change.encode(challenge_id),
            repr(responded_at) if responded_at is not None else "", device_id or "", penalty or "",
            "1" if reset_denials else "0",
        ]
        return self._moved("RESOLVE", challenge_id, args, suspension, now, penalty, reset_denials)

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
        """:meth:`ChallengeStore.answer` in one script (``RESPOND``): no read before it."""
        now = time.time()
        responded_at = fields.get("responded_at")
        args: list[Any] = [
            repr(now), str(user_id), number_digest or "", penalty, int(app_settings.CHALLENGE_GRACE * 1000),
            self.channel_for(challenge_id), challenge_id, repr(responded_at) if responded_at is not None else "",
            fields.get("device_id") or "",
        ]
        return self._moved("RESPOND", challenge_id, args, suspension, now, penalty)

    def claim(self, challenge_id: str, binding: str, ticket: tuple[str, int] | None = None) -> Challenge | None:
        """:meth:`ChallengeStore.claim` in one script (``CLAIM``), the ticket's check included."""
        keys = [self.ckey(challenge_id)]
        args: list[Any] = [
            hashlib.sha1(binding.encode()).hexdigest(),  # noqa: S324 - a comparison digest, not a MAC
            int(app_settings.CHALLENGE_GRACE * 1000), self.channel_for(challenge_id),
            Change(CONSUMED).encode(challenge_id),
        ]
        if ticket is not None:
            keys.append(self.hit_key(ticket[0]))
            args.append(int(ticket[1]))
        result = self._run("CLAIM", keys, args)
        challenge = self._decode(challenge_id, result[1]) if len(result) > 1 else None
        if challenge is None or int(result[0]) != 1:
            return challenge
        return replace(challenge, status=APPROVED, claimed=True)

    def latest_for_user(self, user_id: str) -> Challenge | None:
        result = self._run("PENDING_FOR_USER", [self.ukey("u", user_id)], [])
        return self._decode(_text(result[0]), result[1]) if result else None

    # --- fatigue -----------------------------------------------------------------------------------
    def hit_key(self, key: str) -> str:
        """The Redis key of :meth:`hit`'s counter ``key``."""
        return self.key(f"hit:{key}")

    def hit(self, key: str, window: int) -> tuple[int, int]:
        count, ttl = self._run("HIT", [self.hit_key(key)], [int(window)])
        return int(count), math.ceil(int(ttl) / 1000)

    def hits(self, key: str) -> int:
        client = self.client()
        return int(self._call(lambda: client.get(self.hit_key(key))) or 0)

    def suspension_remaining(self, user_id: str) -> int:
        client = self.client()
        ttl = int(self._call(lambda: client.pttl(self.ukey("sus", user_id))))
        return math.ceil(ttl / 1000) if ttl > 0 else 0

    def lift_suspension(self, user_id: str) -> bool:
        keys = [self.ukey("sus", user_id), self.ukey("den", user_id), self.ukey("rep", user_id)]
        return bool(self._run("LIFT", keys, []))

    # --- long-poll ---------------------------------------------------------------------------------
    def prepare_watch(self) -> None:
        """Start this process's listener (once per process and alias) and wait until it subscribed."""
        Listener.for_store(self).ready.wait(READY_TIMEOUT)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


# The listener lived here before it got its own module; tests/hardening still import this name.
_Listener = Listener
