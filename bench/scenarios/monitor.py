"""(3, over HTTP) Redis commands per complete login as the server processes send them, seen by MONITOR.

MONITOR shows every command with its db number, so counting only db 13 (the benchmark's) is exact
even while other programs use the same Redis server. Commands that Lua scripts run inside Redis are
shown as ``lua`` and counted apart: they cost no round trip. Logins run one at a time, and each
command is attributed to the request whose send/receive window holds its timestamp.
"""
from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from typing import Any

from .. import flows
from ..client import Browser, Connection
from ..seed import redis_client
from .common import VirtualUser
from .throughput import STEPS

STOP_MARK = "bench-monitor-stop"


class Monitor:
    def __init__(self, db: int) -> None:
        self.db = db
        self.entries: list[tuple[float, str, bool]] = []  # (time, command name, inside a script)
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        client = redis_client()
        with client.monitor() as monitor:
            self._ready.set()
            for item in monitor.listen():
                if item.get("db") != self.db:
                    continue
                command = item.get("command", "")
                if STOP_MARK in command:
                    return
                name = command.split(" ", 1)[0].upper()
                self.entries.append((float(item["time"]), name, item.get("client_type") == "lua"
                                     or item.get("client_address") == "lua"))

    def __enter__(self) -> Monitor:
        self._thread.start()
        self._ready.wait(5)
        time.sleep(0.2)
        return self

    def __exit__(self, *exc: object) -> None:
        redis_client().echo(STOP_MARK)
        self._thread.join(10)


async def _logins(vus: list[VirtualUser], addr: tuple[str, int], n: int) -> list[dict[str, tuple[float, float]]]:
    windows = []
    vu = vus[0]
    for _ in range(n):
        session = vu.next_session()
        browser = Browser(addr[0], addr[1], cookies=session.cookies(), csrf_token=session.csrf_token)
        phone_conn = Connection(*addr)
        w: dict[str, tuple[float, float]] = {}

        t = time.time()
        started = await flows.start(browser)
        w["start"] = (t, time.time())
        t = time.time()
        await flows.device_fetch(phone_conn, vu.phone, started.challenge_id)
        w["device_fetch"] = (t, time.time())
        t = time.time()
        await flows.device_approve(phone_conn, vu.phone, started.challenge_id, started.display_number)
        w["device_respond"] = (t, time.time())
        t = time.time()
        status, _ = await flows.poll(browser, started, wait=0)
        w["poll"] = (t, time.time())
        if status != "approved":
            raise RuntimeError(f"poll answered {status!r}")
        windows.append(w)
        await browser.close()
        await phone_conn.close()
        await asyncio.sleep(0.05)  # keep the windows apart
    return windows


def run(vus: list[VirtualUser], addr: tuple[str, int], *, logins: int, db: int) -> dict[str, Any]:
    with Monitor(db) as monitor:
        windows = asyncio.run(_logins(vus, addr, logins))
        time.sleep(0.3)
    per_step: dict[str, Counter] = {s: Counter() for s in STEPS}
    per_step_lua: dict[str, int] = dict.fromkeys(STEPS, 0)
    outside = Counter()
    for ts, name, in_lua in monitor.entries:
        for w in windows:
            step = next((s for s, (a, b) in w.items() if a - 0.002 <= ts <= b + 0.002), None)
            if step is not None:
                break
        if step is None:
            outside[name] += 1
        elif in_lua:
            per_step_lua[step] += 1
        else:
            per_step[step][name] += 1
    n = max(len(windows), 1)
    steps = {
        s: {"commands": round(sum(per_step[s].values()) / n, 2), "in_scripts": round(per_step_lua[s] / n, 2),
            "names": {k: round(v / n, 2) for k, v in per_step[s].most_common()}}
        for s in STEPS
    }
    return {
        "logins": len(windows),
        "commands_per_login": round(sum(sum(c.values()) for c in per_step.values()) / n, 2),
        "script_commands_per_login": round(sum(per_step_lua.values()) / n, 2),
        "steps": steps,
        "unattributed": dict(outside.most_common(10)),
    }
