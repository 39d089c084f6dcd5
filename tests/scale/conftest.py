"""Fixtures of the scale-out tests: worker processes, private Redis topologies, enrolled users."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from django.db import connection

from ..hardening.conftest import account_client, browser, phone, push_user  # noqa: F401 - shared fixtures

ROOT = Path(__file__).resolve().parents[2]


class WorkerProcess:
    """A Django management command in its own process, on the test's settings plus ``overrides``."""

    def __init__(self, args: list[str], overrides: dict) -> None:
        settings = {"DATABASE_NAME": connection.settings_dict["NAME"], **overrides}
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings",
               "PUSHMFA_TEST_WORKER_SETTINGS": json.dumps(settings), "PYTHONPATH": str(ROOT)}
        self.log = tempfile.NamedTemporaryFile(prefix="pushmfa-worker-", suffix=".log", delete=False)  # noqa: SIM115
        self.proc = subprocess.Popen([sys.executable, "-m", "django", *args], cwd=ROOT, env=env,
                                     stdout=self.log, stderr=subprocess.STDOUT)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.log.close()

    def output(self) -> str:
        """What the process printed so far (for failure messages)."""
        return Path(self.log.name).read_text(errors="replace")[-4000:]


def serve(overrides: dict, timeout: float = 30.0) -> tuple[WorkerProcess, str]:
    """The test site (``tests.settings`` + ``overrides``, the test database) served by ``runserver`` in
    its own process on a free port; returns the process and its API root URL."""
    import socket

    from ..hardening.redis_process import free_port

    port = free_port()
    server = WorkerProcess(["runserver", f"127.0.0.1:{port}", "--noreload", "--skip-checks"], overrides)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise RuntimeError(f"the server exited:\n{server.output()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return server, f"http://127.0.0.1:{port}/mfa/api/"
        except OSError:
            time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"the server did not answer:\n{server.output()}")


def wait_until(predicate, timeout: float, interval: float = 0.05):
    """``predicate()``'s first truthy value within ``timeout`` seconds (None at the timeout)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value or None
        time.sleep(interval)


@pytest.fixture
def phone_users(user_factory, password):
    """Six users, each with a phone paired over the device API: the wave of a failover test."""
    from ..hardening.conftest import logged_in_client, pair_phone

    users = []
    for i in range(6):
        user = user_factory(f"wave{i}")
        user.phone = pair_phone(logged_in_client(user, password))
        users.append(user)
    return users
