"""The credential admin through the Django test client: find, inspect, revoke; never add or delete."""
from __future__ import annotations

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from django_pushmfa.models import BackupCode, MFACredential, SecurityEvent

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:pushmfa_mfacredential_changelist"


def changelist(client, **params):
    return client.get(reverse(CHANGELIST), params)


def listed_ids(response):
    return {str(obj.pk) for obj in response.context["cl"].result_list}


def test_search_by_username_finds_only_that_users_credentials(staff_client, enrolled, other_enrolled):
    response = changelist(staff_client, q="bob")
    assert response.status_code == 200
    expected = {str(c.pk) for c in (enrolled.push, enrolled.totp, enrolled.webauthn, enrolled.backup)}
    assert listed_ids(response) == expected


def test_search_by_email(staff_client, enrolled, other_enrolled):
    response = changelist(staff_client, q="carol@other.example")
    assert listed_ids(response) == {str(c.pk) for c in MFACredential.objects.filter(user=other_enrolled.user)}


def test_filters_method_platform_and_status(staff_client, enrolled):
    assert listed_ids(changelist(staff_client, method__exact="totp")) == {str(enrolled.totp.pk)}
    assert listed_ids(changelist(staff_client, push_device__platform__exact="fcm")) == {str(enrolled.push.pk)}
    MFACredential.objects.filter(pk=enrolled.totp.pk).update(revoked_at="2026-01-01T00:00:00Z")
    assert listed_ids(changelist(staff_client, status="revoked")) == {str(enrolled.totp.pk)}
    assert str(enrolled.totp.pk) not in listed_ids(changelist(staff_client, status="active"))
    assert len(listed_ids(changelist(staff_client, status="active"))) == 3


def test_list_shows_device_and_status_without_secrets(staff_client, enrolled):
    response = changelist(staff_client)
    html = response.content.decode()
    assert "Pixel 8" in html and "FCM" in html and "Active" in html
    for secret in enrolled.secrets:
        assert secret not in html


