"""Backup codes: generation, login with one, single use, normalisation, key rotation, concurrency, alerts."""

from __future__ import annotations

import math
import queue
import threading

import pytest
from django.core import mail
from django.db import connection

from django_pushmfa import signals
from django_pushmfa.backup_codes.internal import auth, flows
from django_pushmfa.exceptions import InvalidCode, RateLimited
from django_pushmfa.models import BackupCode, MFACredential, SecurityEvent

from .conftest import JSONClient, postgres_only, totp_code

pytestmark = pytest.mark.django_db


def generate(c: JSONClient) -> list[str]:
    response = c.post_json("api-backup-codes")
    assert response.status_code == 201, response.content
    assert response["Cache-Control"] == "no-store"
    return response.json()["codes"]


def test_codes_are_high_entropy_and_readable(settings):
    settings.PUSHMFA_BACKUP_CODE_COUNT = 12
    code = auth.generate_code()
    assert len(code) == 19 and code.count("-") == 3
    assert auth.CODE_LENGTH * math.log2(len(auth.ALPHABET)) >= 80
    assert not set("lo01") & set(auth.ALPHABET)


def test_user_without_phone_enrolls_backup_codes_and_logs_in(user, enroll_totp, logged_in, password_step):
    # Backup codes alone are not a method: they are a way back in beside TOTP here.
    secret, _ = enroll_totp(user)
    c = JSONClient()
    password_step(c, user)
    c.post_json("api-totp-verify", {"code": totp_code(secret)})
    codes = generate(c)
    assert len(codes) == 10 and len(set(codes)) == 10
    stored = list(BackupCode.objects.filter(user=user).values_list("code_hash", flat=True))
    assert len(stored) == 10 and not any(code in h or code.replace("-", "") in h for code in codes for h in stored)
    c.logout()
    mail.outbox.clear()

    received = []
    signals.backup_code_used.connect(
        lambda sender, **kw: received.append(kw["remaining"]), weak=False, dispatch_uid="t"
    )
    try:
        login = JSONClient()
        password_step(login, user)
        response = login.post_json("api-backup-codes-verify", {"code": codes[0]})
    finally:
        signals.backup_code_used.disconnect(dispatch_uid="t")
    assert response.status_code == 200, response.content
    assert response.json() == {"status": "approved", "redirect_url": "/private/"}
    assert login.get("/api/whoami/").json() == {"username": user.get_username()}
    assert received == [9]
    event = SecurityEvent.objects.get(user=user, kind="backup_code_used")
    assert event.detail == {"remaining": 9}
    assert len(mail.outbox) == 1 and "backup code" in mail.outbox[0].subject
    assert codes[0] not in mail.outbox[0].body and "9 unused backup codes" in mail.outbox[0].body


def test_reused_code_is_refused(user, enroll_totp, password_step):
    enroll_totp(user)
    _, codes = flows.generate_set(None, user)
    first = JSONClient()
    password_step(first, user)
    assert first.post_json("api-backup-codes-verify", {"code": codes[3]}).status_code == 200
    second = JSONClient()
    password_step(second, user)
    again = second.post_json("api-backup-codes-verify", {"code": codes[3]})
    assert again.status_code == 400 and again.json()["code"] == "invalid_code"
    assert SecurityEvent.objects.filter(user=user, kind="mfa_failed", detail__method="backup_code").count() == 1


@pytest.mark.parametrize(
    "transform",
    [
        lambda c: c.upper(),
        lambda c: f"  {c}\n",
        lambda c: c.replace("-", ""),
        lambda c: c.replace("-", " "),
        lambda c: " ".join(c.replace("-", "")),
        lambda c: c.replace("-", "\u2013"),
    ],
)
def test_normalisation(user, transform):
    _, codes = flows.generate_set(None, user)
    assert flows.verify_login(None, user, transform(codes[0])).method == "backup_codes"


@pytest.mark.parametrize("bad", ["", "abcd", "\x00" * 16, "x" * 65, "abcd-efgh-jkmn-pqrs-t", "ａｂｃｄ" * 4])
def test_malformed_codes_are_invalid(user, bad):
    flows.generate_set(None, user)
    with pytest.raises(InvalidCode):
        flows.verify_login(None, user, bad)


