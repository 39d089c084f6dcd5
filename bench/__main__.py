"""``python -m bench [--quick] [--only NAMES]``: run the benchmark suite (see bench/README.md).

Sets up its own PostgreSQL database (``pushmfa_bench``) and Redis db (13), seeds users with paired
phones, starts the example site under gunicorn (WSGI) and uvicorn (ASGI), drives both from this
process over HTTP, and writes ``bench/results/<timestamp>.json`` plus a short table.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from .config import DEFAULT, QUICK, Config
from .servers import ROOT

SCENARIOS = ("counts", "store_wake", "profile", "gc", "wake", "throughput", "monitor", "two_servers", "growth",
             "waiters", "slow_provider", "typical", "demo_soak")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run (under a minute)")
    parser.add_argument("--only", default="", help=f"comma-separated subset of {','.join(SCENARIOS)}")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results"), help="results folder")
    parser.add_argument("--waiters", type=int, help="concurrent waiters (default 10000, quick 300)")
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=N",
                        help="override one size of the run (a field of bench/config.py), e.g. --set wake_longpoll=300")
    parser.add_argument("--py-spy", action="store_true",
                        help="typical: profile the workers with py-spy during a login phase")
    parser.add_argument("--own-redis", action="store_true",
                        help="start a private redis-server on a free port for this run (nothing else can flush it)")
    parser.add_argument("--sessions", choices=["db", "cache"], default="db",
                        help="session engine: the example site's database sessions (default) or Redis")
    parser.add_argument("--redis-url", default=os.environ.get("PUSHMFA_BENCH_REDIS_URL", "redis://127.0.0.1:6379/13"),
                        help="the Redis db the run owns (flushed at start and end; default db 13)")
    args = parser.parse_args(argv)
    cfg: Config = QUICK if args.quick else DEFAULT
    if args.waiters:
        cfg = cfg.replace(waiters=args.waiters)
    for item in args.set:
        field, _, value = item.partition("=")
        if not isinstance(cfg.as_dict().get(field), int | float) or not value.replace(".", "", 1).isdigit():
            parser.error(f"--set {item}: expected FIELD=NUMBER with FIELD one of {', '.join(cfg.as_dict())}")
        cfg = cfg.replace(**{field: type(cfg.as_dict()[field])(float(value))})
    only = [s for s in args.only.split(",") if s] or list(SCENARIOS)
    unknown = set(only) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenario(s): {', '.join(sorted(unknown))}")

    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    os.environ.setdefault("PUSHMFA_DB", "postgres")
    own_redis = None
    if args.own_redis:
        from .servers import start_redis

        own_redis, args.redis_url = start_redis()
    os.environ["PUSHMFA_REDIS_URL"] = args.redis_url
    os.environ["PUSHMFA_BENCH_SESSIONS"] = args.sessions
    import django

    django.setup()
    from . import report, runner

    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    results: dict[str, Any] = {
        "started_at": stamp, "quick": args.quick, "sessions": args.sessions, "redis_url": args.redis_url,
        "config": cfg.as_dict(), "machine": report.machine(),
        "scenarios": {},
    }
    t0 = time.perf_counter()
    try:
        runner.run_all(cfg, only, results, out_dir, stamp, py_spy=args.py_spy)
    except KeyboardInterrupt:
        results["interrupted"] = True
    except Exception:  # the partial results are still written
        results["fatal_error"] = traceback.format_exc()
        print(results["fatal_error"], file=sys.stderr)
    finally:
        if own_redis is not None:
            own_redis.terminate()
            own_redis.wait(10)
    results["total_s"] = round(time.perf_counter() - t0, 1)
    path = out_dir / f"{stamp}.json"
    path.write_text(json.dumps(results, indent=2, default=str))
    print(report.table(results))
    print(f"\nresults: {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    return 1 if "fatal_error" in results else 0


if __name__ == "__main__":
    sys.exit(main())
