"""Issue 11, "What current guidance asks": NIST SP 800-63B rev. 4, CISA and OWASP ASVS 5.

- a compliance setting for number matching (``PUSHMFA_NUMBER_MATCHING_PROFILE``) and a system
  check (``pushmfa.W013``) naming the guideline the configuration falls short of;
- a new challenge never resets the count of failed answers;
- a hard ceiling on consecutive failed codes (``PUSHMFA_CODE_FAILURE_LIMIT``) that locks typed codes
  until the user recovers, with an event and an email;
- alerts for a staff MFA reset and for "password right, second step failed";
- the TOTP window accepts the previous step only by default.
"""
from __future__ import annotations

import time

import pyotp
import pytest
from django.core import mail

from django_pushmfa import services
from django_pushmfa.checks import check_challenge_store
from django_pushmfa.models import SecurityEvent

from .conftest import API, is_logged_in, json_post, new_browser, start_push

pytestmark = pytest.mark.django_db


def number_ids():
    return sorted(m.id for m in check_challenge_store() if m.id in ("pushmfa.W013", "pushmfa.E002"))


# --- number matching --------------------------------------------------------------------------------
@pytest.mark.parametrize(("profile", "digits", "expected"), [("nist", 2, 6), ("cisa", 2, 2), ("cisa", 4, 4)])
def test_the_profile_enforces_entry_mode_and_digits(settings, push_user, password, profile, digits, expected):
    settings.PUSHMFA_NUMBER_MATCHING_PROFILE = profile
    settings.PUSHMFA_NUMBER_MODE = "choices"  # the profile wins over it
    settings.PUSHMFA_NUMBER_DIGITS = digits
    browser = new_browser(push_user, password)
    started = start_push(browser)
    assert len(started["display_number"]) == expected
    challenge = push_user.phone.challenge(started["challenge_id"]).json()
    assert challenge["choices"] is None  # the phone shows a keypad: the user types the number


def test_check_names_the_guideline_the_configuration_falls_short_of(settings):
    messages = {m.id: m for m in check_challenge_store()}
    warning = messages["pushmfa.W013"]  # the default: pick 1 of 3 two-digit numbers
    assert "NIST SP 800-63B" in warning.msg and "CISA" in warning.msg
    settings.PUSHMFA_NUMBER_MODE = "entry"
    warning = {m.id: m for m in check_challenge_store()}["pushmfa.W013"]
    assert "NIST SP 800-63B" in warning.msg and "CISA" not in warning.msg
    settings.PUSHMFA_NUMBER_MATCHING_PROFILE = "nist"
    assert number_ids() == []
    settings.PUSHMFA_NUMBER_MATCHING_PROFILE = "cisa"
    assert number_ids() == ["pushmfa.W013"]
    settings.PUSHMFA_NUMBER_MATCHING_PROFILE = "fips"
    assert number_ids() == ["pushmfa.E002"]


def test_a_new_challenge_never_resets_the_failed_answers(settings, push_user, password):
    """Three blind guesses on three successive challenges suspend push, as three on one would."""
    settings.PUSHMFA_SUSPEND_AFTER_DENIALS = 3
    browser = new_browser(push_user, password)
    for attempt in range(3):
        started = start_push(browser)
        wrong = "10" if started["display_number"] != "10" else "11"
        assert push_user.phone.approve(started["challenge_id"], wrong).status_code == 409, attempt
    assert json_post(browser, API + "push/").json()["code"] == "push_suspended"


# --- the ceiling on failed codes ----------------------------------------------------------------------
@pytest.fixture
def ceiling(settings):
    settings.PUSHMFA_CODE_FAILURE_LIMIT = 5
    settings.PUSHMFA_TOTP_FAILURE_BACKOFF_BASE = 0  # no waits: the ceiling alone stops the guessing
    return settings


def wrong_code(user) -> str:
    return f"{(int(pyotp.TOTP(user.totp_secret).now()) + 500_000) % 1_000_000:06d}"


