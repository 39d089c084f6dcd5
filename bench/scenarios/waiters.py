"""(4) Concurrent waiters under ASGI: how many browsers can long-poll at once, at what memory, and
how fast a sample of them is woken while all the others keep waiting.

Every waiter is a browser with its own pending session and challenge (seeded directly: the password
step and the start are measured elsewhere), holding one connection with ``?wait=30`` open and
re-polling when a wait ends still pending, as the app's page script does.
"""
from __future__ import annotations

import asyncio
import time
from typing import Any

from .. import flows
from ..client import Browser, Connection
from ..seed import BrowserSession, Phone
from ..servers import Server
from ..stats import summary_ms
from .common import error_summary


def established_connections(port: int) -> int:
    """Established TCP connections to 127.0.0.1:``port`` (server side), from /proc/net/tcp."""
    local = f"0100007F:{port:04X}"
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                next(f)
                for line in f:
                    parts = line.split()
                    if parts[1].endswith(local[-13:]) and parts[3] == "01":
                        count += 1
        except OSError:
            continue
    return count


class Waiter:
    def __init__(self, session: BrowserSession, challenge_id: str, addr: tuple[str, int], poll_suffix: str) -> None:
        self.browser = Browser(addr[0], addr[1], cookies=session.cookies(), csrf_token=session.csrf_token)
        self.challenge_id = challenge_id
        self.path = f"{flows.API}push/{challenge_id}/{poll_suffix}?wait=30"
        self.in_flight = False
        self.status: str | None = None
        self.returned_at: float | None = None
        self.error: str | None = None
        self.polls = 0

    async def run(self, stop: asyncio.Event) -> None:
        try:
            while not stop.is_set():
                self.in_flight = True
                self.polls += 1
                resp = await asyncio.wait_for(self.browser.request("GET", self.path), 30 + flows.REQUEST_TIMEOUT)
                self.in_flight = False
                if resp.status != 200:
                    self.error = f"HTTP {resp.status} {resp.body[:100]!r}"
                    return
                self.status = resp.json()["status"]
                if self.status != "pending":
                    self.returned_at = resp.received_at
                    return
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # reported
            self.error = f"{type(exc).__name__}: {exc}"[:200]
        finally:
            self.in_flight = False
            await self.browser.close()


async def wake_sample(addr: tuple[str, int], pairs: list[tuple[Phone, Waiter]], numbers: dict[str, str],
                      approve_per_s: int) -> tuple[list[float], list[str]]:
    """Approve each waiter's challenge through the phone API, one at a time at ``approve_per_s``,
    while all the others keep waiting; returns the wake latencies (approve response → poll return)."""
    latencies: list[float] = []
    errors: list[str] = []
    approvals: list[tuple[Waiter, Any]] = []
    phone_conn = Connection(*addr)
    for phone, waiter in pairs:
        try:
            resp = await flows.device_approve(phone_conn, phone, waiter.challenge_id, numbers[phone.user_id])
            approvals.append((waiter, resp))
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}"[:300])
        await asyncio.sleep(1 / approve_per_s)
    await phone_conn.close()
    wake_deadline = time.monotonic() + 10
    while time.monotonic() < wake_deadline and any(w.returned_at is None and w.error is None for w, _ in approvals):
        await asyncio.sleep(0.05)
    for waiter, resp in approvals:
        if waiter.returned_at is not None and waiter.status == "approved":
            latencies.append(waiter.returned_at - resp.received_at)
        else:
            errors.append(f"not woken: status={waiter.status} error={waiter.error}")
    return latencies, errors


