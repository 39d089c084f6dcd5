"""Finding 6 of issue 11: a pending MFA step does not survive a password change.

The step is bound to the password hash, as Django binds sessions: after the password changes, a
relayed code or a blind push approval no longer completes a login made with the old password.
"""
from __future__ import annotations

import pyotp
import pytest

from .conftest import API, is_logged_in, json_post, poll, start_push

HTML_ACCEPT = "text/html"

pytestmark = pytest.mark.django_db


def change_password(user, new: str = "a brand new passphrase") -> None:
    user.set_password(new)
    user.save(update_fields=["password"])


def test_a_code_after_the_password_changed_completes_nothing(pending_client, totp_user):
    change_password(totp_user)
    response = json_post(pending_client, API + "totp/verify/", {"code": pyotp.TOTP(totp_user.totp_secret).now()})
    assert response.status_code == 403 and response.json()["code"] == "mfa_not_in_progress"
    assert not is_logged_in(pending_client)
    # The step is over for good, on the page too.
    page = pending_client.get("/mfa/authenticate/", HTTP_ACCEPT=HTML_ACCEPT)
    assert page.status_code == 302 and page["Location"].startswith("/accounts/login/")


def test_a_push_approved_after_the_password_changed_logs_nobody_in(browser, push_user):
    started = start_push(browser)
    change_password(push_user)
    # The phone's owner approves blindly (the number is on the attacker's screen, relayed to them).
    assert push_user.phone.approve(started["challenge_id"], started["display_number"]).status_code == 200
    answer = poll(browser, started["challenge_id"])
    assert answer.status_code == 403 and answer.json()["code"] == "mfa_not_in_progress"
    assert not is_logged_in(browser)


def test_the_same_password_still_finishes(pending_client, totp_user, password):
    """Saving the user without changing the password (a profile edit) does not end the step."""
    totp_user.first_name = "Alice"
    totp_user.save()
    response = json_post(pending_client, API + "totp/verify/", {"code": pyotp.TOTP(totp_user.totp_secret).now()})
    assert response.status_code == 200 and is_logged_in(pending_client)
