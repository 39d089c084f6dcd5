"""The example project outside a browser: the demo command (run twice), the settings switch and the
simulator's development-only guard. Each runs the example project in a subprocess with its own
data directory, as ``./demo`` does."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import django
import pytest

from tests.paths import IMPORT_ROOT, REPO

ROOT = REPO
MANAGE = ROOT / "example_project" / "manage.py"


def clean_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PUSHMFA_"))}
    env.update(PUSHMFA_DATA_DIR=str(data_dir), PYTHONPATH=str(IMPORT_ROOT))
    return env


@pytest.fixture(scope="module")
def migrated(tmp_path_factory):
    """A data directory migrated once; each test starts from a copy (migrating is the slow part)."""
    data_dir = tmp_path_factory.mktemp("example-template")
    run(clean_env(data_dir), "migrate", "--noinput", "-v", "0")
    return data_dir


@pytest.fixture
def env(tmp_path, migrated):
    shutil.copytree(migrated, tmp_path / "data")
    return clean_env(tmp_path / "data")


def run(env, *args, code=None):
    cmd = [sys.executable, "-c", code] if code else [sys.executable, str(MANAGE), *args]
    result = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_demo_command_is_idempotent(env, tmp_path):
    first = json.loads(run(env, "pushmfa_demo", "--json").strip().splitlines()[-1])
    second = json.loads(run(env, "pushmfa_demo", "--json").strip().splitlines()[-1])
    a, b = first["users"][0], second["users"][0]
    assert a["username"] == b["username"] == "demo"
    # what still works is kept: the same simulated phone and authenticator seed
    assert a["device_id"] == b["device_id"] and a["phone_id"] == b["phone_id"]
    assert a["totp_secret"] == b["totp_secret"]
    # what is shown once is renewed: passwords and a new set of backup codes
    assert a["password"] != b["password"] and first["admin"]["password"] != second["admin"]["password"]
    assert set(a["backup_codes"]).isdisjoint(b["backup_codes"]) and len(b["backup_codes"]) == 10
    assert (tmp_path / "data" / "db.sqlite3").exists()

    counts = run(env, code=(
        "import os, django; os.environ['DJANGO_SETTINGS_MODULE'] = 'example_project.settings'; django.setup()\n"
        "from django.contrib.auth import get_user_model\n"
        "from django_pushmfa.models import MFACredential\n"
        "from example_project.demo.models import SimulatedPhone\n"
        "U = get_user_model()\n"
        # authenticate() without a request refuses a user with MFA (no password-only path): check the hash.
        f"ok = U.objects.get(username='demo').check_password({b['password']!r})\n"
        "qs = MFACredential.objects.active().filter(user__username='demo')\n"
        "active = sorted(qs.values_list('method', flat=True))\n"
        "print(U.objects.filter(username='demo').count(), SimulatedPhone.objects.count(), ok, ','.join(active),"
        " U.objects.get(username='admin').is_superuser)\n"
    ))
    assert counts.split() == ["1", "1", "True", "backup_codes,push,totp", "True"]


def test_demo_command_repairs_after_an_mfa_reset(env):
    first = json.loads(run(env, "pushmfa_demo", "--json").strip().splitlines()[-1])["users"][0]
    run(env, code=(
        "import os, django; os.environ['DJANGO_SETTINGS_MODULE'] = 'example_project.settings'; django.setup()\n"
        "from django.contrib.auth import get_user_model\n"
        "from django_pushmfa import services\n"
        "U = get_user_model()\n"
        "services.reset_mfa(U.objects.get(username='demo'), actor=U.objects.get(username='admin'), reason='test')\n"
    ))
    again = json.loads(run(env, "pushmfa_demo", "--json").strip().splitlines()[-1])["users"][0]
    assert again["device_id"] != first["device_id"]  # a new phone was paired
    assert again["totp_secret"] != first["totp_secret"]


SETTINGS_PROBE = (
    "import os, django; os.environ['DJANGO_SETTINGS_MODULE'] = 'example_project.settings'; django.setup()\n"
    "import json; from django.conf import settings; from django_pushmfa.app_settings import app_settings\n"
    "db = settings.DATABASES['default']\n"
    "print(json.dumps({'db': db['ENGINE'], 'name': str(db['NAME']),"
    " 'cache': settings.CACHES['default']['BACKEND'], 'debug': settings.DEBUG,"
    " 'simulator': settings.DEMO_PHONE_SIMULATOR, 'ttl': app_settings.CHALLENGE_TTL}))\n"
)


def test_settings_default_to_the_embedded_stores(env):
    probe = json.loads(run(env, code=SETTINGS_PROBE))
    assert probe["db"] == "django.db.backends.sqlite3" and probe["name"].endswith("db.sqlite3")
    assert probe["cache"] == "django.core.cache.backends.locmem.LocMemCache"
    assert probe["debug"] is True and probe["simulator"] is True and probe["ttl"] == 120


SQLITE_PROBE = (
    "import os, django; os.environ['DJANGO_SETTINGS_MODULE'] = 'example_project.settings'; django.setup()\n"
    "from django.db import connection\n"
    "with connection.cursor() as c:\n"
    "    c.execute('PRAGMA journal_mode'); mode = c.fetchone()[0]\n"
    "    c.execute('PRAGMA busy_timeout'); timeout = c.fetchone()[0]\n"
    "print(mode, timeout, connection.transaction_mode)\n"
)


@pytest.mark.skipif(django.VERSION < (5, 1), reason="transaction_mode and init_command need Django 5.1")
def test_embedded_sqlite_takes_concurrent_phone_and_browser_writes(env):
    """WAL, a busy timeout and IMMEDIATE transactions: the demo's writers queue instead of failing
    with "database is locked" (the browser's poll and the phone's answer write at the same moment)."""
    assert run(env, code=SQLITE_PROBE).split() == ["wal", "30000", "IMMEDIATE"]


def test_settings_switch_to_postgres_and_redis_by_environment(env):
    env.update(
        PUSHMFA_DB="postgres", PGDATABASE="somewhere", PUSHMFA_REDIS_URL="redis://127.0.0.1:6379/9",
        PUSHMFA_DEBUG="0", PUSHMFA_CHALLENGE_TTL="45",
    )
    probe = json.loads(run(env, code=SETTINGS_PROBE))
    assert probe["db"] == "django.db.backends.postgresql" and probe["name"] == "somewhere"
    assert probe["cache"] == "django_redis.cache.RedisCache"
    assert probe["debug"] is False and probe["simulator"] is False and probe["ttl"] == 45


SIMULATOR_PROBE = (
    "import os, django; os.environ['DJANGO_SETTINGS_MODULE'] = 'example_project.settings'; django.setup()\n"
    "from django.test import Client; from django.test.utils import setup_test_environment\n"
    "setup_test_environment()\n"
    "c = Client()\n"
    "print(c.get('/simulator/').status_code, c.get('/simulator/api/phones/').status_code,"
    " c.get('/simulator/api/phones/1/inbox/').status_code, c.get('/simulator/browser/').status_code,"
    " c.get('/simulator/api/browser-inbox/?token=x').status_code)\n"
)


def test_simulator_is_off_outside_debug(env):
    env["PUSHMFA_DEBUG"] = "0"
    env["PUSHMFA_ALLOWED_HOSTS"] = "testserver"
    assert run(env, code=SIMULATOR_PROBE).split() == ["404", "404", "404", "404", "404"]
    env["PUSHMFA_PHONE_SIMULATOR"] = "1"  # the explicit setting turns it on without DEBUG
    answers = run(env, code=SIMULATOR_PROBE).split()
    assert answers[:2] == ["200", "200"]
    assert answers[3:] == ["200", "400"]  # the browser phone; its inbox takes only a browser phone's token


def test_simulator_pairing_rejects_a_malformed_uri(env):
    out = run(env, code=(
        "import os, django; os.environ['DJANGO_SETTINGS_MODULE'] = 'example_project.settings'; django.setup()\n"
        "from django.test import Client; from django.test.utils import setup_test_environment\n"
        "setup_test_environment(); c = Client()\n"
        "r = c.post('/simulator/api/pair/', {'pairing_uri': 'https://evil.example/', 'name': 'x'},"
        " content_type='application/json')\n"
        "print(r.status_code, r.json()['code'])\n"
    ))
    assert out.split() == ["400", "invalid_uri"]


def test_demo_prints_the_current_totp_code(env):
    """A TOTP code without an authenticator app: `manage.py pushmfa_demo_code [username]`."""
    import pyotp

    accounts = json.loads(run(env, "pushmfa_demo", "--json", "--username", "demo", "--username", "alice")
                          .strip().splitlines()[-1])["users"]
    assert len({a["phone_name"] for a in accounts}) == 2  # the simulator tells the demo phones apart
    for account in accounts:
        args = ("pushmfa_demo_code",) if account["username"] == "demo" else ("pushmfa_demo_code", "alice")
        code = run(env, *args).split()[0]
        totp = pyotp.TOTP(account["totp_secret"])
        assert totp.verify(code, valid_window=1), code
