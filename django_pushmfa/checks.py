"""System checks (ids ``pushmfa.E0xx`` errors, ``pushmfa.W0xx`` warnings), under the security tag."""
from __future__ import annotations

from django.core import checks

# --- login integration (E010-E014) ----------------------------------------------------------------
# A missing or misplaced piece here means passwords alone log users in: errors, not warnings.


def _import_or_none(path: str):  # a class or None
    from django.utils.module_loading import import_string

    try:
        return import_string(path)
    except ImportError:
        return None


@checks.register(checks.Tags.security)
def check_login_integration(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
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


# --- password-only paths (W010, W011) -------------------------------------------------------------
# The backend refuses the password of a user with MFA on these paths (see auth_backends); the
# warnings say which of the site's paths that is, so nobody relies on them for such users.
DRF_PASSWORD_CLASSES = ("rest_framework.authentication.BasicAuthentication",)
# Apps / authentication classes that trade a password for a token without login().
TOKEN_ISSUERS = (
    "rest_framework.authtoken",
    "rest_framework_simplejwt",
    "knox",
    "dj_rest_auth",
    "graphql_jwt",
    "oauth2_provider",
)


@checks.register(checks.Tags.security)
def check_password_only_paths(app_configs=None, **kwargs) -> list[checks.CheckMessage]:  # noqa: ANN001
    """W010: DRF authenticates by password (BasicAuthentication, DRF's default); W011: a token issuer
    that trades a password for a token is installed. Neither logs in a user with MFA."""
    from django.conf import settings

    messages: list[checks.CheckMessage] = []
    if "rest_framework" in settings.INSTALLED_APPS:
        rest = getattr(settings, "REST_FRAMEWORK", None) or {}
        configured = rest.get("DEFAULT_AUTHENTICATION_CLASSES")
        if configured is None:
            from rest_framework.settings import DEFAULTS

            configured = DEFAULTS["DEFAULT_AUTHENTICATION_CLASSES"]
        basic = [path for path in configured if _is_password_class(path)]
        if basic:
            source = "DRF's default" if rest.get("DEFAULT_AUTHENTICATION_CLASSES") is None else "configured"
            messages.append(
                checks.Warning(
                    f"REST_FRAMEWORK['DEFAULT_AUTHENTICATION_CLASSES'] ({source}) includes {', '.join(basic)}, "
                    "which checks a password without the MFA step: django-pushmfa answers it as a wrong "
                    "password for every user with MFA, so only users without MFA can use it.",
                    hint='Set REST_FRAMEWORK = {"DEFAULT_AUTHENTICATION_CLASSES": ['
                    '"rest_framework.authentication.SessionAuthentication", '
                    '"django_pushmfa.api.authentication.SessionTokenAuthentication"]} (see docs/security.md).',
                    id="pushmfa.W010",
                )
            )
        configured_tokens = [path for path in configured if path.startswith(TOKEN_ISSUERS)]
    else:
        configured_tokens = []
    issuers = [app for app in settings.INSTALLED_APPS if app.startswith(TOKEN_ISSUERS)] + configured_tokens
    if issuers:
        messages.append(
            checks.Warning(
                f"{', '.join(dict.fromkeys(issuers))}: a view that trades a password for a token skips the MFA "
                "step; django-pushmfa refuses the password of every user with MFA there (as a wrong password).",
                hint="Let API clients log in with the app-client flow (api/app/login/ and X-Session-Token), "
                "or silence pushmfa.W011 when these tokens are meant only for users without MFA.",
                id="pushmfa.W011",
            )
        )
    return messages


def _is_password_class(path: str) -> bool:
    from rest_framework.authentication import BasicAuthentication

    cls = _import_or_none(path)
    return path in DRF_PASSWORD_CLASSES or (isinstance(cls, type) and issubclass(cls, BasicAuthentication))


# --- challenge store and number matching (W001, E002, W013) ---------------------------------------
PROCESS_LOCAL_CACHES = (
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
    "django.core.cache.backends.filebased.FileBasedCache",
)


@checks.register(checks.Tags.security)
def check_challenge_store(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """W001: push challenges on a process-local cache outside DEBUG; E002: bad number matching;
    W013: number matching weaker than a guideline asks."""
    from django.conf import settings

    from .app_settings import app_settings
    from .push.internal.numbers import MAX_DIGITS, MIN_DIGITS, MODES, PROFILES, effective_policy, number_space
    from .push.store import CACHE_STORE, store_class

    messages: list[checks.CheckMessage] = []
    alias = app_settings.CACHE_ALIAS
    backend = settings.CACHES.get(alias, {}).get("BACKEND", "")
    if not settings.DEBUG and store_class(alias) == CACHE_STORE and backend in PROCESS_LOCAL_CACHES:
        messages.append(
            checks.Warning(
                f"Push challenges are kept in the process-local cache {alias!r} ({backend.rsplit('.', 1)[-1]}); "
                "they won't be shared between workers, so a phone's answer may never reach the login.",
                hint="Point PUSHMFA_CACHE_ALIAS at a Redis cache (django-redis or Django's RedisCache), or run a "
                "single process.",
                obj=alias,
                id="pushmfa.W001",
            )
        )
    profile = app_settings.NUMBER_MATCHING_PROFILE
    if profile is not None and profile not in PROFILES:
        messages.append(
            checks.Error(
                f"PUSHMFA_NUMBER_MATCHING_PROFILE must be None or one of {', '.join(PROFILES)} (is {profile!r}).",
                id="pushmfa.E002",
            )
        )
        return messages
    mode, digits, count = effective_policy()
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
    if not problems:
        messages += _number_matching_guidance(mode, digits)
    return messages


def _number_matching_guidance(mode: str, digits: int) -> list[checks.CheckMessage]:
    """W013: the number matching the configuration gives falls short of a guideline (named)."""
    from .push.internal.numbers import PROFILES

    short = []
    nist_mode, nist_digits = PROFILES["nist"]
    if mode != nist_mode or digits < nist_digits:
        short.append(f"NIST SP 800-63B rev. 4 (the number typed on the phone, {nist_digits} digits)")
    if mode != PROFILES["cisa"][0]:
        short.append("CISA's number matching guidance (the user types the number; no picking)")
    if not short:
        return []
    shown = f"pick 1 of several {digits}-digit numbers" if mode == "choices" else f"type a {digits}-digit number"
    return [
        checks.Warning(
            f"Push number matching ({shown}) falls short of {' and '.join(short)}.",
            hint='Set PUSHMFA_NUMBER_MATCHING_PROFILE = "nist" (or "cisa"), or silence pushmfa.W013 to keep '
            "the usability default deliberately; docs/security.md says what each mode is worth.",
            id="pushmfa.W013",
        )
    ]


# --- push delivery (E001) -------------------------------------------------------------------------
@checks.register(checks.Tags.security)
def check_push_backends(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """E001: a PUSHMFA_PUSH_BACKENDS entry whose BACKEND does not import or whose provider library (the
    package's extra) is not installed. Without it no push for that platform would ever leave the
    server. Its OPTIONS (credential files) are checked by the deploy check below."""
    from django.core.exceptions import ImproperlyConfigured

    from .push.backends import load_backend_class

    messages: list[checks.CheckMessage] = []
    for platform in _platforms():
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
    return messages


def _platforms() -> list[str]:
    from .app_settings import app_settings

    backends = app_settings.PUSH_BACKENDS
    return list(backends) if isinstance(backends, dict) else ["fcm"]


@checks.register(checks.Tags.security, deploy=True)
def check_push_backend_options(app_configs=None, **kwargs) -> list[checks.CheckMessage]:  # noqa: ANN001
    """E001 (``check --deploy`` only): OPTIONS a backend rejects, such as a credential file (FCM service
    account, APNs key or certificate) that is missing or unreadable. A deploy check, so that ``migrate``
    and ``collectstatic`` in a build step without the secrets mounted are not blocked; the backend
    raises the same error on its first push."""
    from django.core.exceptions import ImproperlyConfigured

    from .app_settings import app_settings
    from .exceptions import PushConfigurationError
    from .push.backends import load_backend_class

    messages: list[checks.CheckMessage] = []
    for platform in _platforms():
        try:
            backend_class = load_backend_class(platform)
        except ImproperlyConfigured:
            continue  # reported by check_push_backends
        if backend_class.check_library() is not None:
            continue  # idem
        try:
            # Backends validate their options without network I/O; the instance is thrown away.
            backend_class(app_settings.PUSH_BACKENDS[platform].get("OPTIONS") or {}).close()
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
def check_unifiedpush_testing(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """W012: the UnifiedPush backend's test-only ``UNSAFE_TESTING`` options (loopback endpoints, a
    custom CA) are set; they turn off part of the SSRF defence and belong only in a test suite."""
    from .app_settings import app_settings

    backends = app_settings.PUSH_BACKENDS if isinstance(app_settings.PUSH_BACKENDS, dict) else {}
    return [
        checks.Warning(
            f"PUSHMFA_PUSH_BACKENDS[{platform!r}]['OPTIONS']['UNSAFE_TESTING'] is set: pushes may go to "
            "loopback addresses or servers trusted only by a test CA.",
            hint="Remove UNSAFE_TESTING outside the test suite.",
            obj=f"PUSHMFA_PUSH_BACKENDS[{platform!r}]",
            id="pushmfa.W012",
        )
        for platform, config in backends.items()
        if isinstance(config, dict) and (config.get("OPTIONS") or {}).get("UNSAFE_TESTING")
    ]


@checks.register(checks.Tags.security)
def check_webauthn_relying_party(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
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
def check_methods(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """E015: ``PUSHMFA_METHODS`` names an unknown method, or no method that authenticates on its own."""
    from .app_settings import app_settings
    from .internal.methods import ALIASES, REGISTRY, enabled

    names = app_settings.METHODS
    if isinstance(names, str) or not isinstance(names, list | tuple):
        return [checks.Error(f"PUSHMFA_METHODS must be a list of method names (is {names!r}).", id="pushmfa.E015")]
    unknown = [name for name in names if ALIASES.get(str(name), str(name)) not in REGISTRY]
    errors: list[checks.CheckMessage] = [
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


# --- scale-out: delivery off the request path (E020, W020) ---------------------------------------
@checks.register(checks.Tags.security)
def check_push_delivery(app_configs=None, **kwargs) -> list[checks.CheckMessage]:  # noqa: ANN001
    """E020: PUSHMFA_PUSH_DELIVERY unknown, its executor sizes not positive, or "task" without the Tasks
    API; W020: "task" with a process-local challenge store (the worker would never see the challenge)."""
    from django.conf import settings

    from .app_settings import app_settings
    from .push.internal.dispatch import MODES
    from .push.store import CACHE_STORE, store_class

    mode = app_settings.PUSH_DELIVERY
    if mode not in MODES:
        return [checks.Error(f"PUSHMFA_PUSH_DELIVERY must be one of {', '.join(MODES)} (is {mode!r}).",
                             id="pushmfa.E020")]
    messages: list[checks.CheckMessage] = []
    for name in ("DELIVERY_THREADS", "DELIVERY_QUEUE_SIZE"):
        value = getattr(app_settings, name)
        if not isinstance(value, int) or value < 1:
            messages.append(checks.Error(f"PUSHMFA_{name} must be a positive integer (is {value!r}).",
                                         id="pushmfa.E020"))
    if mode != "task":
        return messages
    try:
        from .push.internal import delivery_task  # noqa: F401 - only whether it imports
    except ImportError:
        messages.append(
            checks.Error(
                'PUSHMFA_PUSH_DELIVERY = "task" needs Django\'s Tasks API (Django 6, or the django-tasks '
                "backport).",
                hint='pip install "django-pushmfa[tasks]" and configure TASKS.',
                id="pushmfa.E020",
            )
        )
        return messages
    alias = app_settings.CACHE_ALIAS
    backend = settings.CACHES.get(alias, {}).get("BACKEND", "")
    if store_class(alias) == CACHE_STORE and backend in PROCESS_LOCAL_CACHES:
        messages.append(
            checks.Warning(
                'PUSHMFA_PUSH_DELIVERY = "task" with challenges in the process-local cache '
                f"{alias!r}: a worker process never finds them, so no push goes out.",
                hint="Keep challenges in a shared cache (django-redis) or use the default executor delivery.",
                obj=alias,
                id="pushmfa.W020",
            )
        )
    return messages


# --- scale-out: Redis Cluster (E021, W021) --------------------------------------------------------
@checks.register(checks.Tags.security)
def check_cluster_store(app_configs=None, **kwargs) -> list[checks.CheckMessage]:  # noqa: ANN001
    """E021: the Cluster challenge store on a cache that is not a RedisClusterCache (every login would
    fail with 503); W021: a RedisClusterCache whose KEY_PREFIX holds a hash tag ("{" or "}"), which
    puts every key in one slot: one node holds and serves everything."""
    from django.conf import settings

    from .app_settings import app_settings
    from .push.store import CLUSTER_CACHE, CLUSTER_STORE, is_cluster_cache, store_class

    messages: list[checks.CheckMessage] = []
    alias = app_settings.CACHE_ALIAS
    if store_class(alias) == CLUSTER_STORE and not is_cluster_cache(alias):
        messages.append(
            checks.Error(
                f"PUSHMFA_CHALLENGE_STORE is the Redis Cluster store but cache {alias!r} is not a "
                "RedisClusterCache.",
                hint=f'Set CACHES[{alias!r}]["BACKEND"] = "{CLUSTER_CACHE}" (see docs/deployment.md).',
                obj=alias,
                id="pushmfa.E021",
            )
        )
    prefix = str(settings.CACHES.get(alias, {}).get("KEY_PREFIX", ""))
    if is_cluster_cache(alias) and ("{" in prefix or "}" in prefix):
        messages.append(
            checks.Warning(
                f"The KEY_PREFIX of cache {alias!r} holds a hash tag ({prefix!r}): every key of the challenge "
                "store lands in one hash slot, on one node of the cluster.",
                hint='Use a KEY_PREFIX without "{" and "}".',
                obj=alias,
                id="pushmfa.W021",
            )
        )
    return messages


@checks.register(checks.Tags.templates)
def check_base_template(app_configs=None, **kwargs) -> list[checks.CheckMessage]:  # noqa: ANN001
    """PUSHMFA_BASE_TEMPLATE must name a template that loads: every MFA page extends it."""
    from django.template import TemplateDoesNotExist, TemplateSyntaxError
    from django.template.loader import get_template

    from .app_settings import app_settings

    name = app_settings.BASE_TEMPLATE
    try:
        get_template(str(name))
    except (TemplateDoesNotExist, TemplateSyntaxError) as exc:
        return [
            checks.Error(
                f"PUSHMFA_BASE_TEMPLATE = {name!r} cannot be loaded ({type(exc).__name__}): "
                "every MFA page extends it.",
                hint="Name the site's base template (it needs the blocks 'title' and 'content'), "
                "or remove the setting to use 'pushmfa/base.html'.",
                id="pushmfa.E030",
            )
        ]
    return []


# --- messages (E016) ------------------------------------------------------------------------------
@checks.register()
def check_messages(app_configs=None, **kwargs) -> list[checks.CheckMessage]:  # noqa: ANN001
    """E016: the account pages (TOTP setup, credential changes) report their outcome through
    ``django.contrib.messages``; without its app and middleware those requests would fail after the
    change was saved."""
    from django.apps import apps
    from django.conf import settings
    from django.contrib.messages.middleware import MessageMiddleware

    middleware = [_import_or_none(path) for path in getattr(settings, "MIDDLEWARE", None) or []]
    has_middleware = any(isinstance(cls, type) and issubclass(cls, MessageMiddleware) for cls in middleware)
    if apps.is_installed("django.contrib.messages") and has_middleware:
        return []
    return [
        checks.Error(
            "django-pushmfa's account pages need django.contrib.messages (the app and its middleware).",
            hint='Add "django.contrib.messages" to INSTALLED_APPS and '
            '"django.contrib.messages.middleware.MessageMiddleware" to MIDDLEWARE (after SessionMiddleware).',
            id="pushmfa.E016",
        )
    ]


# --- app clients (W014) ----------------------------------------------------------------------------
@checks.register(checks.Tags.security)
def check_app_client_sessions(app_configs=None, **kwargs) -> list[checks.CheckMessage]:  # noqa: ANN001
    """W014: app clients' ``X-Session-Token`` names a server-side session; the signed-cookie engine has none."""
    from django.conf import settings

    if settings.SESSION_ENGINE != "django.contrib.sessions.backends.signed_cookies":
        return []
    return [
        checks.Warning(
            "SESSION_ENGINE is signed_cookies: app clients (api/app/login/, X-Session-Token) cannot log in, "
            "because their session must live on the server.",
            hint="Use the db, cache or cached_db session engine.",
            id="pushmfa.W014",
        )
    ]
