"""Settings of ``python -m bench.dashboard``: the test settings on PostgreSQL, in a database of its own."""
import os

os.environ.setdefault("PUSHMFA_TEST_DB", "postgres")
os.environ.setdefault("PUSHMFA_TEST_REDIS_URL", os.environ.get("PUSHMFA_BENCH_REDIS_URL", "redis://127.0.0.1:6379/13"))

from tests.settings import *  # noqa: E402,F403

DATABASES["default"]["NAME"] = os.environ.get("PUSHMFA_BENCH_DASHBOARD_DB", "pushmfa_bench_dashboard")  # noqa: F405
