"""The issue's "done when": a user without a phone enrolls TOTP, a security key and backup codes,
then logs in with each of them through the site's password step and the browser API."""

from __future__ import annotations

import pytest
from django.core import mail

from django_pushmfa.models import MFACredential, PushDevice

from .authenticator import SoftwareAuthenticator
from .conftest import JSONClient, totp_code

pytestmark = pytest.mark.django_db


def test_no_phone_user_enrolls_every_fallback_and_logs_in_with_each(user, logged_in, password_step):
    account = logged_in(user)  # no credential yet: the password alone logs in
    setup = account.post_json("api-totp-setup").json()
    assert account.post_json("api-totp-confirm", {"code": totp_code(setup["secret"], -1)}).status_code == 201
    key = SoftwareAuthenticator()
    options = account.post_json("api-webauthn-register-begin").json()
    assert account.post_json("api-webauthn-register-complete", {"credential": key.create(options)}).status_code == 201
    codes = account.post_json("api-backup-codes").json()["codes"]
    assert not PushDevice.objects.exists()
    methods = sorted(MFACredential.objects.active().filter(user=user).values_list("method", flat=True))
    assert methods == ["backup_codes", "totp", "webauthn"]
    assert len(mail.outbox) == 3  # one "credential added" alert each

    # 1. TOTP
    c = JSONClient()
    password_step(c, user)
    offered = [m["method"] for m in c.get("/mfa/api/methods/").json()["methods"]]
    assert {"totp", "webauthn", "backup_code"} <= set(offered) and "push" not in offered
    assert c.post_json("api-totp-verify", {"code": totp_code(setup["secret"])}).json()["status"] == "approved"
    assert c.get("/api/whoami/").status_code == 200

    # 2. the security key
    c = JSONClient()
    password_step(c, user)
    options = c.post_json("api-webauthn-begin").json()
    assert c.post_json("api-webauthn-complete", {"credential": key.get(options)}).json()["status"] == "approved"
    assert c.get("/api/whoami/").status_code == 200

    # 3. a backup code
    c = JSONClient()
    password_step(c, user)
    assert c.post_json("api-backup-codes-verify", {"code": codes[0]}).json()["status"] == "approved"
    assert c.get("/private/").status_code == 200
    assert "backup code" in mail.outbox[-1].subject
