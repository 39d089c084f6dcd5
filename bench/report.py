"""The machine a run was on, and the short table printed at the end of a run."""
from __future__ import annotations

import os
import platform
import subprocess
from typing import Any


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _mem_total_mb() -> int | None:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) // 1024
    except OSError:
        pass
    return None


def _cmd(args: list[str]) -> str | None:
    try:
        return subprocess.run(args, capture_output=True, text=True, timeout=5).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def machine() -> dict[str, Any]:
    import django
    import rest_framework

    redis_version = None
    try:
        from .seed import redis_client

        redis_version = redis_client().info("server").get("redis_version")
    except Exception:  # informational only
        pass
    pg = None
    try:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            pg = cursor.fetchone()[0]
        connection.close()
    except Exception:
        pass
    return {
        "nproc": os.cpu_count(), "cpu": _cpu_model(), "memory_mb": _mem_total_mb(),
        "kernel": platform.release(), "python": platform.python_version(), "django": django.get_version(),
        "drf": rest_framework.VERSION, "redis": redis_version, "postgres": pg,
        "gunicorn": _cmd([os.path.join(os.path.dirname(os.sys.executable), "gunicorn"), "--version"]),
    }


def _g(d: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(d, dict) or key not in d:
            return None
        d = d[key]
    return d


def _fmt(value: Any, unit: str = "") -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        value = f"{value:.1f}" if abs(value) >= 10 else f"{value:.2f}"
    return f"{value}{unit}"


def _ok(flag: bool | None) -> str:
    return "" if flag is None else ("ok" if flag else "MISSED")


def rows(results: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(measure, figure, target, verdict) rows of the table."""
    s = results.get("scenarios", {})
    out: list[tuple[str, str, str, str]] = []
    sw = _g(s, "store_wake")
    if sw and "wake_ms" in sw:
        p99 = _g(sw, "wake_ms", "p99")
        out.append((f"wake, store only (pub/sub, n={_g(sw, 'wake_ms', 'n')})",
                    f"p50 {_fmt(_g(sw, 'wake_ms', 'p50'))} / p99 {_fmt(p99)} ms", "(part of the p99 ≤ 50 ms)",
                    _ok(p99 is not None and p99 <= 50)))
    g = _g(s, "gc")
    if g and "full_collection_ms" in g:
        out.append((f"a full garbage collection, in-process ({g['objects_tracked']:,} objects)",
                    f"{_fmt(g['full_collection_ms'])} ms; after gc.freeze() {_fmt(g['full_collection_frozen_ms'])} ms "
                    f"({g['objects_after_freeze']:,} objects)", "(a pause of every request)", ""))
    for kind in ("wsgi", "asgi"):
        u = _g(s, "wake", f"{kind}_unloaded", "longpoll", "wake_ms")
        if u:
            out.append((f"wake, long-poll, 1 client ({kind}, n={u['n']})",
                        f"p50 {_fmt(u['p50'])} / p99 {_fmt(u['p99'])} ms",
                        "p99 ≤ 50 ms", _ok(u["p99"] is not None and u["p99"] <= 50)))
        w = _g(s, "wake", kind)
        if w:
            p50, p99 = _g(w, "longpoll", "wake_ms", "p50"), _g(w, "longpoll", "wake_ms", "p99")
            n = _g(w, "longpoll", "wake_ms", "n")
            rp50, rp99 = _g(w, "repoll", "wake_ms", "p50"), _g(w, "repoll", "wake_ms", "p99")
            out.append((f"wake, long-poll ({kind}, n={n})", f"p50 {_fmt(p50)} / p99 {_fmt(p99)} ms", "p99 ≤ 50 ms",
                        _ok(p99 is not None and p99 <= 50 and n and n >= 1 and not _g(w, "errors", "count"))))
            out.append((f"wake, 1 s re-poll ({kind})", f"p50 {_fmt(rp50)} / p99 {_fmt(rp99)} ms", "(comparison)", ""))
            load = w.get("load")
            if load:
                out.append((f"wake ({kind}): the driver's loop lag, its CPU, the machine",
                            f"lag p50 {_fmt(_g(load, 'driver_loop_lag_ms', 'p50'))} / p99 "
                            f"{_fmt(_g(load, 'driver_loop_lag_ms', 'p99'))} ms; driver "
                            f"{_fmt(100 * (load.get('driver_cpu_share') or 0))} % of a core; machine "
                            f"{_fmt(100 * (load.get('machine_busy') or 0))} % busy", "(context)", ""))
    for kind in ("wsgi", "asgi"):
        t = _g(s, "throughput", kind)
        if t:
            ratio = t.get("bare_requests_per_login")
            out.append((f"logins/s vs bare DRF/s ({kind})",
                        f"{_fmt(_g(t, 'logins', 'per_s'))} vs {_fmt(t.get('bare_per_s'))} = {_fmt(ratio)} bare/login",
                        "≤ 8 bare/login", _ok(ratio is not None and ratio <= 8)))
            cpu_ratio = t.get("cpu_bare_requests_per_login")
            if cpu_ratio is not None:
                out.append((f"server CPU per login ({kind})",
                            f"{_fmt(t.get('cpu_ms_per_login'))} ms vs {_fmt(t.get('cpu_ms_per_bare'))} ms bare = "
                            f"{_fmt(cpu_ratio)} bare/login", "≤ 8 bare/login", _ok(cpu_ratio <= 8)))
    for kind in ("wsgi", "asgi"):
        ty = _g(s, "typical", kind)
        if ty and ty.get("bare_requests_per_login") is not None:
            ratio, cpu_ratio = ty["bare_requests_per_login"], ty.get("cpu_bare_requests_per_login")
            out.append((f"typical site ({kind}, 8 clients): bare/login, per pair",
                        f"{' · '.join(_fmt(r) for r in ty['ratios'])} (mean {_fmt(ratio)})", "≤ 8 bare/login",
                        _ok(ratio <= 8)))
            out.append((f"typical site ({kind}): server CPU per login",
                        f"{_fmt(ty.get('cpu_ms_per_login'))} ms vs {_fmt(ty.get('cpu_ms_per_bare'))} ms bare = "
                        f"{_fmt(cpu_ratio)} bare/login", "≤ 8 bare/login",
                        _ok(cpu_ratio is not None and cpu_ratio <= 8)))
            if ty.get("step_cpu_in_bare_requests"):
                out.append((f"typical site ({kind}): CPU per step, in bare requests",
                            " · ".join(f"{k} {_fmt(v)}" for k, v in ty["step_cpu_in_bare_requests"].items()), "", ""))
    soak = _g(s, "demo_soak")
    if soak and "logins" in soak:
        lost = soak.get("approved_not_signed_in", 0)
        out.append((f"demo soak ({soak['workers']} users at once, SQLite): approved but not signed in",
                    f"{lost} of {soak['logins']} logins ({soak.get('server_5xx_in_log', 0)} server 5xx)", "0",
                    _ok(lost == 0 and soak.get("phone_approved") == soak["logins"])))
    c = _g(s, "counts")
    if c and "steps" in c:
        total = c["login"]["redis_commands"]
        out.append(("Redis commands / login (in-process)",
                    f"{total} ({c['login']['redis_round_trips']} round trips)", "≤ 6", _ok(total <= 6)))
        for step, target in (("start", 3), ("poll_pending", 0), ("poll", None), ("device_fetch", 3),
                             ("device_respond", 3)):
            st = c["steps"].get(step)
            if st:
                verdict = "" if target is None else _ok(st["sql_app"] <= target)
                figure = f"{st['sql']} ({st['sql_session']} session) · Redis {st['redis']['commands']}"
                out.append((f"SQL {step}", figure,
                            "" if target is None else f"≤ {target} (app)", verdict))
    m = _g(s, "monitor")
    if m and "commands_per_login" in m:
        out.append(("Redis commands / login (MONITOR, HTTP)",
                    f"{m['commands_per_login']} (+{m['script_commands_per_login']} inside scripts)", "≤ 6",
                    _ok(m["commands_per_login"] <= 6)))
    wt = _g(s, "waiters")
    if wt and "stages" in wt:
        for st in wt["stages"]:
            # healthy: under 1% of the waiters failed while holding, and the sample could be woken
            healthy = st["failed"] <= st["asked"] / 100 and not st.get("wake_errors")
            out.append((f"ASGI waiters: {st['asked']:,} asked",
                        f"{st['waiting']:,} waiting ({st['failed']:,} failed), {st['rss_per_waiter_kb']} KB and "
                        f"{st.get('workers_threads')} threads, wake p99 {_fmt(_g(st, 'wake_ms', 'p99'))} ms"
                        + (f" ({st['wake_errors']} wakes failed)" if st.get("wake_errors") else ""),
                        "10,000", _ok(healthy) if st["asked"] >= 10_000 or not healthy else ""))
    g = _g(s, "growth")
    if g and "levels" in g:
        for level, r in g["levels"].items():
            steps = r["step_ms"]
            out.append((f"growth p50 @ {int(level):,} pending",
                        " · ".join(f"{k} {_fmt(v['p50'])}" for k, v in steps.items()) + " ms", "flat", ""))
        for level, b in (g.get("bytes_per_pending_challenge") or {}).items():
            out.append((f"bytes / pending challenge (@{int(level):,})",
                        f"{b['memory_usage_sum']} (MEMORY USAGE), {b['used_memory_delta']} (used_memory)",
                        "≤ 1024", _ok(b["memory_usage_sum"] <= 1024)))
    ts = _g(s, "two_servers")
    if ts and "error" not in ts:
        for name, r in ts.items():
            if isinstance(r, dict) and "longpoll" in r:
                out.append((f"two servers: {name}", f"p50 {_fmt(_g(r, 'longpoll', 'wake_ms', 'p50'))} / p99 "
                            f"{_fmt(_g(r, 'longpoll', 'wake_ms', 'p99'))} ms", "p99 ≤ 50 ms",
                            _ok((_g(r, "longpoll", "wake_ms", "p99") or 1e9) <= 50)))
    sp = _g(s, "slow_provider")
    if sp and "error" not in sp:
        for name in ("instant_executor", "slow_executor", "slow_inline"):
            r = sp.get(name)
            if r:
                out.append((f"POST api/push/, {name.replace('_', ' provider, ')} (n={r['starts']})",
                            f"p50 {_fmt(_g(r, 'start_ms', 'p50'))} / p99 {_fmt(_g(r, 'start_ms', 'p99'))} ms; "
                            f"{r['pushed']} pushed, all {r['all_pushed_s_after_last_start']} s after the last",
                            "", ""))
        diff = sp.get("p99_difference_ms")
        if diff is not None:
            out.append(("POST api/push/ p99, 2 s provider − instant (executor)", f"{_fmt(diff)} ms",
                        "≤ 50 ms", _ok(diff <= 50)))
    for name, r in s.items():
        if isinstance(r, dict) and "error" in r:
            out.append((f"{name}", "FAILED (see JSON)", "", "MISSED"))
    return out


def table(results: dict[str, Any]) -> str:
    data = rows(results)
    m = results.get("machine", {})
    head = (f"django-pushmfa benchmark {results.get('started_at')} · {m.get('nproc')} CPU {m.get('cpu')} · "
            f"{m.get('memory_mb')} MB · total {results.get('total_s')} s · sessions {results.get('sessions')}"
            + (" · QUICK" if results.get("quick") else ""))
    if not data:
        return head + "\n(no results)"
    widths = [max(len(r[i]) for r in [("measure", "figure", "target", "")] + data) for i in range(4)]
    lines = [head, ""]
    for r in [("measure", "figure", "target", "")] + data:
        lines.append("  ".join(c.ljust(widths[i]) for i, c in enumerate(r)).rstrip())
    return "\n".join(lines)


def markdown(results: dict[str, Any]) -> str:
    """The same table as Markdown (for bench/README.md)."""
    lines = ["| measure | figure | target | |", "| --- | --- | --- | --- |"]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows(results)]
    return "\n".join(lines)
