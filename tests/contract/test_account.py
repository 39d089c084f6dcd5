"""Contract, "Account endpoints": credentials, TOTP enrollment, backup codes (and using them to log in)."""
from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pyotp
import pytest

from tests.contract.conftest import assert_error

pytestmark = pytest.mark.django_db(transaction=True)

FIELDS = {"id", "method", "label", "is_primary", "created_at", "last_used_at"}


def _iso(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    assert parsed.tzinfo is not None
    return parsed


def add_totp(account) -> str:
    setup = account.api("POST", "api/totp/setup/", {})
    assert setup.status_code == 201, setup.text
    secret = setup.json()["secret"]
    confirm = account.api("POST", "api/totp/confirm/", {"code": pyotp.TOTP(secret).now()})
    assert confirm.status_code == 201, confirm.text
    return secret


def test_credentials_list(make_user, signed_in, pair):
    user = make_user()
    account = signed_in(user)
    assert account.api("GET", "api/credentials/").json() == {"credentials": []}
    phone = pair(account, name="Kitchen Phone")
    secret = add_totp(account)
    codes = account.api("POST", "api/backup-codes/", {}).json()["codes"]
    response = account.api("GET", "api/credentials/")
    assert response.status_code == 200
    credentials = response.json()["credentials"]
    by_method = {c["method"]: c for c in credentials}
    assert set(by_method) <= {"push", "totp", "backup_codes", "backup_code"}
    assert {"push", "totp"} <= set(by_method)
    for credential in credentials:
        assert set(credential) >= FIELDS, credential
        assert isinstance(credential["label"], str)
        assert isinstance(credential["is_primary"], bool)
        created = _iso(credential["created_at"])
        assert abs(created - datetime.now(UTC)) < timedelta(minutes=5)
        assert credential["last_used_at"] is None or _iso(credential["last_used_at"])
    assert by_method["push"]["id"] == phone.device_id
    assert [c["is_primary"] for c in credentials].count(True) == 1
    # no secrets
    raw = response.text
    assert secret not in raw
    assert phone.push_token not in raw
    assert phone.key.public_key_b64() not in raw and phone.key.public_key_b64()[:40] not in raw
    for code in codes:
        assert code not in raw


def test_delete_credential(make_user, signed_in, pair):
    user = make_user()
    account = signed_in(user)
    phone = pair(account)
    add_totp(account)
    totp = next(c for c in account.api("GET", "api/credentials/").json()["credentials"] if c["method"] == "totp")
    response = account.api("DELETE", f"api/credentials/{totp['id']}/")
    assert response.status_code == 204 and response.content == b""
    listed = account.api("GET", "api/credentials/").json()["credentials"]
    assert [c["id"] for c in listed] == [phone.device_id]
    assert_error(account.api("DELETE", f"api/credentials/{totp['id']}/"), 404, "not_found")
    # deleting the push device revokes it: its signed calls are refused from then on
    assert account.api("DELETE", f"api/credentials/{phone.device_id}/").status_code == 204
    assert_error(phone.challenges(), 401, "invalid_signature")
    assert account.api("GET", "api/credentials/").json() == {"credentials": []}


def test_delete_requires_csrf(make_user, signed_in, pair):
    account = signed_in(make_user())
    phone = pair(account)
    response = account.api("DELETE", f"api/credentials/{phone.device_id}/", csrf=False)
    assert response.status_code == 403
    assert len(account.api("GET", "api/credentials/").json()["credentials"]) == 1


def test_totp_setup_and_confirm(make_user, signed_in, pending):
    user = make_user()
    account = signed_in(user)
    setup = account.api("POST", "api/totp/setup/", {})
    assert setup.status_code == 201
    body = setup.json()
    assert set(body) >= {"secret", "otpauth_uri"}
    uri = urlsplit(body["otpauth_uri"])
    assert (uri.scheme, uri.netloc) == ("otpauth", "totp")
    assert parse_qs(uri.query)["secret"] == [body["secret"]]
    # not active before confirmation: not listed, and the password alone still logs in
    assert account.api("GET", "api/credentials/").json() == {"credentials": []}
    assert pending(user).page("/private/").status_code == 200
    # a wrong code does not confirm
    totp = pyotp.TOTP(body["secret"])
    wrong = "000000" if not totp.verify("000000", valid_window=2) else "999999"
    assert_error(account.api("POST", "api/totp/confirm/", {"code": wrong}), 400, "invalid_code")
    assert account.api("GET", "api/credentials/").json() == {"credentials": []}
    confirm = account.api("POST", "api/totp/confirm/", {"code": totp.at(time.time() - 30)})  # the previous step
    assert confirm.status_code == 201, confirm.text
    listed = account.api("GET", "api/credentials/").json()["credentials"]
    assert [c["method"] for c in listed] == ["totp"]
    assert body["secret"] not in confirm.text

    # now active: a password login is MFA pending and a TOTP code finishes it
    browser = pending(user)
    assert browser.page("/private/").status_code == 302
    assert [m["method"] for m in browser.api("GET", "api/methods/").json()["methods"]] == ["totp"]
    # the confirming code's (previous) time step is spent; the current step's code is newer
    next_code = totp.now()
    verify = browser.api("POST", "api/totp/verify/", {"code": next_code})
    assert verify.status_code == 200, verify.text
    result = verify.json()
    assert result["status"] == "approved" and isinstance(result["redirect_url"], str)
    assert browser.page("/private/").status_code == 200
    # a code is good once
    again = pending(user)
    assert_error(again.api("POST", "api/totp/verify/", {"code": next_code}), 400, "invalid_code")


def test_totp_confirm_without_setup(make_user, signed_in):
    account = signed_in(make_user())
    response = account.api("POST", "api/totp/confirm/", {"code": "123456"})
    assert response.status_code == 400
    assert response.json()["code"] in ("invalid_code", "invalid")


def test_backup_codes(make_user, signed_in, pair, pending):
    user = make_user()
    account = signed_in(user)
    pair(account)
    first = account.api("POST", "api/backup-codes/", {})
    assert first.status_code == 201
    old_codes = first.json()["codes"]
    assert len(old_codes) == 10 and len(set(old_codes)) == 10
    assert all(isinstance(c, str) and c.strip() for c in old_codes)
    second = account.api("POST", "api/backup-codes/", {})
    assert second.status_code == 201
    codes = second.json()["codes"]
    assert len(codes) == 10 and not set(codes) & set(old_codes)

    browser = pending(user)
    # earlier codes are invalidated
    assert_error(browser.api("POST", "api/backup-codes/verify/", {"code": old_codes[0]}), 400, "invalid_code")
    # matched ignoring case, surrounding white space, inner spaces and dashes
    code = codes[0]
    plain = code.replace("-", "").replace(" ", "")
    # e.g. "abcd-efgh" → "  AB C-D E - FGH\t": swapped case, extra spaces and dashes, white space around
    chunks = [plain[i : i + 2] for i in range(0, len(plain), 2)]
    mangled = "  " + " - ".join(" ".join(chunks[i : i + 2]) for i in range(0, len(chunks), 2)).swapcase() + "\t"
    assert mangled != code
    assert mangled.replace("-", "").replace(" ", "").strip().lower() == plain.lower()
    verify = browser.api("POST", "api/backup-codes/verify/", {"code": mangled})
    assert verify.status_code == 200, (mangled, verify.text)
    body = verify.json()
    assert body["status"] == "approved" and isinstance(body["redirect_url"], str)
    assert browser.page("/private/").status_code == 200
    # used once
    again = pending(user)
    assert_error(again.api("POST", "api/backup-codes/verify/", {"code": code}), 400, "invalid_code")
    # another unused code still works, as typed upper-case without separators
    verify = again.api("POST", "api/backup-codes/verify/", {"code": codes[1].replace("-", "").upper()})
    assert verify.status_code == 200, verify.text


def test_backup_codes_are_not_listed_as_secrets(make_user, signed_in, pair):
    account = signed_in(make_user())
    pair(account)
    codes = account.api("POST", "api/backup-codes/", {}).json()["codes"]
    page = account.page("/mfa/account/")
    for code in codes:
        assert code not in page.text


def test_account_endpoints_for_anonymous(browser_factory):
    browser = browser_factory()
    browser.page("/accounts/login/")
    for method, path in [("GET", "api/credentials/"), ("POST", "api/devices/pairing/"), ("POST", "api/backup-codes/")]:
        response = browser.api(method, path, {} if method == "POST" else None)
        assert response.status_code in (401, 403), response.text
        body = response.json()
        assert set(body) == {"detail", "code"} and isinstance(body["code"], str)


def test_delete_records_a_security_event(make_user, signed_in, pair):
    from django_pushmfa.models import SecurityEvent

    user = make_user()
    account = signed_in(user)
    phone = pair(account)
    before = SecurityEvent.objects.filter(user=user).count()
    assert account.api("DELETE", f"api/credentials/{phone.device_id}/").status_code == 204
    assert SecurityEvent.objects.filter(user=user).count() > before


def test_backup_codes_stored_as_keyed_hashes(make_user, signed_in, pair):
    import hashlib

    from django_pushmfa.models import BackupCode

    user = make_user()
    account = signed_in(user)
    pair(account)
    codes = account.api("POST", "api/backup-codes/", {}).json()["codes"]
    stored = list(BackupCode.objects.filter(user=user, used_at=None).values_list("code_hash", flat=True))
    assert len(stored) == len(codes)
    for code in codes:
        plain = code.replace("-", "").replace(" ", "")
        for variant in {code, plain, plain.lower(), plain.upper()}:
            digest = variant.encode()
            unkeyed = {variant, hashlib.sha256(digest).hexdigest(), hashlib.sha1(digest).hexdigest()}
            assert not unkeyed & {str(h) for h in stored}
            assert not any(variant in str(h) for h in stored)
