"""Settings of the example site ("Acme Workspace"), a small host site using django-pushmfa.

Runs on the embedded default with no setup: SQLite in ``example_project/data/`` and Django's
local-memory cache. Environment variables switch it to the production shape:

- ``PUSHMFA_DB=postgres`` — PostgreSQL, from ``PGHOST`` (127.0.0.1), ``PGPORT`` (5432),
  ``PGUSER`` (postgres), ``PGPASSWORD`` (empty) and ``PGDATABASE`` (pushmfa_example);
- ``PUSHMFA_REDIS_URL=redis://127.0.0.1:6379/0`` — django-redis as the default cache, so the
  challenge store is the atomic Redis one, shared by every worker;
- ``PUSHMFA_DEBUG=0`` — DEBUG off (the phone simulator turns off with it unless
  ``PUSHMFA_PHONE_SIMULATOR=1``); ``PUSHMFA_ALLOWED_HOSTS`` — comma-separated host names;
- ``PUSHMFA_CHALLENGE_TTL`` — answer window of a push in seconds (default 120);
  ``PUSHMFA_NUMBER_MODE`` — ``choices`` (default) or ``entry`` (the phone shows a keypad);
- ``DJANGO_SECRET_KEY`` — else a random key is made once and kept in ``PUSHMFA_DATA_DIR``
  (default ``example_project/data``), as is the SQLite database.

Pushes go to the in-memory ``locmem`` backend, where the phone simulator (``/simulator/``) picks
them up; a real deployment sets ``PUSHMFA_PUSH_BACKENDS`` to the FCM and APNs backends.
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path

import django
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(os.environ.get("PUSHMFA_DATA_DIR") or BASE_DIR / "data")


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _secret_key() -> str:
    """``DJANGO_SECRET_KEY``, else a random key created once in the data directory."""
    if os.environ.get("DJANGO_SECRET_KEY"):
        return os.environ["DJANGO_SECRET_KEY"]
    path = DATA_DIR / "secret_key"
    if not path.exists():
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        # O_EXCL: two processes starting at once must not each write a different key.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_urlsafe(50))
    return path.read_text().strip()


DEBUG = env_bool("PUSHMFA_DEBUG", True)
SECRET_KEY = _secret_key()
ALLOWED_HOSTS = [
    h.strip() for h in os.environ.get("PUSHMFA_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]").split(",") if h.strip()
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_pushmfa",
    "example_project.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # right after AuthenticationMiddleware: sends "MFA pending" sessions to the MFA step
    "django_pushmfa.middleware.MFAMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

# In place of ModelBackend: a correct password of an enrolled user leads to the MFA step.
AUTHENTICATION_BACKENDS = ["django_pushmfa.auth_backends.MFAModelBackend"]

ROOT_URLCONF = "example_project.urls"
WSGI_APPLICATION = "example_project.wsgi.application"
ASGI_APPLICATION = "example_project.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "example_project.demo.context_processors.site",
            ]
        },
    }
]

# --- database and cache: embedded default, or PostgreSQL + Redis by environment
DB_KIND = os.environ.get("PUSHMFA_DB", "sqlite").strip().lower()
if DB_KIND == "postgres":
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "HOST": os.environ.get("PGHOST", "127.0.0.1"),
            "PORT": os.environ.get("PGPORT", "5432"),
            "USER": os.environ.get("PGUSER", "postgres"),
            "PASSWORD": os.environ.get("PGPASSWORD", ""),
            "NAME": os.environ.get("PGDATABASE", "pushmfa_example"),
            "CONN_MAX_AGE": 60,
            "CONN_HEALTH_CHECKS": True,
        }
    }
elif DB_KIND == "sqlite":
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    # The phone's answer and the browser's poll write at the same moment: WAL lets readers run beside
    # the writer, a busy timeout waits for the lock instead of failing with "database is locked",
    # and IMMEDIATE transactions (Django 5.1+) take the write lock at BEGIN so two writers queue
    # instead of deadlocking on the upgrade from a read lock (what tests/settings.py does too).
    SQLITE_OPTIONS: dict = {"timeout": 30}
    if django.VERSION >= (5, 1):
        SQLITE_OPTIONS.update(transaction_mode="IMMEDIATE", init_command="PRAGMA journal_mode=WAL;")
    DATABASES = {
        "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": DATA_DIR / "db.sqlite3", "OPTIONS": SQLITE_OPTIONS}
    }
else:
    raise ImproperlyConfigured(f"PUSHMFA_DB must be 'sqlite' or 'postgres', not {DB_KIND!r}.")

REDIS_URL = os.environ.get("PUSHMFA_REDIS_URL", "").strip()
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "pushmfa-example",
        }
    }
else:
    # Process-local: fine for one development server; pushmfa.W001 warns about it outside DEBUG.
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "example"}}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
# The TypeScript device SDK, built (clients/typescript: npm ci && npm run build), for the browser phone.
SDK_DIST = BASE_DIR.parent / "clients" / "typescript" / "dist"
if SDK_DIST.is_dir():
    STATICFILES_DIRS.append(("pushmfa-device", SDK_DIST))
STATIC_ROOT = DATA_DIR / "static"

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "home"

EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = "security@acme.example"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
}

# --- django-pushmfa
PUSHMFA_ADAPTER = "example_project.demo.adapter.ExampleAdapter"
PUSHMFA_SITE_NAME = "Acme Workspace"
# The MFA pages render inside the site's own base template: its header, logo and navigation stay.
PUSHMFA_BASE_TEMPLATE = "base.html"
PUSHMFA_PUSH_BACKENDS = {
    "fcm": {"BACKEND": "django_pushmfa.push.backends.locmem.PushBackend"},
    "apns": {"BACKEND": "django_pushmfa.push.backends.locmem.PushBackend"},
    "unifiedpush": {"BACKEND": "django_pushmfa.push.backends.locmem.PushBackend"},
}
PUSHMFA_LOCATION_RESOLVER = "example_project.demo.location.resolve"
PUSHMFA_CHALLENGE_TTL = int(os.environ.get("PUSHMFA_CHALLENGE_TTL", "120"))
# "choices" (pick the number among decoys, the default) or "entry" (type it on a keypad)
PUSHMFA_NUMBER_MODE = os.environ.get("PUSHMFA_NUMBER_MODE", "choices")
PUSHMFA_TRUST_BROWSER_DAYS = 30
# The phone simulator plays a separate device: a browser tab of the same (MFA pending) session
# must reach it instead of being sent to the MFA step.
PUSHMFA_EXEMPT_PATHS = ["/simulator/"]
# The example project's own setting (not the app's): the development phone simulator, on with DEBUG
# unless the environment says otherwise.
DEMO_PHONE_SIMULATOR = env_bool("PUSHMFA_PHONE_SIMULATOR", DEBUG)
# WebAuthn: the relying party is the host name the browser uses. Browsers refuse IP addresses as
# an RP id, so open the site as http://localhost:8000/ to register a security key or passkey.

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"django_pushmfa": {"handlers": ["console"], "level": "INFO"}},
}
