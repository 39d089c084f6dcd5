"""System checks E010-E014: a missing or misplaced piece of the login integration fails loudly."""
from __future__ import annotations

import pytest
from django.core import checks
from django.test import override_settings

from django_pushmfa.checks import check_login_integration

AUTH_MW = "django.contrib.auth.middleware.AuthenticationMiddleware"
MFA_MW = "django_pushmfa.middleware.MFAMiddleware"
BASE_MW = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
]


def ids():
    return sorted(m.id for m in check_login_integration())


def test_test_settings_pass():
    assert ids() == []
    assert not [m for m in checks.run_checks(tags=[checks.Tags.security]) if m.id.startswith("pushmfa.E01")]


@override_settings(AUTHENTICATION_BACKENDS=["django.contrib.auth.backends.ModelBackend"])
def test_e010_backend_missing():
    assert ids() == ["pushmfa.E010", "pushmfa.E011"]


@pytest.mark.parametrize(
    "backends",
    [
        ["django.contrib.auth.backends.ModelBackend", "django_pushmfa.auth_backends.MFAModelBackend"],
        ["django_pushmfa.auth_backends.MFAModelBackend", "django.contrib.auth.backends.AllowAllUsersModelBackend"],
    ],
)
def test_e011_model_backend_beside_it(backends):
    with override_settings(AUTHENTICATION_BACKENDS=backends):
        assert ids() == ["pushmfa.E011"]


@override_settings(AUTHENTICATION_BACKENDS=["tests.login.test_checks.MixedInBackend"])
def test_mixin_backend_counts():
    assert ids() == []


@override_settings(MIDDLEWARE=[*BASE_MW, AUTH_MW])
def test_e012_middleware_missing():
    assert ids() == ["pushmfa.E012"]


@pytest.mark.parametrize("middleware", [[*BASE_MW, MFA_MW, AUTH_MW], [*BASE_MW, MFA_MW]])
def test_e013_middleware_before_authentication(middleware):
    with override_settings(MIDDLEWARE=middleware):
        assert ids() == ["pushmfa.E013"]


def test_e014_rest_framework_missing(settings):
    from django.apps import apps

    installed = [a for a in settings.INSTALLED_APPS if a != "rest_framework"]
    apps.set_installed_apps(installed)
    try:
        assert ids() == ["pushmfa.E014"]
    finally:
        apps.unset_installed_apps()


def test_checks_are_tagged_security():
    assert checks.Tags.security in check_login_integration.tags
    assert check_login_integration in checks.registry.registry.get_checks()


class _LDAPLikeBackend:
    def authenticate(self, request, **credentials):
        return None

    def get_user(self, user_id):
        return None


from django_pushmfa.auth_backends import MFABackendMixin  # noqa: E402


class MixedInBackend(MFABackendMixin, _LDAPLikeBackend):
    pass
