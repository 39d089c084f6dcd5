"""Start and stop the example site under gunicorn (WSGI) and uvicorn (ASGI) on free 127.0.0.1 ports."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    name: str  # "wsgi" | "asgi" | ...
    port: int
    proc: subprocess.Popen
    log_path: Path

    @property
    def host(self) -> str:
        return "127.0.0.1"

    def worker_pids(self) -> list[int]:
        """The worker processes (children of the master), found through /proc."""
        pids = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as f:
                    stat = f.read()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            if ppid == self.proc.pid:
                pids.append(int(entry))
        return pids

    def workers_rss(self) -> int:
        """Resident memory of all workers, bytes (uvicorn's spawn helper excluded: it has no site)."""
        total = 0
        for pid in self.worker_pids():
            try:
                with open(f"/proc/{pid}/status") as f:
                    for line in f:
                        if line.startswith("VmRSS:"):
                            total += int(line.split()[1]) * 1024
            except OSError:
                continue
        return total

    def workers_threads(self) -> int:
        """Threads of all workers (each sync call of an ASGI request may hold one)."""
        total = 0
        for pid in self.worker_pids():
            try:
                with open(f"/proc/{pid}/status") as f:
                    for line in f:
                        if line.startswith("Threads:"):
                            total += int(line.split()[1])
            except OSError:
                continue
        return total

    def stop(self) -> None:
        stop_process(self.proc, timeout=15)


def stop_process(proc: subprocess.Popen, timeout: float = 10) -> None:
    """SIGTERM, then SIGKILL if it has not exited within ``timeout`` seconds."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def _wait_ready(server: Server, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise RuntimeError(f"{server.name} exited with {server.proc.returncode}; see {server.log_path}")
        try:
            with socket.create_connection(("127.0.0.1", server.port), timeout=1) as s:
                s.sendall(b"GET /bench/ping/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                if s.recv(12).startswith(b"HTTP/1."):
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{server.name} did not answer within {timeout}s; see {server.log_path}")


def start(kind: str, env: dict[str, str], log_dir: Path, *, workers: int = 2, threads: int = 16,
          name: str | None = None) -> Server:
    """Start one server of ``kind`` ("wsgi" = gunicorn gthread, "asgi" = uvicorn) and wait until it answers."""
    port = free_port()
    name = name or kind
    bin_dir = Path(sys.executable).parent
    if kind == "wsgi":
        # gthread: each worker serves ``threads`` requests at once, so long-polls (which hold a
        # thread each while they wait) do not starve the other requests.
        cmd = [
            str(bin_dir / "gunicorn"), "bench.wsgi:application", "--bind", f"127.0.0.1:{port}",
            "--workers", str(workers), "--worker-class", "gthread", "--threads", str(threads),
            "--backlog", "4096", "--timeout", "120", "--keep-alive", "75", "--log-level", "warning",
        ]
    elif kind == "asgi":
        cmd = [
            str(bin_dir / "uvicorn"), "bench.asgi:application", "--host", "127.0.0.1", "--port", str(port),
            "--workers", str(workers), "--backlog", "16384", "--timeout-keep-alive", "75",
            "--log-level", "warning", "--no-access-log",
        ]
        if _has("uvloop"):
            cmd += ["--loop", "uvloop"]
        if _has("httptools"):
            cmd += ["--http", "httptools"]
    else:
        raise ValueError(kind)
    log_path = log_dir / f"{name}.log"
    log = open(log_path, "wb")  # lives as long as the server
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    server = Server(name, port, proc, log_path)
    try:
        _wait_ready(server)
    except Exception:
        server.stop()
        raise
    return server


def _has(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def start_redis() -> tuple[subprocess.Popen, str]:
    """A private redis-server on a free 127.0.0.1 port (no persistence); returns it and the URL of its db 13."""
    import shutil

    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("--own-redis needs redis-server on the PATH")
    port = free_port()
    proc = subprocess.Popen(
        [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no",
         "--maxclients", "20000"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                if s.recv(7).startswith(b"+PONG"):
                    return proc, f"redis://127.0.0.1:{port}/13"
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("the private redis-server did not start")


def freeze_unless_typical() -> None:
    """In a server's entry module, after the application is made: freeze the loaded site out of full
    garbage collections, as docs/deployment.md recommends (example_project/gc_freeze.py) — except for
    the "typical site" servers (``PUSHMFA_BENCH_SITE=typical*``) and with ``PUSHMFA_BENCH_GC_FREEZE=0``."""
    if os.environ.get("PUSHMFA_BENCH_GC_FREEZE", "1") != "1" or os.environ.get("PUSHMFA_BENCH_SITE", "").startswith(
        "typical"
    ):
        return
    from example_project.gc_freeze import freeze_loaded_site

    freeze_loaded_site()
