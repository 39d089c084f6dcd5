"""Settings the benchmark runs the example site with: ``example_project.settings`` on PostgreSQL +
Redis, pointed at the benchmark's own database (``pushmfa_bench``) and Redis db (13), with the
limits that would stop a load test lifted. Nothing here changes a hot path of the app.
"""
import importlib.util
import os

import django

os.environ.setdefault("PUSHMFA_DB", "postgres")
os.environ.setdefault("PUSHMFA_REDIS_URL", "redis://127.0.0.1:6379/13")
os.environ.setdefault("PUSHMFA_DEBUG", "0")

from example_project.settings import *  # noqa: F403
from example_project.settings import CACHES, DATABASES

BENCH_DB_NAME = os.environ.get("PUSHMFA_BENCH_DB_NAME", "pushmfa_bench")
BENCH_REDIS_URL = os.environ["PUSHMFA_REDIS_URL"]

DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
ROOT_URLCONF = "bench.urls"

DATABASES["default"] = {
    "ENGINE": "django.db.backends.postgresql",
    "HOST": os.environ.get("PGHOST", "127.0.0.1"),
    "PORT": os.environ.get("PGPORT", "5432"),
    "USER": os.environ.get("PGUSER", "postgres"),
    "PASSWORD": os.environ.get("PGPASSWORD", ""),
    "NAME": BENCH_DB_NAME,
    "TEST": {"NAME": "test_" + BENCH_DB_NAME},
}
# Connections: a pool per process (Django >= 5.1 with psycopg-pool), as a production site on
# PostgreSQL runs. Per-thread persistent connections (CONN_MAX_AGE) do not fit ASGI, where every
# sync view runs in a thread of its own, and PostgreSQL's max_connections (100 here) is shared with
# everything else on the machine: 4 server processes x BENCH_DB_POOL_MAX must stay well below it.
BENCH_DB_POOL_MAX = int(os.environ.get("PUSHMFA_BENCH_DB_POOL_MAX", "12"))
# PUSHMFA_BENCH_DB_POOL=0: per-thread persistent connections instead (to compare; not for ASGI).
BENCH_DB_POOL = os.environ.get("PUSHMFA_BENCH_DB_POOL", "1") != "0"
# PUSHMFA_BENCH_SITE=typical: the "typical site" of issue 16 — persistent per-thread connections
# (CONN_MAX_AGE=60, health checks on), no pool; everything else (database sessions, the example
# site's middleware stack with messages, clickjacking and MFAMiddleware) is the example site's.
BENCH_SITE = os.environ.get("PUSHMFA_BENCH_SITE", "bench")
# Under ASGI (typical-asgi) Django's docs rule persistent connections out: a connection per request.
if BENCH_SITE == "typical":
    DATABASES["default"]["CONN_MAX_AGE"] = 60
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
elif BENCH_SITE == "typical-asgi":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
elif BENCH_DB_POOL and django.VERSION >= (5, 1) and importlib.util.find_spec("psycopg_pool") is not None:
    DATABASES["default"]["OPTIONS"] = {"pool": {"min_size": 2, "max_size": BENCH_DB_POOL_MAX, "timeout": 10}}
    DATABASES["default"]["CONN_MAX_AGE"] = 0
elif BENCH_DB_POOL:
    DATABASES["default"]["CONN_MAX_AGE"] = 0
else:
    DATABASES["default"]["CONN_MAX_AGE"] = 300

_default_cache = CACHES.get("default", {})
if _default_cache.get("BACKEND") == "django_redis.cache.RedisCache":
    CACHES["default"] = {**_default_cache, "LOCATION": BENCH_REDIS_URL}
else:
    CACHES["default"] = {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": BENCH_REDIS_URL}

# --sessions cache (PUSHMFA_BENCH_SESSIONS=cache): sessions in Redis instead of the example site's
# database sessions; a pending poll then costs no SQL at all.
if os.environ.get("PUSHMFA_BENCH_SESSIONS", "db") == "cache":
    SESSION_ENGINE = "django.contrib.sessions.backends.cache"

# Pushes go through the real delivery code into a backend that only counts them.
PUSHMFA_PUSH_BACKENDS = {
    "fcm": {"BACKEND": "bench.pushsink.PushBackend"},
    "apns": {"BACKEND": "bench.pushsink.PushBackend"},
}
# The slow-provider scenario compares deliveries (PUSHMFA_BENCH_PUSH_DELIVERY: "executor", the
# default, or "inline") and sizes the executor for a 2 s provider: threads = pushes/s x 2 s.
PUSHMFA_PUSH_DELIVERY = os.environ.get("PUSHMFA_BENCH_PUSH_DELIVERY", "executor")
PUSHMFA_DELIVERY_THREADS = int(os.environ.get("PUSHMFA_BENCH_DELIVERY_THREADS", "4"))
PUSHMFA_DELIVERY_QUEUE_SIZE = 1024
# A load test starts thousands of pushes from one IP for a few users: lift the fatigue limits
# (they are exercised by the test suite), so every request runs the full path.
PUSHMFA_PUSH_RATE_LIMIT_USER = (10**9, 900)
PUSHMFA_PUSH_RATE_LIMIT_IP = (10**9, 900)
PUSHMFA_SUSPEND_AFTER_DENIALS = 10**9
PUSHMFA_PENDING_TIMEOUT = 3600  # seeded pending sessions outlive the whole run
DEMO_PHONE_SIMULATOR = False
# The ASGI server runs as an ASGI site should: poll_url points at the native async poll view.
PUSHMFA_ASYNC_POLL = os.environ.get("PUSHMFA_BENCH_ASYNC_POLL", "0") == "1"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