def test_consecutive_failed_codes_lock_typed_codes(ceiling, totp_user, password):
    browser = new_browser(totp_user, password)
    for _ in range(5):
        assert json_post(browser, API + "totp/verify/", {"code": wrong_code(totp_user)}).status_code == 400
    locked = SecurityEvent.objects.filter(user=totp_user, kind=SecurityEvent.Kind.CODES_LOCKED)
    assert locked.count() == 1 and locked.get().detail["failures"] == 5
    assert [m.to for m in mail.outbox if "locked" in m.subject.lower()] == [[totp_user.email]]
    right = json_post(browser, API + "totp/verify/", {"code": pyotp.TOTP(totp_user.totp_secret).now()})
    assert right.status_code == 403 and right.json()["code"] == "method_not_available"
    assert json_post(browser, API + "backup-codes/verify/", {"code": "abcd-efgh-jkmn-pqrs"}).status_code == 403
    page = browser.post("/mfa/authenticate/", {"action": "totp", "code": pyotp.TOTP(totp_user.totp_secret).now()})
    assert page.status_code == 403 and b"locked" in page.content
    assert not is_logged_in(browser)
    # A later login, a day later, is still locked: the ceiling is not a cache entry that expires.
    from django.core.cache import caches

    caches["default"].clear()
    again = new_browser(totp_user, password)
    response = json_post(again, API + "totp/verify/", {"code": pyotp.TOTP(totp_user.totp_secret).now()})
    assert response.json()["code"] == "method_not_available"


def test_the_lock_ends_with_a_staff_reset(ceiling, totp_user, password, staff_user):
    from .conftest import enroll_totp

    browser = new_browser(totp_user, password)
    for _ in range(5):
        json_post(browser, API + "totp/verify/", {"code": wrong_code(totp_user)})
    services.reset_mfa(totp_user, actor=staff_user, reason="locked out, identity checked by phone")
    totp_user.totp_secret = enroll_totp(totp_user)
    browser = new_browser(totp_user, password)
    response = json_post(browser, API + "totp/verify/", {"code": pyotp.TOTP(totp_user.totp_secret).now()})
    assert response.status_code == 200 and is_logged_in(browser)


def test_the_lock_ends_when_the_user_proves_themselves_another_way(ceiling, push_user, password):
    from .conftest import enroll_totp

    push_user.totp_secret = enroll_totp(push_user)
    browser = new_browser(push_user, password)
    for _ in range(5):
        json_post(browser, API + "totp/verify/", {"code": wrong_code(push_user)})
    started = start_push(browser)
    assert push_user.phone.approve(started["challenge_id"], started["display_number"]).status_code == 200
    from .conftest import poll

    assert poll(browser, started["challenge_id"]).json()["status"] == "approved"
    later = new_browser(push_user, password)
    assert json_post(later, API + "totp/verify/", {"code": wrong_code(push_user)}).json()["code"] == "invalid_code"


# --- alerts -------------------------------------------------------------------------------------------
def test_a_staff_reset_emails_the_user(totp_user, staff_user):
    mail.outbox.clear()
    services.reset_mfa(totp_user, actor=staff_user, reason="internal ticket 4711")
    assert [m.to for m in mail.outbox] == [[totp_user.email]]
    assert "reset" in mail.outbox[0].subject.lower()
    assert "4711" not in mail.outbox[0].body  # staff notes stay internal


def test_a_failed_second_step_after_the_right_password_alerts_once_per_login(totp_user, password):
    browser = new_browser(totp_user, password)
    mail.outbox.clear()
    for _ in range(2):
        json_post(browser, API + "totp/verify/", {"code": wrong_code(totp_user)})
    alerts = [m for m in mail.outbox if "password" in m.body.lower()]
    assert len(alerts) == 1 and alerts[0].to == [totp_user.email]
    assert "change" in alerts[0].body.lower()


def test_a_denied_push_alerts(push_user, password):
    browser = new_browser(push_user, password)
    started = start_push(browser)
    mail.outbox.clear()
    assert push_user.phone.respond(started["challenge_id"], "deny").status_code == 200
    assert len(mail.outbox) == 1 and "password" in mail.outbox[0].body.lower()


def test_the_alert_can_be_turned_off(settings, totp_user, password):
    settings.PUSHMFA_ALERTS = {"second_step_failed": False}
    browser = new_browser(totp_user, password)
    mail.outbox.clear()
    json_post(browser, API + "totp/verify/", {"code": wrong_code(totp_user)})
    assert mail.outbox == []


# --- TOTP window --------------------------------------------------------------------------------------
def test_totp_accepts_the_previous_step_only_by_default(settings):
    from django_pushmfa.totp.internal import auth

    secret = pyotp.random_base32()
    now = time.time()
    totp = pyotp.TOTP(secret)
    step = int(now // 30)

    def match(offset: int, tolerance=None):
        code = totp.at(now + 30 * offset)
        return auth.matching_step(secret, code, digits=6, period=30, tolerance=tolerance, now=now)

    assert match(0) == step and match(-1) == step - 1
    assert match(1) is None and match(-2) is None
    settings.PUSHMFA_TOTP_TOLERANCE = 1
    assert match(1) == step + 1 and match(-1) == step - 1 and match(-2) is None
