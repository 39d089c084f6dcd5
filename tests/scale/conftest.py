"""Fixtures of the scale-out tests: worker processes, private Redis topologies, enrolled users."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

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


def wait_until(predicate, timeout: float, interval: float = 0.05):
    """``predicate()``'s first truthy value within ``timeout`` seconds (None at the timeout)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value or None
        time.sleep(interval)