def test_new_set_invalidates_earlier_codes(user, enroll_totp):
    enroll_totp(user)
    old_credential, old_codes = flows.generate_set(None, user)
    new_credential, new_codes = flows.generate_set(None, user)
    old_credential.refresh_from_db()
    assert old_credential.revoked_at is not None
    assert MFACredential.objects.active().filter(user=user, method="backup_codes").get() == new_credential
    with pytest.raises(InvalidCode):
        flows.verify_login(None, user, old_codes[0])
    assert flows.verify_login(None, user, new_codes[0]) == new_credential
    assert auth.remaining(user) == 9


def test_secret_key_rotation_keeps_codes_working(user, settings):
    _, codes = flows.generate_set(None, user)
    old_key = settings.SECRET_KEY
    settings.SECRET_KEY = "a-brand-new-secret-key-0123456789-abcdefghijklmnop"
    with pytest.raises(InvalidCode):
        flows.verify_login(None, user, codes[0])  # without the fallback the old hashes are unknown
    settings.SECRET_KEY_FALLBACKS = [old_key]
    assert flows.verify_login(None, user, codes[1])


def test_codes_are_bound_to_their_user(user, user_factory):
    other = user_factory("bob")
    _, codes = flows.generate_set(None, user)
    with pytest.raises(InvalidCode):
        flows.verify_login(None, other, codes[0])
    assert flows.verify_login(None, user, codes[0])


def test_warning_when_few_codes_remain(user, settings):
    settings.PUSHMFA_BACKUP_CODE_COUNT = 3
    _, codes = flows.generate_set(None, user)
    mail.outbox.clear()
    flows.verify_login(None, user, codes[0])
    assert "running out" in mail.outbox[-1].body  # 2 left: at the default warning threshold
    settings.PUSHMFA_ALERTS = {"backup_code_used": False}
    flows.verify_login(None, user, codes[1])
    assert len(mail.outbox) == 1


def test_failures_back_off(user):
    flows.generate_set(None, user)
    for _ in range(3):
        with pytest.raises(InvalidCode):
            flows.verify_login(None, user, "abcd-efgh-jkmn-pqrs")
    with pytest.raises(RateLimited) as info:
        flows.verify_login(None, user, "abcd-efgh-jkmn-pqrs")
    assert info.value.retry_after >= 1


def test_generating_needs_full_login(user, enroll_totp, password_step):
    enroll_totp(user)
    c = JSONClient()
    password_step(c, user)
    assert c.post_json("api-backup-codes").json()["code"] == "mfa_required"
    assert not BackupCode.objects.exists()


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_100_concurrent_uses_of_one_code_succeed_exactly_once(user):
    _, codes = flows.generate_set(None, user)
    code = codes[0]
    uses, workers = 100, 25  # 25 connections at once: PostgreSQL's default limit is 100 for everybody
    work: queue.Queue[int] = queue.Queue()
    for i in range(uses):
        work.put(i)
    barrier = threading.Barrier(workers)
    consumed: list[bool] = []
    lock = threading.Lock()

    def worker():
        try:
            barrier.wait()
            while True:
                try:
                    work.get_nowait()
                except queue.Empty:
                    return
                row = auth.consume(user, auth.normalize(code))  # the single atomic UPDATE
                with lock:
                    consumed.append(row is not None)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(consumed) == uses
    assert consumed.count(True) == 1
    assert BackupCode.objects.filter(user=user, used_at__isnull=False).count() == 1


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_logins_with_one_code_through_the_flow(user):
    _, codes = flows.generate_set(None, user)
    n = 20
    barrier = threading.Barrier(n)
    outcomes: list[str] = []
    lock = threading.Lock()

    def attempt():
        try:
            barrier.wait()
            try:
                flows.verify_login(None, user, codes[0])
                result = "ok"
            except (InvalidCode, RateLimited):
                result = "refused"
            with lock:
                outcomes.append(result)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("ok") == 1 and len(outcomes) == n
    assert SecurityEvent.objects.filter(user=user, kind="backup_code_used").count() == 1
