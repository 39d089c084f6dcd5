"""The method chooser (seed: getMFAChallengeOptions) and ``GET api/methods/``."""
from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from django_pushmfa import services
from django_pushmfa.internal.methods import get_mfa_options
from django_pushmfa.models import MFACredential, PushDevice

from .conftest import JSON

pytestmark = pytest.mark.django_db


def methods(user):
    return [(o.method, o.is_primary) for o in get_mfa_options(user)]


def test_no_credentials_no_options(user):
    assert get_mfa_options(user) == []


def test_primary_first_then_priority(user, add_totp, add_phone, settings):
    add_totp(user)  # first authenticating credential: primary
    add_phone(user)
    settings.PUSHMFA_METHOD_PRIORITY = ["passkey", "push", "totp", "backup_codes"]
    assert methods(user) == [("totp", True), ("push", False)]
    push = MFACredential.objects.get(user=user, method="push")
    services.set_primary(push)
    assert methods(user) == [("push", True), ("totp", False)]


def test_priority_setting_orders_the_rest(user, add_totp, add_phone, settings):
    from django_pushmfa.backup_codes.internal.flows import generate_set

    add_phone(user)
    add_totp(user)
    generate_set(None, user)
    settings.PUSHMFA_METHOD_PRIORITY = ["backup_code", "totp", "push"]
    assert methods(user) == [("push", True), ("backup_code", False), ("totp", False)]
    settings.PUSHMFA_METHOD_PRIORITY = ["totp"]  # unlisted methods follow in the default order
    assert [m for m, _ in methods(user)] == ["push", "totp", "backup_code"]


def test_revoked_never_appear(user, add_totp, add_phone):
    add_totp(user)
    add_phone(user)
    totp = MFACredential.objects.get(user=user, method="totp")
    services.revoke_credential(totp, actor=user, reason="lost")
    assert methods(user) == [("push", True)]


def test_backup_codes_only_beside_an_authenticating_method(user, add_totp):
    from django_pushmfa.backup_codes.internal.flows import generate_set

    generate_set(None, user)
    assert get_mfa_options(user) == []
    add_totp(user)
    assert methods(user) == [("totp", True), ("backup_code", False)]


def test_used_up_backup_codes_are_not_offered(user, add_totp):
    from django_pushmfa.backup_codes.internal.flows import generate_set
    from django_pushmfa.models import BackupCode

    add_totp(user)
    generate_set(None, user)
    BackupCode.objects.filter(user=user).update(used_at=timezone.now())
    assert methods(user) == [("totp", True)]


def test_dead_push_token_is_not_offered(user, add_totp, add_phone):
    add_totp(user)
    add_phone(user)
    PushDevice.objects.filter(credential__user=user).update(token_dead_at=timezone.now())
    assert methods(user) == [("totp", True)]


def test_two_phones_are_one_entry_with_a_generic_label(user, add_phone):
    add_phone(user, name="Alice's Pixel")
    add_phone(user, name="Alice's iPhone")
    options = get_mfa_options(user)
    assert [(o.method, str(o.label)) for o in options] == [("push", "Push notification")]


def test_methods_endpoint(client, user, add_totp, add_phone, login_with_password):
    add_phone(user, name="Alice's Pixel 8")
    add_totp(user)
    login_with_password(client, user)
    response = client.get(reverse("pushmfa:api-methods"), **JSON)
    assert response.status_code == 200
    assert response.json() == {
        "methods": [
            {"method": "push", "label": "Push notification", "is_primary": True},
            {"method": "totp", "label": "Authenticator app code", "is_primary": False},
        ]
    }
    body = response.content.decode()
    assert "Pixel" not in body and str(user.pk) not in body.replace('"is_primary"', "")
