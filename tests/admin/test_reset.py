""""Reset MFA" through the admin: its own permission, a reason, never on oneself, always recorded."""
from __future__ import annotations

import re

import pytest
from django.urls import reverse

from django_pushmfa.models import BackupCode, MFACredential, SecurityEvent

pytestmark = pytest.mark.django_db


def reset_url(user):
    return reverse("admin:pushmfa_mfacredential_reset", args=[user.pk])


def test_reset_page_lists_what_will_be_revoked(staff_client, enrolled):
    response = staff_client.get(reset_url(enrolled.user))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Pixel 8" in html and "10 unused backup codes" in html and 'name="reason"' in html
    for secret in enrolled.secrets:
        assert secret not in html


def test_reset_revokes_everything_and_records_the_actor(staff_client, staff, enrolled, other_enrolled):
    response = staff_client.post(reset_url(enrolled.user), {"reason": "lost phone, identity checked"})
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:auth_user_change", args=[enrolled.user.pk])
    assert not MFACredential.objects.active().filter(user=enrolled.user).exists()
    assert not BackupCode.objects.filter(user=enrolled.user, used_at__isnull=True).exists()
    assert all(c.revoked_by == staff for c in MFACredential.objects.filter(user=enrolled.user))
    event = SecurityEvent.objects.get(kind=SecurityEvent.Kind.MFA_RESET)
    assert event.user == enrolled.user and event.actor == staff
    assert event.detail["reason"] == "lost phone, identity checked"
    assert len(event.detail["revoked"]) == 4
    # nobody else is touched
    assert MFACredential.objects.active().filter(user=other_enrolled.user).count() == 4


def test_reset_needs_a_reason(staff_client, enrolled):
    response = staff_client.post(reset_url(enrolled.user), {"reason": ""})
    assert response.status_code == 200
    assert MFACredential.objects.active().filter(user=enrolled.user).count() == 4
    assert not SecurityEvent.objects.filter(kind=SecurityEvent.Kind.MFA_RESET).exists()


def test_reset_needs_its_own_permission(client, support_factory, enrolled):
    # may see and revoke credentials, but not reset a whole account
    member = support_factory("support", "pushmfa.view_mfacredential", "pushmfa.change_mfacredential")
    client.force_login(member)
    assert client.get(reset_url(enrolled.user)).status_code == 403
    assert client.post(reset_url(enrolled.user), {"reason": "please"}).status_code == 403
    assert MFACredential.objects.active().filter(user=enrolled.user).count() == 4


def test_reset_with_the_permission_works_for_non_superusers(client, support_factory, enrolled):
    member = support_factory("lead", "pushmfa.view_mfacredential", "pushmfa.reset_mfa")
    client.force_login(member)
    assert client.post(reset_url(enrolled.user), {"reason": "verified by phone"}).status_code == 302
    assert SecurityEvent.objects.get(kind=SecurityEvent.Kind.MFA_RESET).actor == member


def test_staff_cannot_reset_themself(client, support_factory):
    from tests.admin.conftest import _enroll

    member = support_factory("selfish", "pushmfa.view_mfacredential", "pushmfa.reset_mfa")
    # log in first: force_login() of an enrolled user is (rightly) turned into an MFA-pending login
    client.force_login(member)
    _enroll(member)
    response = client.get(reset_url(member))
    assert response.status_code == 403
    assert b"cannot reset your own MFA" in response.content
    assert b'name="reason"' not in response.content
    assert client.post(reset_url(member), {"reason": "I lost my phone"}).status_code == 403
    assert MFACredential.objects.active().filter(user=member).count() == 4
    assert not SecurityEvent.objects.filter(kind=SecurityEvent.Kind.MFA_RESET).exists()


@pytest.mark.parametrize("bad_id", ["999999", "not-a-number", "1%00"])
def test_unknown_or_malformed_user_is_404(staff_client, bad_id):
    url = reverse("admin:pushmfa_mfacredential_reset", args=["0"]).replace("/0/", f"/{bad_id}/")
    assert staff_client.get(url).status_code == 404


def test_reset_link_on_the_credential_page_but_not_for_ones_own(staff_client, staff, enrolled):
    page = staff_client.get(reverse("admin:pushmfa_mfacredential_change", args=[enrolled.push.pk]))
    assert reset_url(enrolled.user).encode() in page.content


def test_reset_page_says_each_method_once(staff_client, enrolled):
    html = staff_client.get(reverse("admin:pushmfa_mfacredential_reset", args=[enrolled.user.pk])).content.decode()
    items = re.findall(r"<li data-pushmfa-reset-item>(.*?)</li>", html)
    assert items == ["Phone — Push notification (FCM, Pixel 8)", "Authenticator — Authenticator app",
                     "YubiKey — Security key or passkey (Security key)", "Backup codes"]
