"""System checks (ids ``pushmfa.E0xx`` errors, ``pushmfa.W0xx`` warnings), under the security tag."""
from __future__ import annotations

from django.core import checks

# --- login integration (E010-E014) ----------------------------------------------------------------
# A missing or misplaced piece here means passwords alone log users in: errors, not warnings.


def _import_or_none(path: str):  # noqa: ANN202 - a class or None
    from django.utils.module_loading import import_string

    try:
        return import_string(path)
    except ImportError:
        return None


@checks.register(checks.Tags.security)
def check_login_integration(app_configs=None, **kwargs) -> list[checks.CheckMessage]:  # noqa: ANN001
    from django.conf import settings
    from django.contrib.auth.backends import ModelBackend
    from django.contrib.auth.middleware import AuthenticationMiddleware

    from .auth_backends import MFABackendMixin
    from .middleware import MFAMiddleware

    errors: list[checks.CheckMessage] = []
    backends = [(path, _import_or_none(path)) for path in getattr(settings, "AUTHENTICATION_BACKENDS", [])]
    mfa_backends = [path for path, cls in backends if isinstance(cls, type) and issubclass(cls, MFABackendMixin)]
    if not mfa_backends:
        errors.append(
            checks.Error(
                "No authentication backend inserts the MFA step.",
                hint='Use "django_pushmfa.auth_backends.MFAModelBackend" in AUTHENTICATION_BACKENDS in place of '
                "ModelBackend, or mix django_pushmfa.auth_backends.MFABackendMixin into your own backend.",
                id="pushmfa.E010",
            )
        )
    for path, cls in backends:
        if (
            isinstance(cls, type)
            and issubclass(cls, ModelBackend)
            and not issubclass(cls, MFABackendMixin)
        ):
            errors.append(
                checks.Error(
                    f"AUTHENTICATION_BACKENDS lists {path!r}, which logs users in on a password alone and "
                    "bypasses the MFA step.",
                    hint="Remove it: django_pushmfa.auth_backends.MFAModelBackend does what ModelBackend does.",
                    obj=path,
                    id="pushmfa.E011",
                )
            )

    middleware = list(getattr(settings, "MIDDLEWARE", None) or [])
    classes = [_import_or_none(path) for path in middleware]
    mfa_at = [i for i, cls in enumerate(classes) if isinstance(cls, type) and issubclass(cls, MFAMiddleware)]
    auth_at = [
        i for i, cls in enumerate(classes) if isinstance(cls, type) and issubclass(cls, AuthenticationMiddleware)
    ]
    if not mfa_at:
        errors.append(
            checks.Error(
                "django_pushmfa.middleware.MFAMiddleware is not in MIDDLEWARE.",
                hint="Insert it right after django.contrib.auth.middleware.AuthenticationMiddleware.",
                id="pushmfa.E012",
            )
        )
    elif not auth_at or mfa_at[0] < auth_at[0]:
        errors.append(
            checks.Error(
                "MFAMiddleware must come after AuthenticationMiddleware in MIDDLEWARE.",
                hint="Insert it right after django.contrib.auth.middleware.AuthenticationMiddleware.",
                id="pushmfa.E013",
            )
        )

    from django.apps import apps

    if not apps.is_installed("rest_framework"):
        errors.append(
            checks.Error(
                '"rest_framework" is not in INSTALLED_APPS; the MFA step\'s API needs it.',
                hint='Add "rest_framework" to INSTALLED_APPS.',
                id="pushmfa.E014",
            )
        )
    return errors


# --- challenge store and number matching (W001, E002) ---------------------------------------------
PROCESS_LOCAL_CACHES = (
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
    "django.core.cache.backends.filebased.FileBasedCache",
)


@checks.register(checks.Tags.security)
def check_challenge_store(app_configs=None, **kwargs) -> list[checks.CheckMessage]:  # noqa: ANN001
    """W001: push challenges on a process-local cache outside DEBUG; E002: bad number matching."""
    from django.conf import settings

    from .app_settings import app_settings
    from .push.internal.numbers import MAX_DIGITS, MIN_DIGITS, MODES, number_space
    from .push.store import CACHE_STORE, store_class

    messages: list[checks.CheckMessage] = []
    alias = app_settings.CACHE_ALIAS
    backend = settings.CACHES.get(alias, {}).get("BACKEND", "")
    if not settings.DEBUG and store_class(alias) == CACHE_STORE and backend in PROCESS_LOCAL_CACHES:
        messages.append(
            checks.Warning(
                f"Push challenges are kept in the process-local cache {alias!r} ({backend.rsplit('.', 1)[-1]}); "
                "they won't be shared between workers, so a phone's answer may never reach the login.",
                hint="Point PUSHMFA_CACHE_ALIAS at a django-redis cache (the Redis challenge store), or run a "
                "single process.",
                obj=alias,
                id="pushmfa.W001",
            )
        )
    digits, count, mode = app_settings.NUMBER_DIGITS, app_settings.NUMBER_CHOICES, app_settings.NUMBER_MODE
    problems = []
    if not isinstance(digits, int) or not MIN_DIGITS <= digits <= MAX_DIGITS:
        problems.append(f"PUSHMFA_NUMBER_DIGITS must be an integer from {MIN_DIGITS} to {MAX_DIGITS} (is {digits!r}).")
    if mode not in MODES:
        problems.append(f"PUSHMFA_NUMBER_MODE must be one of {', '.join(MODES)} (is {mode!r}).")
    if not isinstance(count, int) or count < 2:
        problems.append(f"PUSHMFA_NUMBER_CHOICES must be at least 2 (is {count!r}).")
    elif isinstance(digits, int) and MIN_DIGITS <= digits <= MAX_DIGITS and count > number_space(digits)[1]:
        problems.append(f"PUSHMFA_NUMBER_CHOICES ({count}) is more than there are {digits}-digit numbers.")
    messages += [checks.Error(problem, id="pushmfa.E002") for problem in problems]
    return messages


