"""A wave of push logins while the challenge store fails over (Sentinel promotion, Cluster failover).

Each of ``workers`` threads runs complete logins for its own user, one after another: password step,
``POST api/push/``, the phone fetches and approves, the browser polls. :func:`run_wave` kills the
store's primary after ``before`` seconds, waits until the topology names a new one, and stops the
wave ``after`` seconds after the first login that started after the promotion and succeeded.
Every request's outcome is kept, so the test can check that the failover failed closed.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import connections

from ..hardening.conftest import is_logged_in, json_post, new_browser, poll

API = "/mfa/api/"


@dataclass
class Attempt:
    started: float
    ended: float = 0.0
    failed_step: str | None = None  # "start" | "fetch" | "approve" | "poll"
    status: int | None = None  # of the failed step
    code: str | None = None  # the failed step's error code
    approve_sent: bool = False  # the phone sent its approval with the right number
    approved: bool = False  # ... and it answered 200
    logged_in: bool = False


@dataclass
class Wave:
    attempts: list[Attempt] = field(default_factory=list)
    killed_at: float = 0.0
    promoted_at: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def first_success_after(self, moment: float) -> Attempt | None:
        done = [a for a in self.attempts if a.started >= moment and a.logged_in]
        return min(done, key=lambda a: a.ended) if done else None


def _code(response) -> str | None:  # noqa: ANN001
    try:
        return response.json().get("code")
    except ValueError:
        return None


def one_login(user, password: str) -> Attempt:
    attempt = Attempt(started=time.monotonic())

    def fail(step: str, response) -> Attempt:  # noqa: ANN001
        attempt.failed_step, attempt.status, attempt.code = step, response.status_code, _code(response)
        attempt.ended = time.monotonic()
        return attempt

    browser = new_browser(user, password)
    started = json_post(browser, API + "push/")
    if started.status_code != 201:
        return fail("start", started)
    challenge = started.json()
    fetched = user.phone.challenge(challenge["challenge_id"])
    if fetched.status_code != 200:
        return fail("fetch", fetched)
    attempt.approve_sent = True
    approved = user.phone.approve(challenge["challenge_id"], challenge["display_number"])
    if approved.status_code != 200:
        # The answer's outcome is unknown to the phone (the primary may have applied it and died
        # before replying): the browser still asks, as a real one keeps polling.
        poll(browser, challenge["challenge_id"])
        attempt.logged_in = is_logged_in(browser)
        return fail("approve", approved)
    attempt.approved = True
    polled = poll(browser, challenge["challenge_id"])
    attempt.logged_in = is_logged_in(browser)
    if polled.status_code != 200:
        return fail("poll", polled)
    attempt.ended = time.monotonic()
    return attempt


def run_wave(users: list, password: str, kill: Callable[[], object], wait_promoted: Callable[[object], object], *,
             before: float = 1.0, after: float = 1.0, limit: float = 60.0) -> Wave:
    wave = Wave()
    stop = threading.Event()

    def worker(user) -> None:  # noqa: ANN001
        try:
            while not stop.is_set():
                attempt = one_login(user, password)
                with wave.lock:
                    wave.attempts.append(attempt)
                if attempt.failed_step is not None:
                    time.sleep(0.05)  # a failed login is retried by its user, not at once
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(u,), daemon=True) for u in users]
    for thread in threads:
        thread.start()
    try:
        time.sleep(before)
        wave.killed_at = time.monotonic()
        old = kill()
        wait_promoted(old)
        wave.promoted_at = time.monotonic()
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            with wave.lock:
                first = wave.first_success_after(wave.promoted_at)
            if first is not None and time.monotonic() >= first.ended + after:
                break
            time.sleep(0.05)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    return wave


def figures(wave: Wave) -> dict:
    """What a report needs: counts, and the times from the kill and from the promotion."""
    first = wave.first_success_after(wave.promoted_at)
    in_flight = [a for a in wave.attempts if a.started < wave.killed_at < (a.ended or 1e18)]
    return {
        # logins running when the replica was promoted (begun before it, done after it)
        "spanned_failover": sum(1 for a in wave.attempts if a.started < wave.promoted_at < a.ended),
        "slowest_login_s": round(max(a.ended - a.started for a in wave.attempts), 3),
        "logins": len(wave.attempts),
        "succeeded": sum(1 for a in wave.attempts if a.logged_in),
        "failed_503": sum(1 for a in wave.attempts if a.status == 503),
        "in_flight_at_kill": len(in_flight),
        "in_flight_logged_in": sum(1 for a in in_flight if a.logged_in),
        # the phone's approval failed (503, or 409 when a retry found it applied) but it had been
        # applied: the browser logged in on the user's own approval
        "approval_reply_lost_logged_in": sum(1 for a in wave.attempts if a.logged_in and not a.approved),
        "promotion_s_after_kill": round(wave.promoted_at - wave.killed_at, 3),
        "first_login_s_after_promotion": round(first.ended - wave.promoted_at, 3) if first else None,
        "first_login_s_after_kill": round(first.ended - wave.killed_at, 3) if first else None,
    }


#: What a request may answer while the store fails over: the store is unavailable; or, for the
#: phone's answer, the challenge is already resolved (a client retry after the dead primary applied it
#: without replying) or gone (created on the old primary and not yet replicated).
FAILOVER_ANSWERS = {(503, "service_unavailable")}
FAILOVER_ANSWERS_IN_FLIGHT = {(409, "challenge_resolved"), (404, "not_found")}


def assert_failed_closed(wave: Wave) -> None:
    """Every failure is one the contract allows for an outage (never a 500); nobody was logged in
    unless their phone sent the approval with the right number for that very challenge; after the
    promotion, logins succeed again."""
    for attempt in wave.attempts:
        if attempt.failed_step is not None:
            allowed = set(FAILOVER_ANSWERS)
            if attempt.started < wave.promoted_at:
                allowed |= FAILOVER_ANSWERS_IN_FLIGHT
            assert (attempt.status, attempt.code) in allowed, attempt
        if attempt.logged_in:
            assert attempt.approve_sent, attempt
    assert wave.first_success_after(wave.promoted_at) is not None, "no login succeeded after the promotion"
