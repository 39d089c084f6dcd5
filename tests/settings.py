"""Test settings. ``PUSHMFA_TEST_DB=postgres`` runs on PostgreSQL + Redis (the production shape);
the default is the embedded SQLite + local-memory cache. A real Redis is configured in both as the
``redis`` cache alias so the store tests always run against it too.
"""
import os
import tempfile

import django

TEST_DB = os.environ.get("PUSHMFA_TEST_DB", "sqlite")
REDIS_URL = os.environ.get("PUSHMFA_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")

SECRET_KEY = "tests-secret-key-not-for-production-0123456789abcdef"
DEBUG = False
USE_TZ = True
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = "tests.urls"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",  # the password-only path tests (tests/hardening) issue tokens
    "django_pushmfa",
    "tests.testapp",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_pushmfa.middleware.MFAMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]

AUTHENTICATION_BACKENDS = ["django_pushmfa.auth_backends.MFAModelBackend"]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

if TEST_DB == "postgres":
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "HOST": os.environ.get("PGHOST", "127.0.0.1"),
            "PORT": os.environ.get("PGPORT", "5432"),
            "USER": os.environ.get("PGUSER", "postgres"),
            "NAME": "test",
            "TEST": {"NAME": os.environ.get("PUSHMFA_TEST_DB_NAME", "test_pushmfa")},
        }
    }
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "pushmfa-test",
        },
    }
else:
    # A file, not ":memory:": Django's in-memory test database is one shared-cache connection pool in
    # which a write transaction in one thread makes another thread fail at once with "table is
    # locked"; a file database waits (busy timeout) like a real deployment on SQLite does.
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": ":memory:",
            "TEST": {"NAME": os.path.join(tempfile.gettempdir(), f"pushmfa-test-{os.getpid()}.sqlite3")},
            # Wait for a lock rather than fail; IMMEDIATE transactions (Django 5.1+) take the write
            # lock at BEGIN, so two threads' transactions queue instead of deadlocking on upgrade.
            "OPTIONS": {"timeout": 30, **({"transaction_mode": "IMMEDIATE"} if django.VERSION >= (5, 1) else {})},
        }
    }
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# A real Redis in both configurations, for the store tests that run against both stores.
CACHES["redis"] = {
    "BACKEND": "django_redis.cache.RedisCache",
    "LOCATION": REDIS_URL,
    "KEY_PREFIX": "pushmfa-test-r",
}
# Django's own Redis cache (redis-py underneath): the Redis store serves it too.
CACHES["redis-builtin"] = {
    "BACKEND": "django.core.cache.backends.redis.RedisCache",
    "LOCATION": REDIS_URL,
    "KEY_PREFIX": "pushmfa-test-rb",
}
CACHES["locmem"] = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "pushmfa-locmem"}

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STATIC_URL = "/static/"
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"

PUSHMFA_PUSH_BACKENDS = {
    "fcm": {"BACKEND": "django_pushmfa.push.backends.locmem.PushBackend"},
    "apns": {"BACKEND": "django_pushmfa.push.backends.locmem.PushBackend"},
    "unifiedpush": {"BACKEND": "django_pushmfa.push.backends.locmem.PushBackend"},
}
PUSHMFA_WEBAUTHN_RP_ID = "testserver"
PUSHMFA_WEBAUTHN_ORIGINS = ["http://testserver"]

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
}
# The system checks for a process-local challenge cache are exercised in their own tests.
# pushmfa.W011: rest_framework.authtoken is installed for the password-only path tests (tests/hardening).
SILENCED_SYSTEM_CHECKS = ["pushmfa.W001", "pushmfa.W011"]

# Pushes are sent inside the request in most tests, which read the locmem outbox right after
# ``POST api/push/``; tests/scale runs the default ("executor") and the task-queue delivery.
PUSHMFA_PUSH_DELIVERY = "inline"

# The task-queue delivery (tests/scale): Django's Tasks API (backport) on RQ, on the test Redis.
INSTALLED_APPS += ["django_tasks", "django_rq", "django_tasks_rq"]
TASKS = {
    "default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"},
    "rq": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["pushmfa-test"]},
}
RQ_QUEUES = {"pushmfa-test": {"URL": REDIS_URL}}

# A worker process started by a test (tests/scale) gets the test's own settings on top of these:
# the test database's real name, the store alias, push backends that report across processes.
if os.environ.get("PUSHMFA_TEST_WORKER_SETTINGS"):
    import json

    for _name, _value in json.loads(os.environ["PUSHMFA_TEST_WORKER_SETTINGS"]).items():
        if _name == "DATABASE_NAME":
            DATABASES["default"]["NAME"] = _value
        else:
            globals()[_name] = _value
