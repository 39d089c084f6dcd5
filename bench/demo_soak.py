"""Concurrent push logins against the demo's own configuration, counting approvals that were lost.

Issue 19: on the embedded default (SQLite + local-memory cache, ``manage.py runserver`` as ``./demo``
serves it), some approvals ended with the phone saying "Approved" and the browser not signed in. This
soak runs the example site in that shape, drives many push logins at once the way a browser and a
phone do — the password step, ``POST api/push/``, the browser's long poll (retried on a 5xx as
pushmfa.js does) while the phone approves through the demo's simulator (signed device requests) —
and counts each outcome. The figure that matters is ``approved_not_signed_in``: the target is 0.

Only what a load test needs differs from the demo (``bench/demo_soak_settings.py``): the push rate
limits are lifted (every login comes from one IP) and the simulator is on without DEBUG.

Used by ``python -m bench --only demo_soak`` and, with small sizes, by
``tests/example/test_demo_soak.py``.
"""
from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import requests

from .servers import free_port, stop_process

# Not resolved: in the runs against the installed package this is .ci/installed/ (links to bench/ and
# example_project/ only), so the site imports the installed django_pushmfa, not the checkout's.
ROOT = Path(__file__).absolute().parent.parent
MANAGE = ROOT / "example_project" / "manage.py"
PASSWORD = "soak-Pa55word-not-secret"
POLL_RETRIES = 5  # pushmfa.js's MAX_NETWORK_RETRIES


class DemoSite:
    """The example site on SQLite + local memory, served by ``runserver`` in a fresh data folder."""

    def __init__(self, data_dir: Path, users: int) -> None:
        self.data_dir = data_dir
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "bench.demo_soak_settings",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
            "PUSHMFA_DB": "sqlite",
            "PUSHMFA_REDIS_URL": "",
            "PUSHMFA_DATA_DIR": str(data_dir),
            "PUSHMFA_PHONE_SIMULATOR": "1",
            "PYTHONUNBUFFERED": "1",
        }
        self.usernames = [f"soak{i}" for i in range(users)]
        self.process: subprocess.Popen | None = None
        self.url = ""
        self.accounts: dict[str, dict[str, Any]] = {}

    def manage(self, *args: str) -> str:
        result = subprocess.run([sys.executable, str(MANAGE), *args], env=self.env, cwd=ROOT,
                                capture_output=True, text=True, timeout=300)
        if result.returncode:
            raise RuntimeError(f"manage.py {args[0]} failed:\n{result.stdout}\n{result.stderr}")
        return result.stdout

    def __enter__(self) -> DemoSite:
        self.manage("migrate", "--noinput", "-v", "0")
        port = free_port()
        args = ["pushmfa_demo", "--json", "--password", PASSWORD, "--host", f"127.0.0.1:{port}"]
        for name in self.usernames:
            args += ["--username", name]
        data = json.loads(self.manage(*args).strip().splitlines()[-1])
        self.accounts = {u["username"]: u for u in data["users"]}
        self.log = (self.data_dir / "server.log").open("w")
        self.process = subprocess.Popen(
            [sys.executable, str(MANAGE), "runserver", f"127.0.0.1:{port}", "--noreload"],
            env=self.env, cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT,
        )
        self.url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the demo site exited:\n{(self.data_dir / 'server.log').read_text()}")
            try:
                with urllib.request.urlopen(self.url + "/", timeout=2):
                    return self
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.2)
        self.__exit__()
        raise RuntimeError("the demo site did not start within 30 s")

    def __exit__(self, *exc: object) -> None:
        if self.process is not None:
            stop_process(self.process)
        self.log.close()


def _csrf(session: requests.Session) -> dict[str, str]:
    return {"X-CSRFToken": session.cookies.get("csrftoken", "")}


