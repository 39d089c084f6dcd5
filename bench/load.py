"""What else the measurement saw: the driver's own event-loop lag, its CPU, and how busy the machine was.

A latency the driver reports includes the time its own event loop took to notice the response;
on two cores shared with the servers that can be most of a tail. Each latency scenario reports
these next to its figures, so a reader can tell the servers' latency from the driver's.
"""
from __future__ import annotations

import asyncio
import os
import time
from types import TracebackType
from typing import Any

from .servers import Server
from .stats import summary_ms

TICK = 0.005  # the monitor's sleep: lag = how much later than asked it woke
TICKS = os.sysconf("SC_CLK_TCK")


def _machine_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs so far (``/proc/stat``); (0, 0) where there is none."""
    try:
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
    except (OSError, ValueError):
        return 0, 0
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return sum(fields) - idle, sum(fields)


class LoadMonitor:
    """``async with LoadMonitor() as load: ...`` then ``load.report()``: the loop lag (p50/p99/max
    of how late a 5 ms sleep woke), the driver's CPU share of one core, the machine's busy share."""

    def __init__(self) -> None:
        self.lags: list[float] = []
        self._task: asyncio.Task[None] | None = None

    async def _watch(self) -> None:
        while True:
            asked = time.perf_counter()
            await asyncio.sleep(TICK)
            self.lags.append(max(0.0, time.perf_counter() - asked - TICK))

    async def __aenter__(self) -> LoadMonitor:
        self._wall, self._cpu, self._machine = time.perf_counter(), time.process_time(), _machine_ticks()
        self._task = asyncio.create_task(self._watch())
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        assert self._task is not None
        self._task.cancel()
        try:
            await self._task
        except asyncio.CancelledError:
            pass
        wall = time.perf_counter() - self._wall
        busy, total = (now - then for now, then in zip(_machine_ticks(), self._machine, strict=True))
        self.driver_cpu_share = round((time.process_time() - self._cpu) / wall, 3) if wall else None
        self.machine_busy = round(busy / total, 3) if total else None

    def report(self) -> dict[str, Any]:
        return {"driver_loop_lag_ms": summary_ms(self.lags), "driver_cpu_share": self.driver_cpu_share,
                "machine_busy": self.machine_busy}


def cpu_seconds(server: Server) -> float:
    """User + system CPU of the server's workers so far (the master is idle)."""
    total = 0
    for pid in server.worker_pids():
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return total / TICKS


async def measured_cpu(server: Server, coro: Any, count_key: str) -> dict[str, Any]:
    """Run ``coro`` (a phase returning a dict with ``count_key``); add the server's CPU for it: in all,
    and per counted item."""
    cpu0 = cpu_seconds(server)
    result = await coro
    cpu = cpu_seconds(server) - cpu0
    n = result.get(count_key) or 0
    result["server_cpu_s"] = round(cpu, 3)
    result["server_cpu_ms_each"] = round(1000 * cpu / n, 2) if n else None
    return result
