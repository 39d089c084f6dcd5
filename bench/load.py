"""What else the measurement saw: the driver's own event-loop lag, its CPU, and how busy the machine was.

A latency the driver reports includes the time its own event loop took to notice the response;
on two cores shared with the servers that can be most of a tail. Each latency scenario reports
these next to its figures, so a reader can tell the servers' latency from the driver's.
"""
from __future__ import annotations

import asyncio
import time
from types import TracebackType
from typing import Any

from .stats import summary_ms

TICK = 0.005  # the monitor's sleep: lag = how much later than asked it woke


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
