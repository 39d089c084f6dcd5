"""Settings for django-pushmfa: one ``PUSHMFA_*`` namespace, defaults in one place, read lazily.

Every attribute of :data:`app_settings` reads ``django.conf.settings`` on each access, so
``override_settings`` in tests just works. Use :func:`import_setting` to resolve a dotted path from a
setting: a bad path raises ``ImproperlyConfigured`` naming the setting.
"""
from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

DEFAULTS: dict[str, Any] = {
    # --- policy / extension points
    "ADAPTER": "django_pushmfa.adapter.DefaultMFAAdapter",
    "REQUIRE_MFA": False,  # send users without any credential to enrollment after the password step
    "METHODS": ["push", "totp", "webauthn", "backup_code"],  # the methods that exist (URLs, chooser, pages)
    "METHOD_PRIORITY": ["webauthn", "push", "totp", "backup_code"],
    "PENDING_TIMEOUT": 600,  # seconds the "MFA pending" state lasts after the password step
    "REAUTH_WINDOW": 300,  # seconds a login's MFA step or a re-authentication counts as recent (step-up)
    "SESSION_SEEN_INTERVAL": 300,  # seconds between writes of a session's "last seen"
    "EXEMPT_PATHS": [],  # path prefixes MFAMiddleware never redirects to the MFA step (health checks...)
    # --- pages
    "BASE_TEMPLATE": "pushmfa/base.html",  # the template every page extends: the site's own base.html
    "SITE_NAME": None,  # shown in pushes, on the phone, in emails; None: the sites framework's / the host name
    # --- challenge store
    "CACHE_ALIAS": "default",
    "CHALLENGE_STORE": None,  # dotted path; None picks Redis for Redis caches, else the cache store
    "CHALLENGE_TTL": 120,  # answer window, seconds (as the seed)
    "CHALLENGE_GRACE": 30,  # how long an answered challenge stays readable for the browser
    "LONG_POLL_MAX_WAIT": 30,
    # a long poll that sees no change ends up to this fraction of its wait early, at random: the
    # re-polls of many waiting browsers spread out instead of arriving in waves (0: exactly ``wait``)
    "LONG_POLL_JITTER": 0.2,
    "ASYNC_POLL": False,  # True (ASGI sites): poll_url points at the native async poll view
    # --- number matching
    "NUMBER_MODE": "choices",  # "choices" (pick among decoys) or "entry" (type it)
    "NUMBER_DIGITS": 2,  # 2..6
    "NUMBER_CHOICES": 3,  # numbers shown in "choices" mode, the right one included
    "NUMBER_MATCHING_PROFILE": None,  # "cisa" or "nist": enforce entry mode and enough digits (pushmfa.W020)
    # --- fatigue defences
    "PUSH_RATE_LIMIT_USER": (5, 900),  # pushes started per user per window (count, seconds)
    "PUSH_RATE_LIMIT_IP": (20, 900),  # pushes started per client IP per window
    "SUSPEND_AFTER_DENIALS": 3,  # denials / wrong numbers in SUSPEND_WINDOW that suspend push
    "SUSPEND_AFTER_REPORTS": 1,  # "this wasn't me" reports that suspend push
    "SUSPEND_WINDOW": 3600,
    "SUSPEND_SECONDS": 3600,
    "LOCATION_RESOLVER": None,  # dotted path to callable(ip: str) -> str | None
    # --- push delivery
    "PUSH_BACKENDS": {
        "fcm": {"BACKEND": "django_pushmfa.push.backends.console.PushBackend"},
        "apns": {"BACKEND": "django_pushmfa.push.backends.console.PushBackend"},
        "unifiedpush": {"BACKEND": "django_pushmfa.push.backends.unifiedpush.PushBackend"},
    },
    "PUSH_TIMEOUT": 10,  # seconds for one provider request
    "UNIFIEDPUSH_ALLOWED_HOSTS": None,  # None: any public host; else ["ntfy.sh", ".example.com"]
    # where pushes are sent from (push.internal.dispatch): "executor" (bounded in-process threads),
    # "task" (Django's Tasks API: a worker process), "inline" (inside the request, as before)
    "PUSH_DELIVERY": "executor",
    "DELIVERY_THREADS": 4,  # "executor": threads per process sending pushes
    "DELIVERY_QUEUE_SIZE": 256,  # "executor": challenges waiting for a thread; beyond, a push is dropped
    "DELIVERY_TASK_BACKEND": "default",  # "task": the TASKS alias to enqueue on
    "DELIVERY_TASK_QUEUE": "default",  # "task": its queue name
    # --- devices
    "PAIRING_TOKEN_TTL": 600,
    "PAIRING_URI_SCHEME": "pushmfa",
    "PAIRING_SERVER_URL": None,  # absolute URL of the app's api/ put in pairing URIs; None: from the request
    "SIGNATURE_SKEW": 60,
    "MAX_BODY_BYTES": 16 * 1024,
    # --- TOTP
    "TOTP_ISSUER": None,  # None: the site's name
    "TOTP_TOLERANCE": "previous",  # "previous": this step and the one before; an int n: ±n steps
    "TOTP_DIGITS": 6,
    "TOTP_PERIOD": 30,
    "TOTP_FAILURE_BACKOFF_BASE": 1,  # seconds; doubles with each failure after the third
    # typed-code back-off, shared by TOTP and backup codes (see internal.throttle)
    "CODE_FAILURE_FREE_ATTEMPTS": 3,  # failures before the back-off starts
    "CODE_FAILURE_BACKOFF_MAX": 3600,  # longest single wait, seconds
    "CODE_FAILURE_LIMIT": 100,  # consecutive failed codes that lock typed codes (NIST: at most 100); 0: none
    "TOTP_SETUP_TIMEOUT": 900,  # seconds a started (unconfirmed) TOTP setup stays in the session
    # --- backup codes
    "BACKUP_CODE_COUNT": 10,
    "BACKUP_CODE_WARN_REMAINING": 2,
    # --- WebAuthn
    "WEBAUTHN_RP_ID": None,  # None: the request's host name
    "WEBAUTHN_RP_NAME": None,  # None: the site's name
    "WEBAUTHN_ORIGINS": None,  # None: the request's own origin
    "WEBAUTHN_TIMEOUT": 300,  # seconds a ceremony's challenge stays valid (also the browser hint)
    # --- app clients (api/app/login/): failed password logins per window before 429 (count, seconds)
    "APP_LOGIN_RATE_LIMIT_USER": (5, 300),  # per username tried, known or not
    "APP_LOGIN_RATE_LIMIT_IP": (20, 300),  # per client IP
    # --- remembered browsers
    "TRUST_BROWSER_DAYS": 0,  # 0 turns "trust this browser" off
    "TRUST_COOKIE_NAME": "pushmfa_trust",
    # --- alerts (each can be turned off)
    "ALERTS": {
        "backup_code_used": True,
        "codes_locked": True,
        "credential_added": True,
        "credential_revoked": True,
        "mfa_reset": True,
        "push_suspended": True,
        "second_step_failed": True,
        "sessions_ended": True,
        "wrong_number": True,
    },
    # --- admin
    "ADMIN_EXTEND_USER_ADMIN": True,  # re-register the stock auth.User UserAdmin with MFAUserAdminMixin
}


class AppSettings:
    prefix = "PUSHMFA_"

    def __getattr__(self, name: str) -> Any:
        if name not in DEFAULTS:
            raise AttributeError(name)
        value = getattr(settings, self.prefix + name, DEFAULTS[name])
        if name == "ALERTS" and isinstance(value, dict):
            value = {**DEFAULTS["ALERTS"], **value}
        return value


app_settings = AppSettings()


def import_setting(name: str, path: str | None = None) -> Any:
    """Import the object that setting ``PUSHMFA_<name>`` (or ``path``) names."""
    dotted = path if path is not None else getattr(app_settings, name)
    try:
        return import_string(dotted)
    except ImportError as exc:
        raise ImproperlyConfigured(f"PUSHMFA_{name}: cannot import {dotted!r}: {exc}") from exc
