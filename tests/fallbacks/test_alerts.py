"""Alert emails of the fallback methods, the "trust this browser" extension of the verify endpoints."""

from __future__ import annotations

import pytest
from django.core import mail

from django_pushmfa import services
from django_pushmfa.backup_codes.internal import flows as backup_flows
from django_pushmfa.models import MFACredential, SecurityEvent

from .conftest import JSONClient, totp_code

pytestmark = pytest.mark.django_db


def test_credential_added_and_revoked_alerts(user, enroll_totp):
    enroll_totp(user)
    added = mail.outbox[-1]
    assert added.to == [user.email] and "added" in added.subject and "Authenticator app" in added.body
    credential = MFACredential.objects.get(user=user, method="totp")
    services.revoke_credential(credential, actor=user, reason="lost phone")
    revoked = mail.outbox[-1]
    assert "removed" in revoked.subject and "lost phone" in revoked.body


def test_alerts_can_be_turned_off(user, settings, enroll_totp):
    settings.PUSHMFA_ALERTS = {"credential_added": False}
    enroll_totp(user)
    assert mail.outbox == []


def test_alert_templates_never_contain_codes_or_secrets(user, enroll_totp):
    secret, _ = enroll_totp(user)
    _, codes = backup_flows.generate_set(None, user)
    backup_flows.verify_login(None, user, codes[0])
    everything = "\n".join(m.subject + m.body for m in mail.outbox)
    assert secret not in everything and not any(code in everything for code in codes)
    assert "\n" not in mail.outbox[-1].subject


def test_remember_browser_extension(user, enroll_totp, password_step, settings):
    settings.PUSHMFA_TRUST_BROWSER_DAYS = 30
    secret, _ = enroll_totp(user)
    c = JSONClient()
    password_step(c, user)
    bad = c.post_json("api-totp-verify", {"code": totp_code(secret), "remember_browser": "yes"})
    assert bad.status_code == 400 and bad.json()["code"] == "invalid"
    ok = c.post_json("api-totp-verify", {"code": totp_code(secret), "remember_browser": True})
    assert ok.status_code == 200
    trust_cookie = ok.cookies["pushmfa_trust"].value
    assert SecurityEvent.objects.filter(user=user, kind="browser_trusted").exists()
    # the remembered browser skips the MFA step next time
    again = JSONClient()
    again.cookies["pushmfa_trust"] = trust_cookie
    password_step(again, user, expect_pending=False)
