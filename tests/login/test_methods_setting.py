"""``PUSHMFA_METHODS`` decides which methods exist: the chooser, the pages' code actions, the URLs
composed at the top, and a system check for names that are not methods."""
from __future__ import annotations

import pytest
from django.urls import URLResolver

from django_pushmfa import checks, urls
from django_pushmfa.internal import methods

pytestmark = pytest.mark.django_db


def route_names(patterns):
    names = set()
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            names |= route_names(pattern.url_patterns)
        elif pattern.name:
            names.add(pattern.name)
    return names


def test_default_is_every_method():
    assert [m.name for m in methods.enabled()] == ["push", "totp", "webauthn", "backup_code"]


def test_a_method_left_out_has_no_routes_and_no_place_in_the_chooser(settings, user, add_phone, add_totp):
    add_phone(user)
    add_totp(user)
    settings.PUSHMFA_METHODS = ["push", "webauthn", "backup_codes"]  # an alias spelling is accepted
    names = route_names(urls.build_urlpatterns())
    assert "api-push-start" in names and "api-webauthn-begin" in names and "api-backup-codes-verify" in names
    assert not {"api-totp-verify", "api-totp-setup", "totp-setup"} & names
    assert "api-unknown" in names and "api-methods" in names
    assert [o.method for o in methods.get_mfa_options(user)] == ["push"]
    assert methods.get("totp") is None and methods.get("push") is not None


def test_the_page_refuses_a_disabled_methods_code(settings, user, add_phone, add_totp, client, login_with_password):
    import pyotp

    add_phone(user)
    secret = add_totp(user)
    login_with_password(client, user)
    settings.PUSHMFA_METHODS = ["push", "webauthn", "backup_code"]
    response = client.post("/mfa/authenticate/", {"action": "totp", "code": pyotp.TOTP(secret).now()})
    assert response.status_code == 400
    assert "_auth_user_id" not in client.session


def test_check_names_unknown_methods(settings):
    settings.PUSHMFA_METHODS = ["push", "sms"]
    assert [e.id for e in checks.check_methods()] == ["pushmfa.E015"]
    assert "'sms'" in checks.check_methods()[0].msg
    settings.PUSHMFA_METHODS = ["backup_code"]
    assert [e.id for e in checks.check_methods()] == ["pushmfa.E015"]
    settings.PUSHMFA_METHODS = "push"
    assert [e.id for e in checks.check_methods()] == ["pushmfa.E015"]
    settings.PUSHMFA_METHODS = ["push", "totp"]
    assert checks.check_methods() == []
