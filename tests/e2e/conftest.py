"""End-to-end fixtures: the example site served on 127.0.0.1 on PostgreSQL + Redis, and Chromium.

- A dedicated database (``pushmfa_e2e``, created and dropped here) and Redis db 14 (flushed).
- ``manage.py migrate`` and ``manage.py pushmfa_demo --json`` seed one account per test flow
  (password, simulated phone, TOTP secret, backup codes), through the same command as ``./demo``.
- ``site``: ``manage.py runserver --noreload`` (threaded, one process: the phone simulator
  receives the in-memory pushes of that process) with the example site's settings plus a fast
  password hasher (``tests/e2e/settings.py``); ``short_ttl_site`` and ``entry_mode_site``: more
  servers on the same stores with a 3-second answer window / the keypad number mode. Their output
  goes to ``artifacts/e2e-logs/``.
- Chromium is Debian's ``/usr/bin/chromium``; a missing browser FAILS the run, it is not skipped.

Playwright's sync API keeps an event loop running in the test thread while it is started, which
makes Django's ORM refuse to run there; so the browser is module-scoped (stopped after each e2e
module) and these tests check the database with plain psycopg, never the ORM.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest
import redis

from bench.servers import free_port, stop_process

ROOT = Path(__file__).resolve().parents[2]
MANAGE = ROOT / "example_project" / "manage.py"
CHROMIUM = os.environ.get("PUSHMFA_E2E_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PG = {
    "host": os.environ.get("PGHOST", "127.0.0.1"),
    "port": int(os.environ.get("PGPORT", "5432")),
    "user": os.environ.get("PGUSER", "postgres"),
}
E2E_DB = os.environ.get("PUSHMFA_E2E_DB", "pushmfa_e2e")
E2E_REDIS_URL = os.environ.get("PUSHMFA_E2E_REDIS_URL", "redis://127.0.0.1:6379/14")
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
SERVER_LOGS = ROOT / "artifacts" / "e2e-logs"  # the served sites' output, kept for a failed run
SDK_DIR = ROOT / "clients" / "typescript"  # the TypeScript device SDK
PASSWORD = "e2e-Pa55word-not-secret"
SHORT_TTL = 3

# One account per flow, so that one flow's denials or revocations never leak into another.
USERNAMES = [
    "push_user",
    "wrong_user",
    "reload_user",
    "expiry_user",
    "entry_user",
    "report_user",
    "totp_user",
    "backup_user",
    "key_user",
    "pair_user",
    "revoke_target",
    "reset_target",
    "reauth_user",
    "browser_user",
    "everywhere_user",
    "spa_user",
    "sdk_user",
    "sdk_poll_user",
    "browser_phone_user",
    # tests/e2e/test_first_ten_minutes.py
    "ux_tour_desktop",
    "ux_tour_phone",
    "ux_trust",
    "ux_wrong",
    "ux_rate",
    "ux_pair",
    "ux_remove",
    "ux_a11y",
    "ux_sim",
]
SHORT_REAUTH_WINDOW = 2


@dataclass
class Site:
    url: str
    process: subprocess.Popen
    log: Path
    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)
    admin: dict[str, str] = field(default_factory=dict)


def db_query(sql: str, params: tuple = ()) -> list[tuple]:
    """Run one query on the e2e database (what the server wrote), outside Django."""
    with psycopg.connect(dbname=E2E_DB, autocommit=True, **PG) as conn:
        return conn.execute(sql, params).fetchall()


def events(username: str, kind: str) -> list[tuple]:
    """(actor username or None, detail) of ``username``'s security events of ``kind``."""
    return db_query(
        """SELECT a.username, e.detail FROM pushmfa_securityevent e
           JOIN auth_user u ON u.id = e.user_id LEFT JOIN auth_user a ON a.id = e.actor_id
           WHERE u.username = %s AND e.kind = %s ORDER BY e.id""",
        (username, kind),
    )


