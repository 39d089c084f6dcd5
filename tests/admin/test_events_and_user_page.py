"""The read-only security-event log and the MFA panel on the user's change page."""
from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import User
from django.urls import reverse

from django_pushmfa import services
from django_pushmfa.admin import MFAUserAdminMixin
from django_pushmfa.models import SecurityEvent

pytestmark = pytest.mark.django_db

EVENTS = "admin:pushmfa_securityevent_changelist"


def test_event_log_lists_filters_and_searches(staff_client, staff, enrolled, other_enrolled):
    services.revoke_credential(enrolled.push, actor=staff, reason="lost phone")
    response = staff_client.get(reverse(EVENTS), {"kind__exact": "credential_revoked"})
    assert response.status_code == 200
    events = list(response.context["cl"].result_list)
    assert [e.kind for e in events] == ["credential_revoked"]
    html = response.content.decode()
    assert "lost phone" in html and "admin" in html  # detail and actor are shown
    searched = staff_client.get(reverse(EVENTS), {"q": "carol"})
    assert {e.user_id for e in searched.context["cl"].result_list} == {other_enrolled.user.pk}
    assert staff_client.get(reverse(EVENTS), {"created_at__gte": "2000-01-01T00:00:00+00:00"}).status_code == 200


def test_event_log_is_read_only(staff_client, enrolled):
    event = SecurityEvent.objects.filter(user=enrolled.user).first()
    change_url = reverse("admin:pushmfa_securityevent_change", args=[event.pk])
    page = staff_client.get(change_url)
    assert page.status_code == 200 and b'name="_save"' not in page.content
    assert staff_client.post(change_url, {"kind": "mfa_reset"}).status_code == 403
    assert staff_client.get(reverse("admin:pushmfa_securityevent_add")).status_code == 403
    assert staff_client.post(reverse("admin:pushmfa_securityevent_delete", args=[event.pk]),
                             {"post": "yes"}).status_code == 403
    response = staff_client.get(reverse(EVENTS))
    assert response.context["action_form"] is None or "delete_selected" not in [
        n for n, _l in response.context["action_form"].fields["action"].choices
    ]
    staff_client.post(reverse(EVENTS), {"action": "delete_selected", ACTION_CHECKBOX_NAME: [event.pk], "post": "yes"})
    event.refresh_from_db()
    assert event.kind == "credential_added"


def test_stock_user_admin_is_extended():
    assert isinstance(admin.site._registry[User], MFAUserAdminMixin)


def test_user_page_shows_credentials_backup_code_count_and_reset_link(staff_client, enrolled):
    response = staff_client.get(reverse("admin:auth_user_change", args=[enrolled.user.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Multi-factor authentication" in html
    assert "Pixel 8" in html and "YubiKey" in html
    assert "Unused backup codes: <strong>10</strong>" in html
    assert reverse("admin:pushmfa_mfacredential_reset", args=[enrolled.user.pk]) in html
    for secret in enrolled.secrets:
        assert secret not in html


def test_user_add_page_is_untouched(staff_client):
    response = staff_client.get(reverse("admin:auth_user_add"))
    assert response.status_code == 200
    assert b"Unused backup codes" not in response.content and b"pushmfa-summary" not in response.content


def test_saving_the_user_still_works_with_the_inline(staff_client, enrolled):
    user = enrolled.user
    url = reverse("admin:auth_user_change", args=[user.pk])
    prefix = "mfa_credentials"
    data = {
        "username": user.username,
        "first_name": "Bob",
        "last_name": "Builder",
        "email": user.email,
        "is_active": "on",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "10:00:00",
        "last_login_0": "",
        "last_login_1": "",
        f"{prefix}-TOTAL_FORMS": "4",
        f"{prefix}-INITIAL_FORMS": "4",
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
        "_save": "Save",
    }
    response = staff_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    user.refresh_from_db()
    assert user.first_name == "Bob"
    assert enrolled.push.__class__.objects.active().filter(user=user).count() == 4
