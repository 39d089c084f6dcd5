"""(2) Throughput: complete push logins per second against a bare DRF endpoint, same server, same run.

A complete login is the four requests of the contract: the browser starts a push, the phone fetches
the challenge and approves it with the number, the browser's poll returns ``approved`` (and logs
the session in). The bare endpoint is a DRF view with session auth returning the user's pk. Both run
closed-loop with the same number of concurrent clients on keep-alive connections, bare before and
after the logins, so drift in the machine shows up as a difference between the two bare phases.
"""
from __future__ import annotations

import time
from typing import Any

from .. import flows
from ..client import Browser, Connection
from ..load import measured_cpu
from ..seed import BrowserSession
from ..servers import Server
from ..stats import summary_ms
from .common import VirtualUser, error_summary, run_pool

STEPS = ("start", "device_fetch", "device_respond", "poll")


async def bare_phase(sessions: list[BrowserSession], addr: tuple[str, int], total: int, time_limit: float
                     ) -> dict[str, Any]:
    browsers = [flows.browser_for(s, *addr) for s in sessions]
    remaining = {"n": total}
    latencies: list[float] = []
    errors: list[str] = []

    async def worker(browser: Browser) -> None:
        deadline = time.monotonic() + time_limit
        while remaining["n"] > 0 and time.monotonic() < deadline:
            remaining["n"] -= 1
            try:
                resp = await flows.bare_ping(browser)
                latencies.append(resp.received_at - resp.sent_at)
            except Exception as exc:
                errors.append(f"{type(exc).__name__}: {exc}"[:300])

    import asyncio

    started = time.perf_counter()
    await asyncio.gather(*(worker(b) for b in browsers))
    elapsed = time.perf_counter() - started
    for b in browsers:
        await b.close()
    return {"requests": len(latencies), "elapsed_s": round(elapsed, 3),
            "per_s": round(len(latencies) / elapsed, 1) if elapsed else None,
            "latency_ms": summary_ms(latencies), "errors": error_summary(errors)}


async def login_phase(vus: list[VirtualUser], addr: tuple[str, int], total: int, time_limit: float
                      ) -> dict[str, Any]:
    conns = {id(vu): (Connection(*addr), Connection(*addr)) for vu in vus}
    step_latency: dict[str, list[float]] = {s: [] for s in STEPS}

    async def login(vu: VirtualUser, _job: int) -> float:
        browser_conn, phone_conn = conns[id(vu)]
        session = vu.next_session()
        browser = Browser(addr[0], addr[1], cookies=session.cookies(), csrf_token=session.csrf_token)
        browser.conn = browser_conn  # one keep-alive connection per client, like the bare phase
        t0 = time.perf_counter()
        started = await flows.start(browser)
        _, fetched = await flows.device_fetch(phone_conn, vu.phone, started.challenge_id)
        approved = await flows.device_approve(phone_conn, vu.phone, started.challenge_id, started.display_number)
        status, polled = await flows.poll(browser, started, wait=0)
        if status != "approved":
            raise RuntimeError(f"poll answered {status!r}")
        for step, resp in zip(STEPS, (started.resp, fetched, approved, polled), strict=True):
            step_latency[step].append(resp.received_at - resp.sent_at)
        return time.perf_counter() - t0

    results, errors, elapsed = await run_pool(range(total), vus, login, time_limit=time_limit)
    for browser_conn, phone_conn in conns.values():
        await browser_conn.close()
        await phone_conn.close()
    return {"logins": len(results), "elapsed_s": round(elapsed, 3),
            "per_s": round(len(results) / elapsed, 1) if elapsed else None,
            "login_ms": summary_ms(results), "step_ms": {s: summary_ms(v) for s, v in step_latency.items()},
            "errors": error_summary(errors)}


async def run(vus: list[VirtualUser], bare_sessions: list[BrowserSession], server: Server, *,
              logins: int, bare_requests: int, time_limit: float) -> dict[str, Any]:
    """Bare / logins / bare; the ratio of the rates, and the same in the workers' CPU (``/proc``)."""
    addr = (server.host, server.port)
    bare_before = await measured_cpu(server, bare_phase(bare_sessions, addr, bare_requests // 2, time_limit / 3),
                                     "requests")
    login = await measured_cpu(server, login_phase(vus, addr, logins, time_limit / 3), "logins")
    bare_after = await measured_cpu(
        server, bare_phase(bare_sessions, addr, bare_requests - bare_requests // 2, time_limit / 3), "requests")
    bare_rps = [p["per_s"] for p in (bare_before, bare_after) if p["per_s"]]
    bare_mean = sum(bare_rps) / len(bare_rps) if bare_rps else None
    ratio = round(bare_mean / login["per_s"], 2) if bare_mean and login["per_s"] else None
    cpu_bare = [p["server_cpu_ms_each"] for p in (bare_before, bare_after) if p["server_cpu_ms_each"]]
    cpu_bare_mean = sum(cpu_bare) / len(cpu_bare) if cpu_bare else None
    cpu_login = login["server_cpu_ms_each"]
    return {"concurrency": len(vus), "bare_before": bare_before, "logins": login, "bare_after": bare_after,
            "bare_per_s": round(bare_mean, 1) if bare_mean else None,
            "bare_requests_per_login": ratio, "requests_per_login": len(STEPS),
            "cpu_ms_per_bare": round(cpu_bare_mean, 2) if cpu_bare_mean else None, "cpu_ms_per_login": cpu_login,
            "cpu_bare_requests_per_login":
                round(cpu_login / cpu_bare_mean, 2) if cpu_login and cpu_bare_mean else None}