# --- push delivery (E001) -------------------------------------------------------------------------
@checks.register(checks.Tags.security)
def check_push_backends(app_configs=None, **kwargs) -> list[checks.CheckMessage]:  # noqa: ANN001
    """E001: a PUSHMFA_PUSH_BACKENDS entry whose BACKEND does not import, whose provider library (the
    package's extra) is not installed, or whose OPTIONS the backend rejects. Without it no push for
    that platform would ever leave the server."""
    from django.core.exceptions import ImproperlyConfigured

    from .app_settings import app_settings
    from .exceptions import PushConfigurationError
    from .push.backends import load_backend_class

    messages: list[checks.CheckMessage] = []
    backends = app_settings.PUSH_BACKENDS
    platforms = list(backends) if isinstance(backends, dict) else ["fcm"]
    for platform in platforms:
        try:
            backend_class = load_backend_class(platform)
        except ImproperlyConfigured as exc:
            messages.append(
                checks.Error(
                    str(exc),
                    hint='Use "django_pushmfa.push.backends.<fcm|apns|locmem|console>.PushBackend" or your own '
                    "BasePushBackend subclass.",
                    obj=f"PUSHMFA_PUSH_BACKENDS[{platform!r}]",
                    id="pushmfa.E001",
                )
            )
            continue
        missing = backend_class.check_library()
        if missing is not None:
            messages.append(
                checks.Error(
                    f"PUSHMFA_PUSH_BACKENDS[{platform!r}] uses {backend_class.__module__}.{backend_class.__name__}, "
                    f"which needs the {missing.library!r} package.",
                    hint=f'pip install "django-pushmfa[{missing.extra}]"',
                    obj=f"PUSHMFA_PUSH_BACKENDS[{platform!r}]",
                    id="pushmfa.E001",
                )
            )
            continue
        try:
            # Backends validate their options without network I/O; the instance is thrown away.
            backend_class(backends[platform].get("OPTIONS") or {}).close()
        except PushConfigurationError as exc:
            messages.append(
                checks.Error(
                    f"PUSHMFA_PUSH_BACKENDS[{platform!r}]['OPTIONS']: {exc}",
                    obj=f"PUSHMFA_PUSH_BACKENDS[{platform!r}]",
                    id="pushmfa.E001",
                )
            )
    return messages


@checks.register(checks.Tags.security)
def check_webauthn_relying_party(app_configs=None, **kwargs) -> list[checks.CheckMessage]:  # noqa: ANN001
    """Outside DEBUG, WebAuthn must not take its relying party from the request's Host header."""
    from django.conf import settings

    from .app_settings import app_settings

    if settings.DEBUG or (app_settings.WEBAUTHN_RP_ID and app_settings.WEBAUTHN_ORIGINS):
        return []
    return [
        checks.Warning(
            "PUSHMFA_WEBAUTHN_RP_ID and PUSHMFA_WEBAUTHN_ORIGINS are not both set: security keys and passkeys "
            "take the relying party from the request's Host header.",
            hint='Set PUSHMFA_WEBAUTHN_RP_ID = "example.com" and PUSHMFA_WEBAUTHN_ORIGINS = ["https://example.com"].',
            id="pushmfa.W002",
        )
    ]


# --- methods (E015) --------------------------------------------------------------------------------
@checks.register(checks.Tags.security)
def check_methods(app_configs=None, **kwargs) -> list[checks.CheckMessage]:  # noqa: ANN001
    """E015: ``PUSHMFA_METHODS`` names an unknown method, or no method that authenticates on its own."""
    from .app_settings import app_settings
    from .internal.methods import ALIASES, REGISTRY, enabled

    names = app_settings.METHODS
    if isinstance(names, str) or not isinstance(names, list | tuple):
        return [checks.Error(f"PUSHMFA_METHODS must be a list of method names (is {names!r}).", id="pushmfa.E015")]
    unknown = [name for name in names if ALIASES.get(str(name), str(name)) not in REGISTRY]
    errors = [
        checks.Error(
            f"PUSHMFA_METHODS names unknown methods: {', '.join(map(repr, unknown))}.",
            hint=f"Known methods: {', '.join(REGISTRY)}.",
            id="pushmfa.E015",
        )
    ] if unknown else []
    if not any(method.authenticates for method in enabled()):
        errors.append(
            checks.Error(
                "PUSHMFA_METHODS holds no method that completes the MFA step on its own "
                "(backup codes are only a way back in).",
                id="pushmfa.E015",
            )
        )
    return errors


# --- app clients (W010) ----------------------------------------------------------------------------
@checks.register(checks.Tags.security)
def check_app_client_sessions(app_configs=None, **kwargs) -> list[checks.CheckMessage]:  # noqa: ANN001
    """W010: app clients' ``X-Session-Token`` names a server-side session; the signed-cookie engine has none."""
    from django.conf import settings

    if settings.SESSION_ENGINE != "django.contrib.sessions.backends.signed_cookies":
        return []
    return [
        checks.Warning(
            "SESSION_ENGINE is signed_cookies: app clients (api/app/login/, X-Session-Token) cannot log in, "
            "because their session must live on the server.",
            hint="Use the db, cache or cached_db session engine.",
            id="pushmfa.W010",
        )
    ]
