"""The TOTP seed and the backup codes are never shown after enrollment: not in the API, the admin,
the account page, events or logs."""

from __future__ import annotations

import logging

import pytest
from django.urls import reverse

from django_pushmfa.models import MFACredential, SecurityEvent, TOTPDevice

from .conftest import JSONClient, totp_code

pytestmark = pytest.mark.django_db


def test_seed_never_shown_after_enrollment(user, staff_user, password, logged_in, password_step, caplog):
    caplog.set_level(logging.DEBUG)
    account = logged_in(user)
    secret = account.post_json("api-totp-setup").json()["secret"]
    account.post_json("api-totp-confirm", {"code": totp_code(secret)})
    codes = account.post_json("api-backup-codes").json()["codes"]
    encrypted = TOTPDevice.objects.get().encrypted_secret
    credential = MFACredential.objects.get(method="totp")

    listing = account.get("/mfa/api/credentials/").content.decode()
    page = account.get(reverse("pushmfa:account")).content.decode()
    admin = JSONClient()
    admin.force_login(staff_user)
    admin_pages = ""
    for url in (
        reverse("admin:pushmfa_mfacredential_change", args=[credential.pk]),
        reverse("admin:pushmfa_mfacredential_changelist"),
    ):
        response = admin.get(url)
        assert response.status_code == 200
        admin_pages += response.content.decode()
    c = JSONClient()
    password_step(c, user)
    c.post_json("api-totp-verify", {"code": "000000"})
    events = " ".join(str(e.detail) for e in SecurityEvent.objects.all())
    for where in (listing, page, admin_pages, events, caplog.text):
        assert secret not in where and encrypted not in where
        assert not any(code in where or code.replace("-", "") in where for code in codes)