def screenshot(page: Any, name: str, full_page: bool = False) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def _server_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="tests.e2e.settings",  # the example site's settings + a fast hasher
        PUSHMFA_DB="postgres",
        PGHOST=PG["host"],
        PGPORT=str(PG["port"]),
        PGUSER=PG["user"],
        PGDATABASE=E2E_DB,
        PUSHMFA_REDIS_URL=E2E_REDIS_URL,
        PUSHMFA_DATA_DIR=str(data_dir),
        PUSHMFA_DEBUG="1",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def _manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, str(MANAGE), *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=180
    )
    if result.returncode != 0:
        pytest.fail(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def _start_server(env: dict[str, str], log: Path) -> Site:
    port = free_port()
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, str(MANAGE), "runserver", f"127.0.0.1:{port}", "--noreload"],
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    # "localhost", not the IP: browsers refuse an IP address as a WebAuthn relying party id.
    url = f"http://localhost:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the example site exited ({process.returncode}):\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as resp:
                if resp.status == 200:
                    return Site(url, process, log)
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    process.kill()
    pytest.fail(f"the example site did not start within 30 s:\n{log.read_text()}")


def _stop_server(site: Site) -> None:
    stop_process(site.process)


@pytest.fixture(scope="session")
def e2e_stores():
    """A fresh PostgreSQL database and an empty Redis db for the served site; dropped afterwards."""
    with psycopg.connect(dbname="postgres", autocommit=True, **PG) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{E2E_DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{E2E_DB}"')
    store = redis.Redis.from_url(E2E_REDIS_URL)
    store.flushdb()
    yield
    store.flushdb()
    with psycopg.connect(dbname="postgres", autocommit=True, **PG) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{E2E_DB}" WITH (FORCE)')


@pytest.fixture(scope="session")
def e2e_env(e2e_stores, sdk_dist, tmp_path_factory) -> dict[str, str]:
    # The SDK is built first: the served sites' browser phone (/simulator/browser/) loads its dist/.
    env = _server_env(tmp_path_factory.mktemp("e2e-data"))
    _manage(env, "migrate", "--noinput", "-v", "0")
    return env


@pytest.fixture(scope="session")
def seeded(e2e_env) -> dict[str, Any]:
    args = ["pushmfa_demo", "--json", "--password", PASSWORD, "--admin-password", PASSWORD]
    for name in USERNAMES:
        args += ["--username", name]
    out = _manage(e2e_env, *args)
    data = json.loads(out.strip().splitlines()[-1])
    return {"users": {u["username"]: u for u in data["users"]}, "admin": data["admin"]}


@pytest.fixture(scope="session")
def site(e2e_env, seeded):
    served = _start_server(e2e_env, SERVER_LOGS / "site.log")
    served.accounts, served.admin = seeded["users"], seeded["admin"]
    yield served
    _stop_server(served)


@pytest.fixture(scope="session")
def short_ttl_site(e2e_env, seeded):
    env = {**e2e_env, "PUSHMFA_CHALLENGE_TTL": str(SHORT_TTL)}
    served = _start_server(env, SERVER_LOGS / "short-ttl-site.log")
    served.accounts, served.admin = seeded["users"], seeded["admin"]
    yield served
    _stop_server(served)


@pytest.fixture(scope="session")
def short_reauth_site(e2e_env, seeded):
    """The site with a 2-second step-up window: a session is soon too old to change credentials."""
    env = {**e2e_env, "PUSHMFA_REAUTH_WINDOW": str(SHORT_REAUTH_WINDOW)}
    served = _start_server(env, SERVER_LOGS / "short-reauth-site.log")
    served.accounts, served.admin = seeded["users"], seeded["admin"]
    yield served
    _stop_server(served)


@pytest.fixture(scope="session")
def entry_mode_site(e2e_env, seeded):
    env = {**e2e_env, "PUSHMFA_NUMBER_MODE": "entry"}
    served = _start_server(env, SERVER_LOGS / "entry-mode-site.log")
    served.accounts, served.admin = seeded["users"], seeded["admin"]
    yield served
    _stop_server(served)


@pytest.fixture(scope="session")
def sdk_dist() -> Path:
    """The TypeScript device SDK built from source (``npm ci`` from the committed lock file, then
    ``npm run build``), once per session: the path of its ``dist/``. Missing Node or npm FAILS the run."""
    node, npm = shutil.which("node"), shutil.which("npm")
    assert node and npm, "Node.js (20+) and npm are required for the device SDK tests and are missing"
    version = subprocess.run([node, "--version"], capture_output=True, text=True, check=True).stdout.strip()
    assert int(version.lstrip("v").split(".")[0]) >= 20, f"Node.js 20+ is required, found {version}"
    for args in (["ci", "--no-audit", "--no-fund"], ["run", "build"]):
        result = subprocess.run([npm, *args], cwd=SDK_DIR, capture_output=True, text=True, timeout=300)
        if result.returncode != 0:
            pytest.fail(f"npm {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return SDK_DIR / "dist"


@pytest.fixture(scope="module")
def browser():
    """Chromium through Playwright. Missing browser or Playwright: a failure, never a skip."""
    assert os.path.exists(CHROMIUM), f"Chromium is required for the e2e tests and is missing at {CHROMIUM}"
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
    finally:
        playwright.stop()


@pytest.fixture
def desktop(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    context.set_default_timeout(30_000)
    yield context
    context.close()


@pytest.fixture
def phone_sized(browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True,
                                  has_touch=True)
    context.set_default_timeout(30_000)
    yield context
    context.close()


# --- page helpers --------------------------------------------------------------------------------
def password_step(page: Any, site: Site, username: str, next_path: str = "/dashboard/") -> None:
    """The site's own login page; ends on the MFA step."""
    page.goto(site.url + next_path)
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/mfa/authenticate/"))


def shown_number(page: Any) -> str:
    number = page.locator("[data-pushmfa-number]")
    number.wait_for(state="visible")
    text = number.inner_text().strip()
    assert re.fullmatch(r"\d{2}", text), text
    return text


def open_simulator(context: Any, site: Site, username: str) -> Any:
    """The phone simulator showing ``username``'s simulated phone, listening for pushes."""
    sim = context.new_page()
    sim.goto(f"{site.url}/simulator/?phone={site.accounts[username]['phone_id']}")
    sim.locator('[data-sim-screen="idle"]').wait_for(state="visible")
    return sim


def open_push_on_phone(sim: Any) -> Any:
    """Tap the newest notification; returns the challenge screen."""
    notification = sim.locator("[data-sim-notification]").first
    notification.wait_for(state="visible")
    notification.click()
    screen = sim.locator('[data-sim-screen="challenge"]')
    screen.wait_for(state="visible")
    return screen


def sim_result(sim: Any) -> str:
    screen = sim.locator('[data-sim-screen="result"]')
    screen.wait_for(state="visible")
    return screen.get_attribute("data-sim-result")


def expect_signed_in(page: Any, username: str, method: str) -> None:
    page.wait_for_url(re.compile(r"/dashboard/"))
    assert page.locator("[data-welcome]").inner_text() == f"Welcome, {username}"
    assert page.locator("[data-mfa-method]").get_attribute("data-mfa-method") == method


def next_totp_code(secret: str) -> str:
    """The code of the current time step: accepted, and newer than the previous step the demo
    command used to confirm the enrollment (when the test runs in the same step; the e2e site is
    seeded per session, so a later step is newer still)."""
    import pyotp

    return pyotp.TOTP(secret).now()


def choose_method(page: Any, method: str) -> None:
    """Pick a method in the MFA page's "Try another way" list."""
    page.locator(f'[data-pushmfa-method="{method}"]').click()
    page.wait_for_url(re.compile(rf"method={method}"))


def totp_step(page: Any, site: Site, username: str) -> None:
    choose_method(page, "totp")
    page.fill("#pushmfa-totp-code", next_totp_code(site.accounts[username]["totp_secret"]))
    page.locator("form:has(#pushmfa-totp-code) button[type=submit]").click()
