"""(5) Growth: start / device fetch / respond / poll latency with 0, 10k and 100k pending challenges
in Redis (they must stay flat: no scans), and the Redis memory one pending challenge costs.

The filler challenges are written through the app's own store (``store.create``), each for its own
user, so they are exactly what real logins leave behind.
"""
from __future__ import annotations

import asyncio
import time
from typing import Any

from .. import flows
from ..client import Browser, Connection
from ..seed import redis_client, seed_pending_challenges
from ..stats import summary_ms
from .common import VirtualUser, error_summary, run_pool
from .throughput import STEPS


def redis_footprint() -> dict[str, int]:
    """Keys in the benchmark db, the sum of their ``MEMORY USAGE``, and the server's used memory."""
    client = redis_client()
    total = 0
    keys = 0
    batch: list[bytes] = []

    def flush() -> int:
        pipe = client.pipeline(transaction=False)
        for key in batch:
            pipe.memory_usage(key, samples=0)
        return sum(v or 0 for v in pipe.execute())

    for key in client.scan_iter(count=5000):
        batch.append(key)
        keys += 1
        if len(batch) >= 5000:
            total += flush()
            batch.clear()
    if batch:
        total += flush()
    return {"keys": keys, "memory_usage_bytes": total, "used_memory": int(client.info("memory")["used_memory"])}


async def measure(vus: list[VirtualUser], addr: tuple[str, int], flows_n: int, time_limit: float) -> dict[str, Any]:
    step_latency: dict[str, list[float]] = {s: [] for s in STEPS}

    async def login(vu: VirtualUser, _job: int) -> None:
        session = vu.next_session()
        browser = Browser(addr[0], addr[1], cookies=session.cookies(), csrf_token=session.csrf_token)
        phone_conn = Connection(*addr)
        try:
            started = await flows.start(browser)
            _, fetched = await flows.device_fetch(phone_conn, vu.phone, started.challenge_id)
            approved = await flows.device_approve(phone_conn, vu.phone, started.challenge_id,
                                                  started.display_number)
            status, polled = await flows.poll(browser, started, wait=0)
            if status != "approved":
                raise RuntimeError(f"poll answered {status!r}")
            for step, resp in zip(STEPS, (started.resp, fetched, approved, polled), strict=True):
                step_latency[step].append(resp.received_at - resp.sent_at)
        finally:
            await browser.close()
            await phone_conn.close()

    _, errors, elapsed = await run_pool(range(flows_n), vus, login, time_limit=time_limit)
    return {"elapsed_s": round(elapsed, 2), "step_ms": {s: summary_ms(v) for s, v in step_latency.items()},
            "errors": error_summary(errors)}


def run(vus_per_level: list[list[VirtualUser]], addr: tuple[str, int], *, levels: list[int], flows_n: int,
        time_limit: float) -> dict[str, Any]:
    """Synchronous driver: seeding uses the store in this process, measuring runs an event loop."""
    out: dict[str, Any] = {"levels": {}}
    seeded = 0
    base = redis_footprint()
    for level, vus in zip(levels, vus_per_level, strict=True):
        seed_s = 0.0
        if level > seeded:
            before = redis_footprint()
            seed_s = seed_pending_challenges(level - seeded, user_id_base=10_000_000 + seeded)
            after = redis_footprint()
            added = level - seeded
            out.setdefault("bytes_per_pending_challenge", {})[str(level)] = {
                "memory_usage_sum": round((after["memory_usage_bytes"] - before["memory_usage_bytes"]) / added, 1),
                "used_memory_delta": round((after["used_memory"] - before["used_memory"]) / added, 1),
                "keys_per_challenge": round((after["keys"] - before["keys"]) / added, 2),
            }
            seeded = level
        started = time.perf_counter()
        result = asyncio.run(measure(vus, addr, flows_n, time_limit))
        result["seed_s"] = round(seed_s, 2)
        result["measure_s"] = round(time.perf_counter() - started, 2)
        out["levels"][str(level)] = result
    out["redis_keys_at_start"] = base["keys"]
    return out
