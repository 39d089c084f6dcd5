"""(7) A slow push provider: ``POST api/push/`` latency when the provider takes 2 s to answer.

The same closed loop of push starts (browsers only: nobody answers, each start supersedes the
user's previous challenge) against three WSGI servers that differ only in the provider and the
delivery: an instant provider with the default executor delivery, a provider that sleeps
``PUSHMFA_BENCH_PUSH_DELAY`` (2 s) with the executor, and the same slow provider with the v1
``"inline"`` delivery (the request waits for the provider: a comparison, with fewer starts). The
sink counts every push it was given in Redis, so the run also reports whether, and how soon after
the last start, every phone got its push.
"""
from __future__ import annotations

import time
from typing import Any

from .. import flows
from ..client import Browser, Connection
from ..stats import summary_ms
from .common import VirtualUser, error_summary, run_pool

PUSHED_KEY = "pushmfa-bench:pushed"  # INCR'd by bench.pushsink for every push when it counts in Redis


async def run(vus: list[VirtualUser], addr: tuple[str, int], *, starts: int, warmup: int, time_limit: float,
              drain_limit: float = 120.0) -> dict[str, Any]:
    """``warmup`` starts first (not measured: the workers' first requests, their delivery threads
    starting), then ``starts`` measured ones; then the wait until the sink counted every push."""
    import asyncio

    from ..seed import redis_client

    redis = redis_client()
    conns = {id(vu): Connection(*addr) for vu in vus}
    latencies: list[float] = []

    async def start(vu: VirtualUser, job: int) -> None:
        session = vu.next_session()
        browser = Browser(addr[0], addr[1], cookies=session.cookies(), csrf_token=session.csrf_token)
        browser.conn = conns[id(vu)]
        started = await flows.start(browser)
        if job >= 0:
            latencies.append(started.resp.received_at - started.resp.sent_at)

    await run_pool(range(-warmup, 0), vus, start, time_limit=time_limit)
    for _ in range(int(drain_limit * 10)):  # the warm-up's pushes go out before the measured phase
        if int(redis.get(PUSHED_KEY) or 0) >= warmup:
            break
        await asyncio.sleep(0.1)
    redis.delete(PUSHED_KEY)
    _results, errors, elapsed = await run_pool(range(starts), vus, start, time_limit=time_limit)
    done_at = time.monotonic()
    for conn in conns.values():
        await conn.close()
    # every start pushed to the user's one phone: wait for the sink to have seen them all
    pushed = 0
    while time.monotonic() - done_at < drain_limit:
        pushed = int(redis.get(PUSHED_KEY) or 0)
        if pushed >= len(latencies):
            break
        time.sleep(0.05)
    drained = round(time.monotonic() - done_at, 2) if pushed >= len(latencies) else None
    return {"starts": len(latencies), "elapsed_s": round(elapsed, 3), "start_ms": summary_ms(latencies),
            "pushed": pushed, "all_pushed_s_after_last_start": drained, "errors": error_summary(errors)}
