"""Enrollment pages: a user without any phone enrolls each fallback method from HTML pages."""

from __future__ import annotations

import re

import pyotp
import pytest
from django.urls import reverse

from django_pushmfa.models import BackupCode, MFACredential, TOTPDevice
from django_pushmfa.totp.internal import flows as totp_flows

from .conftest import JSONClient

pytestmark = pytest.mark.django_db


def test_totp_setup_page_enrolls_without_a_phone(user, logged_in):
    c = logged_in(user)
    page = c.get(reverse("pushmfa:totp-setup"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "<svg" in html and "<script" not in html.split("</svg>")[0].split("<svg")[1]
    assert page["Cache-Control"].startswith("max-age=0") or "no-cache" in page["Cache-Control"]
    secret = re.search(r"data-pushmfa-totp-secret>([A-Z2-7 ]+)<", html).group(1).replace(" ", "")
    # reloading the page resumes the same setup (the QR code already scanned stays valid)
    assert secret in c.get(reverse("pushmfa:totp-setup")).content.decode().replace(" ", "")

    wrong = c.post(reverse("pushmfa:totp-setup"), {"code": "12345x"})
    assert wrong.status_code == 400 and not MFACredential.objects.filter(user=user).exists()

    done = c.post(reverse("pushmfa:totp-setup"), {"code": pyotp.TOTP(secret).now(), "label": "My phone app"})
    assert done.status_code == 302 and done["Location"] == reverse("pushmfa:account")
    credential = MFACredential.objects.get(user=user, method="totp")
    assert credential.label == "My phone app" and TOTPDevice.objects.filter(credential=credential).exists()
    # the seed is never shown again
    assert secret not in c.get(reverse("pushmfa:account")).content.decode()
    assert totp_flows.SETUP_SESSION_KEY not in c.session


def test_totp_setup_page_can_start_over(user, logged_in):
    c = logged_in(user)
    first = re.search(r"data-pushmfa-totp-secret>([^<]+)<", c.get(reverse("pushmfa:totp-setup")).content.decode())
    again = c.post(reverse("pushmfa:totp-setup"), {"action": "restart"})
    second = re.search(r"data-pushmfa-totp-secret>([^<]+)<", again.content.decode())
    assert first.group(1) != second.group(1)


def test_backup_codes_page_shows_a_new_set_once(user, logged_in):
    c = logged_in(user)
    page = c.get(reverse("pushmfa:backup-codes"))
    assert page.status_code == 200 and "data-pushmfa-backup-codes" not in page.content.decode()
    made = c.post(reverse("pushmfa:backup-codes"))
    html = made.content.decode()
    codes = re.findall(r"<li>([a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4})</li>", html)
    assert len(codes) == 10
    assert "no-store" in made["Cache-Control"] or "max-age=0" in made["Cache-Control"]
    later = c.get(reverse("pushmfa:backup-codes")).content.decode()
    assert not any(code in later for code in codes)
    assert "10 unused backup codes" in later
    assert BackupCode.objects.filter(user=user, used_at__isnull=True).count() == 10


def test_webauthn_register_page(user, logged_in):
    c = logged_in(user)
    page = c.get(reverse("pushmfa:webauthn-register"))
    html = page.content.decode()
    assert page.status_code == 200
    assert 'data-pushmfa-webauthn="register"' in html
    assert reverse("pushmfa:api-webauthn-register-begin") in html
    assert "pushmfa/webauthn.js" in html
    assert "csrftoken" in page.cookies


@pytest.mark.parametrize("name", ["pushmfa:totp-setup", "pushmfa:backup-codes", "pushmfa:webauthn-register"])
def test_pages_need_login(name):
    response = JSONClient().get(reverse(name))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("name", ["pushmfa:totp-setup", "pushmfa:backup-codes", "pushmfa:webauthn-register"])
def test_pages_refuse_a_pending_session(user, enroll_totp, password_step, name):
    enroll_totp(user)
    c = JSONClient()
    password_step(c, user)
    response = c.get(reverse(name))
    assert response.status_code == 302
    assert not BackupCode.objects.exists()