@pytest.mark.parametrize("which", ["push", "totp", "webauthn", "backup"])
def test_detail_page_hides_every_secret(staff_client, enrolled, which):
    credential = getattr(enrolled, which)
    response = staff_client.get(reverse("admin:pushmfa_mfacredential_change", args=[credential.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    for secret in enrolled.secrets:
        assert secret not in html
    assert 'name="_save"' not in html  # read-only: nothing to save


def test_push_detail_shows_platform_name_and_only_a_token_fingerprint(staff_client, enrolled):
    response = staff_client.get(reverse("admin:pushmfa_mfacredential_change", args=[enrolled.push.pk]))
    html = response.content.decode()
    assert "Pixel 8" in html and "sha256:" in html
    token = enrolled.push.push_device.push_token
    assert token[:20] not in html and token[-20:] not in html


def test_revoke_action_asks_for_a_reason_then_revokes_through_the_service(staff_client, staff, enrolled):
    url = reverse(CHANGELIST)
    data = {"action": "revoke_credentials", ACTION_CHECKBOX_NAME: [str(enrolled.push.pk)]}
    confirm = staff_client.post(url, data)
    assert confirm.status_code == 200
    assert b'name="reason"' in confirm.content and b"Pixel 8" in confirm.content
    enrolled.push.refresh_from_db()
    assert enrolled.push.revoked_at is None  # nothing happens before the confirmation

    done = staff_client.post(url, {**data, "post": "yes", "reason": "lost phone, ticket 42"})
    assert done.status_code == 302
    enrolled.push.refresh_from_db()
    assert enrolled.push.revoked_at is not None
    assert enrolled.push.revoked_by == staff
    assert enrolled.push.revoke_reason == "lost phone, ticket 42"
    event = SecurityEvent.objects.get(kind=SecurityEvent.Kind.CREDENTIAL_REVOKED, credential=enrolled.push)
    assert event.actor == staff and event.user == enrolled.user
    assert event.detail["reason"] == "lost phone, ticket 42"
    # the other credentials stay active
    assert MFACredential.objects.active().filter(user=enrolled.user).count() == 3


def test_revoke_action_without_a_reason_changes_nothing(staff_client, enrolled):
    data = {"action": "revoke_credentials", ACTION_CHECKBOX_NAME: [str(enrolled.push.pk)], "post": "yes",
            "reason": " "}
    response = staff_client.post(reverse(CHANGELIST), data)
    assert response.status_code == 200
    assert b"This field is required" in response.content
    enrolled.push.refresh_from_db()
    assert enrolled.push.revoked_at is None
    assert not SecurityEvent.objects.filter(kind=SecurityEvent.Kind.CREDENTIAL_REVOKED).exists()


def test_revoking_backup_codes_invalidates_the_unused_ones(staff_client, enrolled):
    data = {"action": "revoke_credentials", ACTION_CHECKBOX_NAME: [str(enrolled.backup.pk)], "post": "yes",
            "reason": "printed sheet lost"}
    staff_client.post(reverse(CHANGELIST), data)
    assert not BackupCode.objects.filter(user=enrolled.user, used_at__isnull=True).exists()


def test_revoking_an_already_revoked_credential_records_nothing_new(staff_client, staff, enrolled):
    data = {"action": "revoke_credentials", ACTION_CHECKBOX_NAME: [str(enrolled.push.pk)], "post": "yes",
            "reason": "first"}
    staff_client.post(reverse(CHANGELIST), data)
    staff_client.post(reverse(CHANGELIST), {**data, "reason": "second"})
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.CREDENTIAL_REVOKED).count() == 1
    enrolled.push.refresh_from_db()
    assert enrolled.push.revoke_reason == "first"


def test_revoke_button_on_the_detail_page(staff_client, staff, enrolled):
    change_url = reverse("admin:pushmfa_mfacredential_change", args=[enrolled.totp.pk])
    revoke_url = reverse("admin:pushmfa_mfacredential_revoke", args=[enrolled.totp.pk])
    assert revoke_url.encode() in staff_client.get(change_url).content
    assert staff_client.get(revoke_url).status_code == 200
    response = staff_client.post(revoke_url, {"reason": "authenticator app reinstalled"})
    assert response.status_code == 302
    enrolled.totp.refresh_from_db()
    assert enrolled.totp.revoked_at is not None and enrolled.totp.revoked_by == staff
    assert revoke_url.encode() not in staff_client.get(change_url).content  # nothing left to revoke


def test_no_delete_and_no_add(staff_client, enrolled):
    response = changelist(staff_client)
    actions = [name for name, _label in response.context["action_form"].fields["action"].choices]
    assert "delete_selected" not in actions and "revoke_credentials" in actions
    data = {"action": "delete_selected", ACTION_CHECKBOX_NAME: [str(enrolled.push.pk)], "post": "yes"}
    staff_client.post(reverse(CHANGELIST), data)
    assert MFACredential.objects.filter(pk=enrolled.push.pk, revoked_at__isnull=True).exists()
    assert staff_client.get(reverse("admin:pushmfa_mfacredential_delete", args=[enrolled.push.pk])).status_code == 403
    assert staff_client.post(reverse("admin:pushmfa_mfacredential_delete", args=[enrolled.push.pk]),
                             {"post": "yes"}).status_code == 403
    assert staff_client.get(reverse("admin:pushmfa_mfacredential_add")).status_code == 403
    assert MFACredential.objects.filter(pk=enrolled.push.pk).exists()


def test_change_page_cannot_be_posted(staff_client, enrolled):
    url = reverse("admin:pushmfa_mfacredential_change", args=[enrolled.push.pk])
    response = staff_client.post(url, {"label": "renamed", "is_primary": "on"})
    assert response.status_code == 403
    enrolled.push.refresh_from_db()
    assert enrolled.push.label == "Phone"


def test_view_only_staff_sees_the_list_but_cannot_revoke(client, support_factory, enrolled):
    viewer = support_factory("viewer", "pushmfa.view_mfacredential")
    client.force_login(viewer)
    response = changelist(client)
    assert response.status_code == 200
    assert response.context["action_form"] is None  # no action is offered at all
    data = {"action": "revoke_credentials", ACTION_CHECKBOX_NAME: [str(enrolled.push.pk)], "post": "yes",
            "reason": "x"}
    client.post(reverse(CHANGELIST), data)
    assert client.get(reverse("admin:pushmfa_mfacredential_revoke", args=[enrolled.push.pk])).status_code == 403
    enrolled.push.refresh_from_db()
    assert enrolled.push.revoked_at is None


def test_staff_without_view_permission_is_refused(client, support_factory, enrolled):
    client.force_login(support_factory("nobody"))
    assert changelist(client).status_code == 403