async def run(server: Server, sessions: list[BrowserSession], challenge_ids: list[str], sample: list[Phone],
              sample_numbers: dict[str, str], *, poll_suffix: str = "", ramp_per_s: int, settle_s: float,
              hold_s: float, approve_per_s: int, time_limit: float) -> dict[str, Any]:
    """``sessions[i]`` waits on ``challenge_ids[i]``; the first ``len(sample)`` belong to ``sample``'s users."""
    addr = (server.host, server.port)
    deadline = time.monotonic() + time_limit
    rss_before = server.workers_rss()
    threads_before = server.workers_threads()
    conns_before = established_connections(server.port)
    stop = asyncio.Event()
    waiters = [Waiter(s, c, addr, poll_suffix) for s, c in zip(sessions, challenge_ids, strict=True)]
    tasks: list[asyncio.Task] = []
    batch = max(1, ramp_per_s // 10)
    stages: list[dict[str, Any]] = []
    # Ramp up in stages (100, 1,000, 2,000, 5,000, 10,000, ... the target), each held longer than any server-side
    # timeout a waiter could hit while it waits (the DB pool's 10 s), so only waiters that really
    # keep waiting are counted; stop at the first stage where more than 1% failed.
    sizes = sorted({n for n in (100, 1_000, 2_000, 5_000, 10_000) if n < len(waiters)} | {len(waiters)})
    by_user = {w_session.user_id: w for w_session, w in zip(sessions, waiters, strict=True)}
    unused = [(phone, by_user[phone.user_id]) for phone in sample]
    per_stage = max(1, len(sample) // len(sizes))
    latencies: list[float] = []
    approve_errors: list[str] = []
    waiting_now = failed_while_waiting = established = 0
    rss_during = rss_before
    for size in sizes:
        ramp_started = time.perf_counter()
        for i in range(len(tasks), size, batch):
            tasks.extend(asyncio.create_task(w.run(stop)) for w in waiters[i:min(i + batch, size)])
            await asyncio.sleep(0.1)
        settle_deadline = time.monotonic() + settle_s
        while time.monotonic() < min(settle_deadline, deadline):
            current = established_connections(server.port) - conns_before
            # woken and failed waiters have left: the rest must all be connected and waiting
            expected = size - sum(1 for w in waiters[:size] if w.returned_at is not None or w.error is not None)
            if current >= expected and sum(w.in_flight for w in waiters) >= expected:
                break
            await asyncio.sleep(0.25)
        ramp_s = time.perf_counter() - ramp_started
        await asyncio.sleep(hold_s)
        waiting_now = sum(1 for w in waiters if w.in_flight and w.error is None)
        failed_while_waiting = sum(1 for w in waiters if w.error is not None)
        established = established_connections(server.port) - conns_before
        rss_during = server.workers_rss()
        stages.append({"asked": size, "ramp_s": round(ramp_s, 2), "waiting": waiting_now,
                       "failed": failed_while_waiting, "established_connections": established,
                       "workers_rss_mb": round(rss_during / 2**20, 1), "workers_threads": server.workers_threads(),
                       "rss_per_waiter_kb": round((rss_during - rss_before) / max(waiting_now, 1) / 1024, 2)})
        # Wake a few of the waiters already started, while all the others keep waiting.
        pairs = [(p, w) for p, w in unused if w in waiters[:size]][:per_stage]
        unused = [pw for pw in unused if pw not in pairs]
        stage_latencies, stage_errors = await wake_sample(addr, pairs, sample_numbers, approve_per_s)
        latencies += stage_latencies
        approve_errors += stage_errors
        stages[-1]["wake_ms"] = summary_ms(stage_latencies)
        stages[-1]["wake_errors"] = len(stage_errors)
        if failed_while_waiting > size / 100 or time.monotonic() > deadline:
            break
    target = len(tasks)

    still_waiting = sum(1 for w in waiters if w.in_flight)

    stop.set()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    waiter_errors = [w.error for w in waiters if w.error]
    rss_delta = rss_during - rss_before
    return {
        "target": len(waiters),
        "started": target,
        "stages": stages,
        "waiting_at_measure": waiting_now,
        "failed_while_waiting": failed_while_waiting,
        "hold_s": hold_s,
        "established_connections": established,
        "still_waiting_after_wakes": still_waiting,
        "workers_rss_before_mb": round(rss_before / 2**20, 1),
        "workers_threads_before": threads_before,
        "workers_rss_during_mb": round(rss_during / 2**20, 1),
        "rss_per_waiter_kb": round(rss_delta / max(waiting_now, 1) / 1024, 2),
        "woken": len(latencies),
        "wake_ms": summary_ms(latencies),
        "polls_per_waiter": round(sum(w.polls for w in waiters) / max(len(waiters), 1), 2),
        "errors": error_summary(waiter_errors + approve_errors),
    }
