"""TOTP: enrollment without a phone, login through the password step + API, replay, concurrency, back-off."""

from __future__ import annotations

import threading
import time
from unittest import mock

import pyotp
import pytest
from django.core import mail
from django.db import connection

from django_pushmfa.exceptions import InvalidCode, RateLimited
from django_pushmfa.internal import throttle
from django_pushmfa.models import MFACredential, SecurityEvent, TOTPDevice
from django_pushmfa.totp.internal import auth, flows

from .conftest import JSONClient, postgres_only, totp_code

pytestmark = pytest.mark.django_db


def test_user_without_phone_enrolls_totp_and_logs_in(user, enroll_totp, password_step):
    secret, credential = enroll_totp(user)
    assert credential["method"] == "totp"
    assert credential["is_primary"] is True
    assert "secret" not in credential
    device = TOTPDevice.objects.get(credential_id=credential["id"])
    assert secret not in device.encrypted_secret  # stored encrypted
    assert SecurityEvent.objects.filter(user=user, kind="credential_added").count() == 1
    assert [m.subject for m in mail.outbox] and "added" in mail.outbox[-1].subject

    c = JSONClient()
    password_step(c, user)
    assert c.get("/api/whoami/", HTTP_ACCEPT="application/json").status_code in (401, 403)
    # the confirmation used the previous step (see enroll_totp): the current one logs in
    response = c.post_json("api-totp-verify", {"code": totp_code(secret)})
    assert response.status_code == 200, response.content
    assert response.json() == {"status": "approved", "redirect_url": "/private/"}
    assert c.get("/api/whoami/").json() == {"username": user.get_username()}
    assert MFACredential.objects.get(pk=credential["id"]).last_used_at is not None


def test_setup_is_not_active_until_confirmed(user, logged_in):
    c = logged_in(user)
    setup = c.post_json("api-totp-setup").json()
    assert setup["otpauth_uri"].startswith("otpauth://totp/")
    assert "secret=" + setup["secret"] in setup["otpauth_uri"]
    assert not MFACredential.objects.filter(user=user).exists()
    wrong = c.post_json("api-totp-confirm", {"code": "000000" if totp_code(setup["secret"]) != "000000" else "111111"})
    assert wrong.status_code == 400 and wrong.json()["code"] == "invalid_code"
    assert not MFACredential.objects.filter(user=user).exists()


def test_confirm_without_setup_is_invalid_code(user, logged_in):
    c = logged_in(user)
    response = c.post_json("api-totp-confirm", {"code": "123456"})
    assert response.status_code == 400 and response.json()["code"] == "invalid_code"


def test_account_endpoints_need_full_login(user, enroll_totp, password_step):
    enroll_totp(user)
    c = JSONClient()
    password_step(c, user)
    assert c.post_json("api-totp-setup").json()["code"] == "mfa_required"
    anonymous = JSONClient()
    assert anonymous.post_json("api-totp-setup").status_code in (401, 403)


def test_verify_without_pending_login(client):
    response = client.post_json("api-totp-verify", {"code": "123456"})
    assert response.status_code == 403 and response.json()["code"] == "mfa_not_in_progress"


def test_replayed_code_is_refused(user, enroll_totp, password_step):
    secret, _ = enroll_totp(user)
    code = totp_code(secret)
    first = JSONClient()
    password_step(first, user)
    assert first.post_json("api-totp-verify", {"code": code}).status_code == 200
    second = JSONClient()
    password_step(second, user)
    replay = second.post_json("api-totp-verify", {"code": code})
    assert replay.status_code == 400 and replay.json()["code"] == "invalid_code"


def test_older_step_after_newer_one_is_refused(user, enroll_totp):
    secret, credential = enroll_totp(user)
    assert flows.verify_login(None, user, totp_code(secret)).pk == MFACredential.objects.get(pk=credential["id"]).pk
    # the previous step's code is older than the one just used
    with pytest.raises(InvalidCode):
        flows.verify_login(None, user, totp_code(secret, -1))


@pytest.mark.parametrize(
    "code",
    [
        "",
        "12345",
        "1234567",
        "abcdef",
        "12345\x00",
        "\x00" * 6,
        "١٢٣٤٥٦",
        "１２３４５６",
        "12 34 5x",
        "²³⁴⁵⁶⁷",
        "9" * 10000,
    ],
)
def test_malformed_codes_are_invalid_code(user, enroll_totp, password_step, code):
    enroll_totp(user)
    c = JSONClient()
    password_step(c, user)
    response = c.post_json("api-totp-verify", {"code": code})
    assert response.status_code in (400, 413), response.content
    assert response.json()["code"] in ("invalid_code", "payload_too_large")


