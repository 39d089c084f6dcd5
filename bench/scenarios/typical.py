"""(7) The "typical site" of issue 16, and where each request of a login spends the server's CPU.

The servers for it are started by the runner with ``PUSHMFA_BENCH_SITE=typical`` (gunicorn, 2 gthread
workers x 32 threads; persistent connections, ``CONN_MAX_AGE=60`` with health checks, no pool) or
``typical-asgi`` (uvicorn, 2 workers; ``CONN_MAX_AGE=0``, a connection per request, since Django's
docs rule persistent connections out under ASGI: each request's thread would keep its own, and
this machine's PostgreSQL refused new ones within seconds when tried); database sessions and the
example site's middleware stack in both. Here: 8 clients in a closed
loop, phases alternating bare / login / bare / login / bare, a ratio per pair (the bare rate around
each login phase ÷ its login rate), and the workers' CPU time per phase (``/proc/<pid>/stat``), so
the cost of a login is also read as CPU ms against a bare request's.

Per-step CPU under the same load comes from phases that stop a login early: "start" only (the same
pending session starts push after push, each superseding the last), "start + device fetch",
"start + fetch + respond" (the approved challenge is superseded by the next start), and the complete
login; each step's CPU is the difference between two of them. Optionally a py-spy profile of the
workers during a login phase (``--py-spy``): its folded stacks and the top functions.
"""
from __future__ import annotations

import asyncio
import collections
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from .. import flows
from ..client import Browser, Connection
from ..load import measured_cpu
from ..seed import BrowserSession
from ..servers import Server
from ..stats import summary_ms
from .common import VirtualUser, error_summary
from .throughput import bare_phase, login_phase

PARTIAL = ("start", "start_fetch", "start_fetch_respond")


async def partial_phase(vus: list[VirtualUser], addr: tuple[str, int], total: int, upto: str, time_limit: float
                        ) -> dict[str, Any]:
    """Logins stopped after ``upto``; each client keeps one pending session (it never logs in)."""
    remaining = {"n": total}
    done: list[float] = []
    errors: list[str] = []

    async def worker(vu: VirtualUser) -> None:
        session = vu.next_session()
        browser = Browser(addr[0], addr[1], cookies=session.cookies(), csrf_token=session.csrf_token)
        phone_conn = Connection(*addr)
        deadline = time.monotonic() + time_limit
        while remaining["n"] > 0 and time.monotonic() < deadline:
            remaining["n"] -= 1
            t0 = time.perf_counter()
            try:
                started = await flows.start(browser)
                if upto != "start":
                    await flows.device_fetch(phone_conn, vu.phone, started.challenge_id)
                if upto == "start_fetch_respond":
                    await flows.device_approve(phone_conn, vu.phone, started.challenge_id, started.display_number)
                done.append(time.perf_counter() - t0)
            except Exception as exc:  # noqa: BLE001
                errors.append(f"{type(exc).__name__}: {exc}"[:300])
        await browser.close()
        await phone_conn.close()

    started_at = time.perf_counter()
    await asyncio.gather(*(worker(vu) for vu in vus))
    elapsed = time.perf_counter() - started_at
    return {"flows": len(done), "elapsed_s": round(elapsed, 3), "per_s": round(len(done) / elapsed, 1),
            "flow_ms": summary_ms(done), "errors": error_summary(errors)}


