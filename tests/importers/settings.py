"""The test settings plus the packages ``pushmfa_import`` reads, with their own apps and models:
django-otp (TOTP and static plugins), django-two-factor-auth, django-allauth's account and mfa apps.
Used by ``DJANGO_SETTINGS_MODULE=tests.importers.settings pytest tests/importers`` (./runtests does)."""
from tests.settings import *  # noqa: F403

INSTALLED_APPS = [  # noqa: F405
    *INSTALLED_APPS,  # noqa: F405
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "two_factor",
    "allauth",
    "allauth.account",
    "allauth.mfa",
]
MIDDLEWARE = [*MIDDLEWARE, "allauth.account.middleware.AccountMiddleware"]  # noqa: F405
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes", "webauthn"]
MFA_PASSKEY_LOGIN_ENABLED = True