@pytest.mark.parametrize("body", [{}, {"code": 123456}, {"code": None}, {"code": ["123456"]}, [1, 2]])
def test_missing_or_mistyped_field_is_invalid(user, enroll_totp, password_step, body):
    enroll_totp(user)
    c = JSONClient()
    password_step(c, user)
    response = c.post_json("api-totp-verify", body)
    assert response.status_code == 400 and response.json()["code"] == "invalid"


def test_spaced_code_is_accepted(user, enroll_totp):
    secret, _ = enroll_totp(user)
    code = totp_code(secret)
    assert flows.verify_login(None, user, f" {code[:3]} {code[3:]} ")


def test_tolerance_window(user, enroll_totp, settings):
    secret, _ = enroll_totp(user)
    assert auth.matching_step(secret, totp_code(secret, 2), digits=6, period=30, tolerance=1) is None
    settings.PUSHMFA_TOTP_TOLERANCE = 2
    now = time.time()
    step = auth.matching_step(secret, pyotp.TOTP(secret).at(now + 60), digits=6, period=30, tolerance=2, now=now)
    assert step == int(now // 30) + 2


def test_failures_back_off_exponentially(user, enroll_totp, password_step, settings):
    settings.PUSHMFA_TOTP_FAILURE_BACKOFF_BASE = 10
    secret, _ = enroll_totp(user)
    c = JSONClient()
    password_step(c, user)
    wrong = "000000" if totp_code(secret) != "000000" else "111111"
    for _ in range(2):
        assert c.post_json("api-totp-verify", {"code": wrong}).json()["code"] == "invalid_code"
    third = c.post_json("api-totp-verify", {"code": wrong})
    assert third.json()["code"] == "invalid_code"  # the third failure itself is answered, then the wait starts
    limited = c.post_json("api-totp-verify", {"code": totp_code(secret)})  # even a right code waits
    assert limited.status_code == 429 and limited.json()["code"] == "rate_limited"
    assert 1 <= int(limited["Retry-After"]) <= 10
    assert SecurityEvent.objects.filter(user=user, kind="mfa_failed", detail__method="totp").count() == 3
    assert (
        throttle.backoff_seconds(3) == 10 and throttle.backoff_seconds(4) == 20 and throttle.backoff_seconds(6) == 80
    )
    settings.PUSHMFA_CODE_FAILURE_BACKOFF_MAX = 60
    assert throttle.backoff_seconds(50) == 60
    # once the wait is over the right code works and the streak is forgotten
    with mock.patch("django_pushmfa.internal.throttle.time.time", return_value=time.time() + 11):
        ok = c.post_json("api-totp-verify", {"code": totp_code(secret)})
    assert ok.status_code == 200
    throttle.check(user)


def test_throttle_is_shared_with_backup_codes(user, enroll_totp):
    enroll_totp(user)
    for _ in range(3):
        with pytest.raises(InvalidCode):
            flows.verify_login(None, user, "000000x")
    from django_pushmfa.backup_codes.internal import flows as backup_flows

    with pytest.raises(RateLimited):
        backup_flows.verify_login(None, user, "abcd-efgh-jkmn-pqrs")


def test_revoked_totp_does_not_verify(user, enroll_totp):
    from django_pushmfa import services

    secret, credential = enroll_totp(user)
    services.revoke_credential(MFACredential.objects.get(pk=credential["id"]), actor=user, reason="test")
    with pytest.raises(InvalidCode):
        flows.verify_login(None, user, totp_code(secret))


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_submissions_of_one_code_succeed_once(user, enroll_totp):
    secret, _ = enroll_totp(user)
    code = totp_code(secret)
    threads_n = 20
    barrier = threading.Barrier(threads_n)
    results: list[str] = []
    lock = threading.Lock()

    def attempt():
        try:
            barrier.wait()
            try:
                flows.verify_login(None, user, code)
                outcome = "ok"
            except InvalidCode:
                outcome = "invalid"
            except RateLimited:
                outcome = "limited"
            with lock:
                results.append(outcome)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt) for _ in range(threads_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == threads_n
    assert results.count("ok") == 1


def test_secret_key_rotation_keeps_totp_working(user, enroll_totp, settings):
    secret, _ = enroll_totp(user)
    old_key = settings.SECRET_KEY
    settings.SECRET_KEY = "a-brand-new-secret-key-0123456789-abcdefghijklmnop"
    with pytest.raises(InvalidCode):  # the seed cannot be decrypted without the old key
        flows.verify_login(None, user, totp_code(secret))
    settings.SECRET_KEY_FALLBACKS = [old_key]
    assert flows.verify_login(None, user, totp_code(secret))