async def run(server: Server, vus: list[VirtualUser], bare_sessions: list[BrowserSession], *, pairs: int,
              logins: int, bare_requests: int, partial: int, time_limit: float,
              profile_to: Path | None = None) -> dict[str, Any]:
    addr = (server.host, server.port)
    phase_limit = time_limit / (2 * pairs + 1 + len(PARTIAL))
    bare = [await measured_cpu(server, bare_phase(bare_sessions, addr, bare_requests, phase_limit), "requests")]
    login = []
    for _ in range(pairs):
        login.append(await measured_cpu(server, login_phase(vus, addr, logins, phase_limit), "logins"))
        bare.append(
            await measured_cpu(server, bare_phase(bare_sessions, addr, bare_requests, phase_limit), "requests"))
    ratios = []
    for i, phase in enumerate(login):
        around = [p["per_s"] for p in (bare[i], bare[i + 1]) if p["per_s"]]
        if around and phase["per_s"]:
            ratios.append(round(sum(around) / len(around) / phase["per_s"], 2))
    steps = {name: await measured_cpu(server, partial_phase(vus, addr, partial, name, phase_limit), "flows")
             for name in PARTIAL}
    profiled = None
    if profile_to is not None:  # one more login phase, under py-spy (not in the ratios: sampling costs)
        spy = _py_spy(server, profile_to)
        profiled = await measured_cpu(server, login_phase(vus, addr, logins, phase_limit), "logins")
        _stop_py_spy(spy)
    cpu_bare = _mean(p["server_cpu_ms_each"] for p in bare)
    cpu_login = _mean(p["server_cpu_ms_each"] for p in login)
    cpu = {name: steps[name]["server_cpu_ms_each"] for name in PARTIAL}
    step_cpu = None
    if None not in cpu.values() and cpu_login is not None:
        step_cpu = {
            "start": cpu["start"],
            "device_fetch": round(cpu["start_fetch"] - cpu["start"], 2),
            "device_respond": round(cpu["start_fetch_respond"] - cpu["start_fetch"], 2),
            "poll": round(cpu_login - cpu["start_fetch_respond"], 2),
        }
    mean_ratio = round(sum(ratios) / len(ratios), 2) if ratios else None
    return {
        "server": server.name, "clients": len(vus), "bare": bare, "logins": login, "partial": steps,
        "profiled_logins": profiled, "ratios": ratios, "bare_requests_per_login": mean_ratio,
        "cpu_ms_per_bare": cpu_bare, "cpu_ms_per_login": cpu_login,
        "cpu_bare_requests_per_login": round(cpu_login / cpu_bare, 2) if cpu_bare and cpu_login else None,
        "step_cpu_ms": step_cpu,
        "step_cpu_in_bare_requests": {k: round(v / cpu_bare, 2) for k, v in step_cpu.items()}
        if step_cpu and cpu_bare else None,
    }


def _mean(values: Any) -> float | None:
    values = [v for v in values if v is not None]
    return round(sum(values) / len(values), 2) if values else None


def _py_spy(server: Server, out: Path) -> list[subprocess.Popen]:
    binary = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(binary).exists():
        raise RuntimeError("--py-spy needs py-spy (pip install py-spy)")
    procs = []
    for pid in server.worker_pids():
        procs.append(subprocess.Popen(
            [binary, "record", "--pid", str(pid), "--format", "raw", "--rate", "250", "--nonblocking",
             "--output", str(out.with_name(f"{out.stem}-{pid}.folded"))],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    return procs


def _stop_py_spy(procs: list[subprocess.Popen]) -> None:
    import signal

    for proc in procs:
        proc.send_signal(signal.SIGINT)  # py-spy writes its output on SIGINT
    for proc in procs:
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()


def summarize_folded(paths: list[Path], top: int = 40) -> str:
    """The functions that held the CPU (own samples and samples below them), from py-spy's folded stacks."""
    own: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    for path in paths:
        if not path.exists():
            continue
        for line in path.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            if not count.isdigit():
                continue
            n = int(count)
            frames = [f for f in stack.split(";") if f]
            if not frames:
                continue
            total += n
            own[frames[-1]] += n
            for frame in set(frames):
                inclusive[frame] += n
    if not total:
        return "no samples"
    lines = [f"{total} samples (workers busy; idle threads not sampled)", "", "inclusive %  function"]
    lines += [f"{100 * n / total:10.1f}  {f}" for f, n in inclusive.most_common(top)]
    lines += ["", "own %  function"]
    lines += [f"{100 * n / total:6.1f}  {f}" for f, n in own.most_common(top)]
    return "\n".join(lines)
