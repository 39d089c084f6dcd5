"""Runs the scenarios in order and collects their results (called by ``python -m bench``)."""
from __future__ import annotations

import asyncio
import math
import os
import resource
import time
import traceback
from pathlib import Path
from typing import Any

from . import demo_soak, inprocess, seed, servers
from .config import Config
from .scenarios import growth, monitor, slow_provider, throughput, typical, waiters, wake
from .scenarios.common import make_virtual_users


def _raise_fd_limit() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard if hard != resource.RLIM_INFINITY else 65536
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def _sessions_each(jobs: int, workers: int) -> int:
    # Workers pull from one queue, so a fast one runs more than its share: give each twice as many.
    return 2 * math.ceil(jobs / workers) + 5


def _log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def _server_env() -> dict[str, str]:
    env = dict(os.environ)
    env["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    env["PYTHONPATH"] = str(servers.ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


SLOW_PROVIDER_VARIANTS = (  # name, provider delay (s), delivery, executor threads per process
    ("instant_executor", "0", "executor", "64"),
    ("slow_executor", "2", "executor", "64"),
    ("slow_inline", "2", "inline", "4"),
)


def slow_provider_run(cfg: Config, phones: list, env: dict[str, str], log_dir: Path) -> dict[str, Any]:
    """``POST api/push/`` with an instant and a 2 s provider, each on its own WSGI server (see the scenario)."""
    workers = 8
    out: dict[str, Any] = {"clients": workers}
    for name, delay, delivery, threads in SLOW_PROVIDER_VARIANTS:
        starts = cfg.slow_provider_inline_starts if delivery == "inline" else cfg.slow_provider_starts
        server_env = {**env, "PUSHMFA_BENCH_PUSH_DELAY": delay, "PUSHMFA_BENCH_PUSH_DELIVERY": delivery,
                      "PUSHMFA_BENCH_DELIVERY_THREADS": threads}
        server = servers.start("wsgi", server_env, log_dir, name=f"wsgi-{name}")
        try:
            vus = make_virtual_users(phones[:workers], _sessions_each(starts + 2 * workers, workers))
            out[name] = asyncio.run(slow_provider.run(vus, (server.host, server.port), starts=starts,
                                                      warmup=2 * workers, time_limit=cfg.time_limit))
        finally:
            server.stop()
    fast, slow = _g99(out, "instant_executor"), _g99(out, "slow_executor")
    if fast is not None and slow is not None:
        out["p99_difference_ms"] = round(slow - fast, 3)
        out["p99_ratio"] = round(slow / fast, 2) if fast else None
    return out


def _g99(out: dict[str, Any], name: str) -> float | None:
    return (out.get(name) or {}).get("start_ms", {}).get("p99")


def run_all(cfg: Config, only: list[str], results: dict[str, Any], out_dir: Path, stamp: str, *,
            py_spy: bool = False) -> None:
    from django.db import connections

    scen = results["scenarios"]
    results["fd_limit"] = _raise_fd_limit()
    from django.conf import settings

    _log(f"database {settings.DATABASES['default']['NAME']}: drop, create, migrate; {settings.BENCH_REDIS_URL}: flush")
    seed.recreate_database()
    seed.flush_redis()
    n_users = max(cfg.phones, cfg.waiters if "waiters" in only else 0)
    user_ids = seed.create_users(n_users)
    phones = seed.pair_phones(user_ids[: cfg.phones])
    _log(f"seeded {len(user_ids)} users, {len(phones)} paired phones")

    def guarded(name: str, fn: Any) -> None:
        if name not in only:
            return
        _log(f"{name} ...")
        t = time.perf_counter()
        try:
            scen[name] = fn()
        except Exception:  # one failed scenario does not cost the others
            scen[name] = {"error": traceback.format_exc()}
            _log(f"{name} FAILED:\n{scen[name]['error']}")
        if isinstance(scen.get(name), dict):
            scen[name]["scenario_s"] = round(time.perf_counter() - t, 1)
        connections.close_all()

    guarded("counts", lambda: inprocess.counts(phones[0]))
    guarded("store_wake", lambda: inprocess.store_wake(cfg.wake_longpoll))
    guarded("profile", lambda: inprocess.profile(phones[1], out_dir, stamp, logins=cfg.profile_logins))
    guarded("gc", lambda: inprocess.gc_pauses(phones[2], logins=cfg.profile_logins))

    # The demo's own configuration (SQLite + local memory under runserver): its own site and data.
    guarded("demo_soak", lambda: demo_soak.run(cfg.demo_soak_workers, cfg.demo_soak_logins))

    env = _server_env()
    log_dir = out_dir / f"{stamp}-logs"
    if "typical" in only:
        log_dir.mkdir(exist_ok=True)
        guarded("typical", lambda: typical_site(cfg, phones, env, log_dir, out_dir / stamp if py_spy else None))
    http = [s for s in ("wake", "throughput", "monitor", "two_servers", "growth", "waiters", "slow_provider")
            if s in only]
    if not http:
        return
    log_dir.mkdir(exist_ok=True)
    started: dict[str, servers.Server] = {}
    try:
        _log("starting gunicorn (WSGI, 2 gthread workers) and uvicorn (ASGI, 2 workers)")
        started["wsgi"] = servers.start("wsgi", env, log_dir)
        started["asgi"] = servers.start("asgi", {**env, "PUSHMFA_BENCH_ASYNC_POLL": "1"}, log_dir)
        results["servers"] = {k: {"port": s.port, "workers": len(s.worker_pids())} for k, s in started.items()}
        addr = {k: (s.host, s.port) for k, s in started.items()}

        def wake_vus(n_longpoll: int, n_repoll: int) -> tuple[list, list]:
            lp, rp = cfg.wake_longpoll_workers, cfg.wake_repoll_workers
            return (make_virtual_users(phones[:lp], _sessions_each(n_longpoll, lp)),
                    make_virtual_users(phones[lp:lp + rp], _sessions_each(n_repoll, rp)) if n_repoll else [])

        def wake_both() -> dict[str, Any]:
            out = {}
            for kind in ("wsgi", "asgi"):
                # one client at a time first: the wake a user sees on a server that is not saturated
                out[f"{kind}_unloaded"] = asyncio.run(wake.run(
                    make_virtual_users(phones[:1], cfg.wake_unloaded + 5), [], browser_addr=addr[kind],
                    phone_addr=addr[kind], n_longpoll=cfg.wake_unloaded, n_repoll=0, time_limit=cfg.time_limit))
                out[kind] = asyncio.run(wake.run(
                    *wake_vus(cfg.wake_longpoll, cfg.wake_repoll), browser_addr=addr[kind], phone_addr=addr[kind],
                    n_longpoll=cfg.wake_longpoll, n_repoll=cfg.wake_repoll, time_limit=cfg.time_limit))
            return out

        def throughput_both() -> dict[str, Any]:
            out = {}
            for kind in ("wsgi", "asgi"):
                workers = cfg.throughput_workers
                vus = make_virtual_users(phones[:workers], _sessions_each(cfg.throughput_logins, workers))
                bare = seed.logged_in_sessions([p.user_id for p in phones[workers: 2 * workers]])
                out[kind] = asyncio.run(throughput.run(
                    vus, bare, started[kind], logins=cfg.throughput_logins, bare_requests=cfg.throughput_bare,
                    time_limit=cfg.time_limit))
            return out

        def monitor_run() -> dict[str, Any]:
            vus = make_virtual_users(phones[:1], cfg.monitor_logins + 2)
            db = int(seed.redis_client().connection_pool.connection_kwargs.get("db", 0))
            return monitor.run(vus, addr["wsgi"], logins=cfg.monitor_logins, db=db)

        def two_servers() -> dict[str, Any]:
            out = {}
            for browser_kind, phone_kind in (("wsgi", "asgi"), ("asgi", "wsgi")):
                out[f"poll_{browser_kind}__respond_{phone_kind}"] = asyncio.run(wake.run(
                    *wake_vus(cfg.two_server_logins, 0), browser_addr=addr[browser_kind], phone_addr=addr[phone_kind],
                    n_longpoll=cfg.two_server_logins, n_repoll=0, time_limit=cfg.time_limit))
            return out

        def growth_run() -> dict[str, Any]:
            workers = 4
            per_level = [make_virtual_users(phones[:workers], _sessions_each(cfg.growth_flows, workers))
                         for _ in cfg.growth_levels]
            return growth.run(per_level, addr["wsgi"], levels=list(cfg.growth_levels), flows_n=cfg.growth_flows,
                              time_limit=cfg.time_limit)

        def waiters_run() -> dict[str, Any]:
            from django_pushmfa.push.store import get_store

            n = cfg.waiters
            sample = phones[: min(cfg.waiters_sample, len(phones), n)]
            waiter_users = [p.user_id for p in sample] + [u for u in user_ids if u not in {p.user_id for p in sample}]
            waiter_users = waiter_users[:n]
            sessions = seed.pending_sessions(waiter_users)
            store = get_store()
            challenge_ids, numbers = [], {}
            for s in sessions:
                challenge = seed.make_challenge(s.user_id, s.binding, ttl=600)
                store.create(challenge)
                challenge_ids.append(challenge.id)
                numbers[s.user_id] = challenge.display_number
            connections.close_all()
            return asyncio.run(waiters.run(
                started["asgi"], sessions, challenge_ids, sample, numbers, poll_suffix="async/",
                ramp_per_s=cfg.waiters_ramp_per_s,
                settle_s=60, hold_s=12, approve_per_s=50, time_limit=cfg.time_limit))

        guarded("wake", wake_both)
        guarded("throughput", throughput_both)
        guarded("monitor", monitor_run)
        guarded("two_servers", two_servers)
        guarded("waiters", waiters_run)
        guarded("growth", growth_run)
        guarded("slow_provider", lambda: slow_provider_run(cfg, phones, env, log_dir))
    finally:
        for server in started.values():
            server.stop()
        seed.flush_redis()


def typical_site(cfg: Config, phones: list, env: dict[str, str], log_dir: Path, profile_to: Path | None
                 ) -> dict[str, Any]:
    """Issue 16's "typical site": gunicorn 2 gthread workers x 32 threads on persistent connections
    (CONN_MAX_AGE=60, health checks), and uvicorn 2 workers (a connection per request); database
    sessions; 8 clients."""
    clients = 8
    flows_each = (cfg.typical_pairs + 1) * cfg.typical_logins  # (+5 each covers the partial phases)
    out: dict[str, Any] = {}
    for kind, extra in (("wsgi", {"PUSHMFA_BENCH_SITE": "typical"}),
                        ("asgi", {"PUSHMFA_BENCH_SITE": "typical-asgi", "PUSHMFA_BENCH_ASYNC_POLL": "1"})):
        _log(f"typical: starting {kind} ({extra['PUSHMFA_BENCH_SITE']}: persistent connections, or none under ASGI)")
        server = servers.start(kind, {**env, **extra}, log_dir, threads=32, name=f"typical-{kind}")
        try:
            vus = make_virtual_users(phones[:clients], _sessions_each(flows_each, clients))
            bare = seed.logged_in_sessions([p.user_id for p in phones[clients: 2 * clients]])
            out[kind] = asyncio.run(typical.run(
                server, vus, bare, pairs=cfg.typical_pairs, logins=cfg.typical_logins, bare_requests=cfg.typical_bare,
                partial=cfg.typical_partial, time_limit=cfg.time_limit,
                profile_to=profile_to.with_name(f"{profile_to.name}-typical-{kind}") if profile_to else None))
            if profile_to is not None:
                folded = sorted(profile_to.parent.glob(f"{profile_to.name}-typical-{kind}-*.folded"))
                summary = profile_to.parent / f"{profile_to.name}-typical-{kind}-pyspy.txt"
                summary.write_text(typical.summarize_folded(folded))
                out[kind]["py_spy"] = str(summary)
        finally:
            server.stop()
        from django.db import connections

        connections.close_all()
    return out