def one_login(site: DemoSite, username: str, outcome: Counter) -> None:
    """A browser signs in with its password, starts a push and long-polls it while the phone
    approves the number it shows; then asks the dashboard whether it is signed in."""
    url, phone_id = site.url, site.accounts[username]["phone_id"]
    browser, phone = requests.Session(), requests.Session()
    browser.get(f"{url}/accounts/login/", timeout=30)
    step = browser.post(f"{url}/accounts/login/", timeout=30, allow_redirects=False, data={
        "username": username, "password": PASSWORD, "next": "/dashboard/",
        "csrfmiddlewaretoken": browser.cookies.get("csrftoken", ""),
    })
    # On to "next" (the MFA middleware sends any page of the pending session to the MFA step).
    if step.status_code != 302 or "/accounts/login/" in step.headers.get("Location", ""):
        outcome["password_step_failed"] += 1
        return
    started = browser.post(f"{url}/mfa/api/push/", json={}, timeout=30,
                           headers={**_csrf(browser), "Accept": "application/json"})
    if started.status_code != 201:
        outcome[f"start_{started.status_code}"] += 1
        return
    push = started.json()
    phone.get(f"{url}/simulator/?phone={phone_id}", timeout=30)  # the simulator's CSRF cookie
    answer: dict[str, Any] = {}

    def approve() -> None:
        time.sleep(random.uniform(0, 0.3))  # the tap lands while the long poll waits, or just before
        response = phone.post(
            f"{url}/simulator/api/phones/{phone_id}/challenges/{push['challenge_id']}/respond/", timeout=30,
            json={"decision": "approve", "selected_number": push["display_number"]}, headers=_csrf(phone))
        answer["status"] = response.status_code
        is_json = response.headers.get("Content-Type", "").startswith("application/json")
        answer["body"] = response.json() if is_json else {}

    tapping = threading.Thread(target=approve)
    tapping.start()
    status, failures, deadline = "pending", 0, time.monotonic() + 60
    while status == "pending" and time.monotonic() < deadline:
        polled = browser.get(f"{url}{push['poll_url']}?wait=25", timeout=40, headers={"Accept": "application/json"})
        if polled.status_code >= 500:
            outcome["poll_5xx"] += 1
            failures += 1
            if failures > POLL_RETRIES:
                status = "gave_up"
                break
            time.sleep(min(8, 0.5 * 2 ** failures))
            continue
        status = polled.json().get("status", "no_status") if polled.ok else f"http_{polled.status_code}"
    tapping.join(60)
    approved = answer.get("status") == 200 and answer.get("body", {}).get("status") == "approved"
    signed_in = browser.get(f"{url}/dashboard/", timeout=30, allow_redirects=False).status_code == 200
    outcome["logins"] += 1
    outcome["phone_approved"] += approved
    outcome["signed_in"] += signed_in
    outcome["approved_not_signed_in"] += approved and not signed_in
    outcome[f"poll_{status}"] += 1
    if answer.get("status", 0) >= 500:
        outcome["phone_5xx"] += 1


def run(workers: int = 8, logins_per_worker: int = 5, data_dir: Path | None = None) -> dict[str, Any]:
    """``workers`` users log in at once, ``logins_per_worker`` times each; the outcome counts."""
    outcome: Counter = Counter()
    with tempfile.TemporaryDirectory(prefix="pushmfa-soak-") as tmp:
        with DemoSite(Path(data_dir or tmp), workers) as site:
            started = time.perf_counter()

            def worker(username: str) -> None:
                for _ in range(logins_per_worker):
                    try:
                        one_login(site, username, outcome)
                    except requests.RequestException as exc:
                        outcome[f"client_error_{type(exc).__name__}"] += 1

            with ThreadPoolExecutor(workers) as pool:
                list(pool.map(worker, site.usernames))
            elapsed = time.perf_counter() - started
            log = (site.data_dir / "server.log").read_text(errors="replace")
    server_errors = len(re.findall(r'" 5\d\d ', log))
    return {
        "workers": workers, "logins_per_worker": logins_per_worker, "seconds": round(elapsed, 1),
        "server_5xx_in_log": server_errors, **dict(sorted(outcome.items())),
    }


if __name__ == "__main__":
    print(json.dumps(run(int(sys.argv[1]) if len(sys.argv) > 1 else 8,
                         int(sys.argv[2]) if len(sys.argv) > 2 else 5), indent=2))
