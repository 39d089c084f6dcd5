"""(1) Wake latency: the phone's approve response → the browser's long-poll returning.

Side by side, in the same run and interleaved: the same flow with a browser that re-polls every
second (how most implementations wait). Also used for (6), with the browser and the phone talking
to two different app-server processes that share only Redis and PostgreSQL.
"""
from __future__ import annotations

import asyncio
import random
import time
from typing import Any

from .. import flows
from ..client import Connection
from ..load import LoadMonitor
from ..stats import summary_ms
from .common import VirtualUser, error_summary, run_pool

REPOLL_INTERVAL = 1.0


async def one_flow(vu: VirtualUser, mode: str, browser_addr: tuple[str, int], phone_addr: tuple[str, int],
                   rng: random.Random) -> dict[str, Any]:
    """One login; returns the latencies of this flow (seconds)."""
    session = vu.next_session()
    browser = flows.browser_for(session, *browser_addr)
    phone_conn = Connection(*phone_addr)
    try:
        started = await flows.start(browser)
        if mode == "longpoll":
            poll_task = asyncio.create_task(flows.poll(browser, started, wait=30))
            # The phone gets the push, fetches the challenge, the user reads and taps: a delay in
            # which the browser's long-poll is certainly waiting in the server.
            await flows.device_fetch(phone_conn, vu.phone, started.challenge_id)
            await asyncio.sleep(rng.uniform(0.05, 0.15))
            approved = await flows.device_approve(phone_conn, vu.phone, started.challenge_id, started.display_number)
            status, poll_resp = await poll_task
            seen_at, polls = poll_resp.received_at, 1
        else:
            approve_at = time.perf_counter() + rng.uniform(0.05, 0.05 + REPOLL_INTERVAL)
            result: dict[str, Any] = {}

            async def phone() -> None:
                await flows.device_fetch(phone_conn, vu.phone, started.challenge_id)
                await asyncio.sleep(max(0.0, approve_at - time.perf_counter()))
                result["approved"] = await flows.device_approve(
                    phone_conn, vu.phone, started.challenge_id, started.display_number)

            phone_task = asyncio.create_task(phone())
            polls = 0
            while True:
                polls += 1
                status, poll_resp = await flows.poll(browser, started, wait=0)
                if status != "pending":
                    break
                await asyncio.sleep(REPOLL_INTERVAL)
            await phone_task
            approved, seen_at = result["approved"], poll_resp.received_at
        if status != "approved":
            raise RuntimeError(f"poll ended with {status!r}")
        return {"mode": mode, "wake": seen_at - approved.received_at, "from_send": seen_at - approved.sent_at,
                "polls": polls}
    finally:
        await browser.close()
        await phone_conn.close()


async def run(vus_longpoll: list[VirtualUser], vus_repoll: list[VirtualUser], *, browser_addr: tuple[str, int],
              phone_addr: tuple[str, int], n_longpoll: int, n_repoll: int, time_limit: float, seed: int = 7
              ) -> dict[str, Any]:
    """Long-poll and re-poll logins at the same time, each mode with its own pool of clients (the
    re-polling browsers mostly sleep, so they get more clients to finish in the same time)."""
    rng = random.Random(seed)

    def fn_for(mode: str):
        async def fn(vu: VirtualUser, _job: int) -> dict[str, Any]:
            return await one_flow(vu, mode, browser_addr, phone_addr, rng)
        return fn

    pools = [("longpoll", vus_longpoll, n_longpoll), ("repoll", vus_repoll, n_repoll)]
    started = time.perf_counter()
    async with LoadMonitor() as load:
        outcomes = await asyncio.gather(*(run_pool(range(n), vus, fn_for(mode), time_limit=time_limit)
                                          for mode, vus, n in pools if n))
    elapsed = time.perf_counter() - started
    results = [r for res, _errs, _t in outcomes for r in res]
    errors = [e for _res, errs, _t in outcomes for e in errs]
    out: dict[str, Any] = {"elapsed_s": round(elapsed, 2), "errors": error_summary(errors),
                           "concurrency": {"longpoll": len(vus_longpoll), "repoll": len(vus_repoll)},
                           "load": load.report()}
    for mode in ("longpoll", "repoll"):
        rows = [r for r in results if r["mode"] == mode]
        out[mode] = {
            "wake_ms": summary_ms([r["wake"] for r in rows]),
            "from_approve_sent_ms": summary_ms([r["from_send"] for r in rows]),
            "polls_per_login": round(sum(r["polls"] for r in rows) / len(rows), 2) if rows else None,
        }
    return out
