"""Hand-written bad input: every answer is a 4xx with the contract's ``code``, nothing changes, and
nothing is logged at ERROR. Complements the schema fuzzer with the cases it is unlikely to find."""
from __future__ import annotations

import base64
import contextlib
import json
import logging
import time

import pyotp
import pytest

from django_pushmfa.models import BackupCode, MFACredential, PairingToken, PushDevice, SecurityEvent
from django_pushmfa.push.store import get_store

from .conftest import API, POLL_VARIANTS, is_logged_in, json_post, poll, start_push
from .device import Phone

pytestmark = pytest.mark.django_db

BIG = "x" * (17 * 1024)  # over the default PUSHMFA_MAX_BODY_BYTES (16 KiB)


def state(user) -> dict:
    """Everything a bad request must leave alone (security events are compared separately)."""
    return {
        "credentials": sorted(
            MFACredential.objects.values_list("pk", "revoked_at", "is_primary", "label", "last_used_at")
        ),
        "devices": sorted(PushDevice.objects.values_list("pk", "push_token", "name", "token_dead_at")),
        "pairing": sorted(PairingToken.objects.values_list("pk", "used_at")),
        "backup_codes": sorted(BackupCode.objects.values_list("pk", "used_at")),
        "challenges": sorted((c.id, c.status) for c in get_store().pending_for_user(str(user.pk))),
    }


@pytest.fixture
def unchanged(push_user, caplog):
    """``with unchanged(): ...`` — the same state and events after the block, no ERROR log."""

    @contextlib.contextmanager
    def check():
        before, events = state(push_user), SecurityEvent.objects.count()
        caplog.clear()
        yield
        assert state(push_user) == before
        assert SecurityEvent.objects.count() == events
        errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
        assert not errors, [r.getMessage() for r in errors]

    return check


def _error(response, status: int, code: str | tuple[str, ...]) -> None:
    assert response.status_code == status, (response.status_code, response.content[:300])
    body = response.json()
    assert body["code"] in ((code,) if isinstance(code, str) else code), body
    assert isinstance(body.get("detail"), str) and body["detail"]


def _raw(client, method: str, path: str, body: bytes, content_type: str = "application/json", **extra):
    return client.generic(method, path, body, content_type=content_type, **extra)


# --- bodies ---------------------------------------------------------------------------------------
@pytest.fixture
def endpoints(push_user, browser, account_client):
    """(client, method, path, signer) for every endpoint that takes a body; the signer signs device calls.

    ``devices/pairing/`` and ``backup-codes/`` (generate) take no body and never read one, so they
    are not listed: a body sent to them is ignored.
    """
    phone: Phone = push_user.phone
    challenge_id = start_push(browser)["challenge_id"]
    return [
        (browser, "POST", API + "push/", None),
        (browser, "POST", API + "totp/verify/", None),
        (browser, "POST", API + "backup-codes/verify/", None),
        (browser, "POST", API + "webauthn/complete/", None),
        (account_client, "POST", API + "totp/confirm/", None),
        (Phone().client, "POST", API + "device/register/", None),
        (phone.client, "POST", f"{API}device/challenges/{challenge_id}/respond/", phone),
        (phone.client, "PUT", API + "device/push-token/", phone),
    ]


def _send(client, method, path, signer, body: bytes, content_type="application/json"):
    extra = {}
    if signer is not None:
        extra["HTTP_AUTHORIZATION"] = signer.header(method, path, body)
    return _raw(client, method, path, body, content_type, **extra)


def test_bodies_over_the_size_limit(endpoints, unchanged):
    with unchanged():
        body = json.dumps({"code": BIG, "push_token": BIG, "decision": "deny", "name": BIG}).encode()
        for client, method, path, signer in endpoints:
            _error(_send(client, method, path, signer, body), 413, "payload_too_large")


def test_bodies_that_are_not_json(endpoints, unchanged):
    with unchanged():
        for raw in (b"{not json", b'{"code": "1"', b"\xff\xfe\x00", b"\x00", b"NaN", b'{"a": 1}}'):
            for client, method, path, signer in endpoints:
                _error(_send(client, method, path, signer, raw), 400, "parse_error")


def test_json_that_is_not_an_object(endpoints, unchanged):
    with unchanged():
        for raw in (b"[]", b'"code"', b"1", b"null", b"true"):
            for client, method, path, signer in endpoints:
                if path.endswith(("/push/", "/pairing/", "/backup-codes/")):
                    continue  # bodies these ignore (``{}`` or nothing is all they take)
                _error(_send(client, method, path, signer, raw), 400, "invalid")


def test_other_media_types(endpoints, unchanged):
    with unchanged():
        for client, method, path, signer in endpoints:
            form = _send(client, method, path, signer, b"code=123456", "application/x-www-form-urlencoded")
            _error(form, 415, "unsupported_media_type")


# --- wait -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("wait", ["-1", "1.5", "abc", "1e3", "0x10", "%D9%A3", "5%00", "--1", "%2B5", "NaN", "5%205"])
def test_bad_wait_values(browser, push_user, wait, unchanged):
    challenge_id = start_push(browser)["challenge_id"]
    with unchanged():
        for variant in POLL_VARIANTS:
            _error(poll(browser, challenge_id, wait=wait, variant=variant), 400, "invalid")
        assert not is_logged_in(browser)


@pytest.mark.parametrize("wait", ["30", "31", "99999999999999999999999999999999", "0" * 5000 + "7"])
def test_huge_wait_counts_as_the_maximum(browser, push_user, wait):
    started = start_push(browser)
    push_user.phone.respond(started["challenge_id"], "deny")  # resolved: the poll returns at once
    began = time.monotonic()
    response = poll(browser, started["challenge_id"], wait=wait)
    assert response.status_code == 200 and response.json() == {"status": "denied", "reason": "denied"}
    assert time.monotonic() - began < 5


# --- codes and names: unicode, NUL, sizes ---------------------------------------------------------
CODES = [
    "12\x003456",
    "１２３４５６",
    "١٢٣٤٥٦",
    "😀" * 6,
    "",
    " " * 8,
    "1" * 5000,
    "\u202e654321",
    "123 456\n",
    None,
    123456,
    ["123456"],
    {"a": 1},
    True,
]


@pytest.fixture
def totp_pending(push_user, password):
    from .conftest import enroll_totp, new_browser

    push_user.totp_secret = enroll_totp(push_user)
    return new_browser(push_user, password)


@pytest.mark.parametrize("path", ["totp/verify/", "backup-codes/verify/"])
def test_unicode_nul_and_wrong_types_in_codes(totp_pending, push_user, path, caplog, settings):
    settings.PUSHMFA_CODE_FAILURE_FREE_ATTEMPTS = 1000  # the back-off has its own tests
    before = state(push_user)
    for code in CODES:
        response = json_post(totp_pending, API + path, {"code": code})
        assert response.status_code == 400, (code, response.content)
        assert response.json()["code"] in ("invalid_code", "invalid"), (code, response.json())
    assert not is_logged_in(totp_pending)
    assert state(push_user) == before
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    # the real code still works afterwards
    ok = json_post(totp_pending, API + "totp/verify/", {"code": pyotp.TOTP(push_user.totp_secret).now()})
    assert ok.status_code == 200


@pytest.mark.parametrize(
    "field,value",
    [
        ("name", "Pixel\x008"),
        ("name", "📱 Pixel 8 — ünïcödé"),
        ("name", "\u202egnp.exe"),
        ("name", "x" * 101),
        ("push_token", "tok\x00en"),
        ("push_token", ""),
        ("push_token", "t" * 513),
        ("platform", "FCM"),
        ("platform", "fcm\x00"),
        ("platform", "web"),
        ("pairing_token", "tok\x00"),
        ("public_key", ""),
        ("public_key", "not base64!"),
        ("public_key", "AAAA"),
        ("public_key", "A" * 1020),
    ],
)
def test_registration_fields(account_client, field, value, caplog):
    token = json_post(account_client, API + "devices/pairing/").json()["pairing_token"]
    phone = Phone()
    body = {
        "pairing_token": token,
        "platform": "fcm",
        "push_token": "tok-123",
        "public_key": phone.public_key_b64,
        "name": "Pixel",
        field: value,
    }
    devices = PushDevice.objects.count()
    response = json_post(phone.client, API + "device/register/", body)
    assert response.status_code in (201, 400), response.content
    if response.status_code == 400:
        assert response.json()["code"] in ("invalid", "invalid_pairing_token")
        assert PushDevice.objects.count() == devices
    else:  # accepted (a unicode name): stored as sent, nothing invisible smuggled in
        device = PushDevice.objects.get(pk=response.json()["device_id"])
        assert "\x00" not in device.name and "\x00" not in device.push_token
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_registration_with_foreign_key_types(account_client):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    keys = [
        rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key(),
        ec.generate_private_key(ec.SECP384R1()).public_key(),
        ec.generate_private_key(ec.SECP256K1()).public_key(),
    ]
    for key in keys:
        token = json_post(account_client, API + "devices/pairing/").json()["pairing_token"]
        der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        key_b64 = base64.b64encode(der).decode()
        body = {"pairing_token": token, "platform": "apns", "push_token": "t", "public_key": key_b64}
        _error(json_post(Phone().client, API + "device/register/", body), 400, "invalid")
        # a refused key does not burn the token
        assert PairingToken.objects.filter(used_at__isnull=True).count() >= 1
    assert PushDevice.objects.count() == 0


def test_totp_label_with_nul(account_client, caplog):
    setup = json_post(account_client, API + "totp/setup/")
    assert setup.status_code == 201
    code = pyotp.TOTP(setup.json()["secret"]).now()
    response = json_post(account_client, API + "totp/confirm/", {"code": code, "label": "my\x00phone"})
    assert response.status_code in (201, 400), response.content
    if response.status_code == 201:
        assert "\x00" not in MFACredential.objects.get(pk=response.json()["id"]).label
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_nul_in_user_agent_and_forwarded_headers(totp_pending, push_user, caplog):
    """Header values end up in SecurityEvents and the push context; PostgreSQL refuses NUL in text."""
    extra = {"HTTP_USER_AGENT": "Mozilla/5.0\x00evil", "HTTP_X_FORWARDED_FOR": "1.2.3.4\x00"}
    bad = json_post(totp_pending, API + "totp/verify/", {"code": "000000"}, **extra)
    assert bad.status_code == 400
    started = json_post(totp_pending, API + "push/", **extra)
    assert started.status_code == 201, started.content
    context = push_user.phone.challenge(started.json()["challenge_id"]).json()["context"]
    assert "\x00" not in json.dumps(context)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


# --- device responses -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "body",
    [
        {"decision": "APPROVE", "selected_number": "47"},
        {"decision": "approve\x00", "selected_number": "47"},
        {"decision": 1},
        {"decision": None},
        {"decision": ["deny"]},
        {},
        {"decision": "approve"},  # no number
        {"decision": "approve", "selected_number": 47},
        {"decision": "approve", "selected_number": ["47"]},
        {"decision": "approve", "selected_number": "4" * 100},
    ],
)
def test_malformed_responses_change_nothing(push_user, browser, body, unchanged):
    challenge_id = start_push(browser)["challenge_id"]
    with unchanged():
        before = state(push_user)
        _error(push_user.phone.send("POST", f"{API}device/challenges/{challenge_id}/respond/", body), 400, "invalid")
        assert state(push_user) == before
        assert poll(browser, challenge_id).json()["status"] == "pending"


# --- Authorization headers ------------------------------------------------------------------------
def _headers(phone: Phone, path: str) -> list[str]:
    good = phone.header("GET", path)
    ts = str(int(time.time()))
    dev = phone.device_id
    sig = good.rsplit('sig="', 1)[1].rstrip('"')
    return [
        "PushMFA-Signature",
        "PushMFA-Signature ",
        'PushMFA-Signature device=""',
        f'PushMFA-Signature device="{dev}"',
        f'PushMFA-Signature device="{dev}", ts="{ts}", nonce="abcdefghijklmnopq"',  # no sig
        good + ", extra=\"1\"",
        good + ",",
        good.replace(", ", ","),  # accepted or not, never a 5xx
        good.replace('device="', 'device="{'),
        good.replace(f'ts="{ts}"', 'ts="-5"'),
        good.replace(f'ts="{ts}"', 'ts="99999999999999999999999"'),
        good.replace(f'ts="{ts}"', 'ts="1e9"'),
        good.replace(f'ts="{ts}"', 'ts=""'),
        good.replace('nonce="', 'nonce="\x00'),
        good.replace('nonce="', 'nonce="ü'),
        good.replace(sig, "!!!!"),
        good.replace(sig, "A" * 6000),
        good.replace(sig, ""),
        good.replace(sig, sig[:-4]),
        good.replace(f'device="{dev}"', 'device="../../etc/passwd"'),
        good.replace(f'device="{dev}"', 'device="00000000-0000-0000-0000-000000000000"'),
        good + ', device="' + dev + '"',
        good.replace("PushMFA-Signature", "PushMFA-Signature PushMFA-Signature"),
        "PushMFA-Signature " + "a" * 20000,
        'PushMFA-Signature device="\u202e", ts="1", nonce="2", sig="3"',
    ]


def test_malformed_authorization_headers(push_user, browser, unchanged):
    phone: Phone = push_user.phone
    path = API + "device/challenges/"
    with unchanged():
        for header in _headers(phone, path):
            response = phone.client.get(path, HTTP_AUTHORIZATION=header)
            if response.status_code == 200:  # a variant that is still a valid signature (spacing)
                continue
            _error(response, 401, "invalid_signature")
            assert response["WWW-Authenticate"].startswith("PushMFA-Signature")


@pytest.mark.parametrize("header", ["", "Bearer abc", "Basic YTpi", "Token x", "PushMFA abc"])
def test_other_schemes_are_not_authenticated(push_user, header, unchanged):
    phone: Phone = push_user.phone
    with unchanged():
        response = phone.client.get(API + "device/challenges/", **({"HTTP_AUTHORIZATION": header} if header else {}))
        _error(response, 401, "not_authenticated")
        assert response["WWW-Authenticate"].startswith("PushMFA-Signature")


# --- ids that are not ids -------------------------------------------------------------------------
BAD_IDS = ["abc", "0", "-1", "%00", "%E2%98%83", "a" * 300, "null", "..", "%20", "1e10", "%7B" + "0" * 32 + "%7D"]


@pytest.mark.parametrize("bad_id", BAD_IDS)
def test_ids_that_are_not_uuids(push_user, browser, account_client, bad_id, unchanged):
    phone: Phone = push_user.phone
    with unchanged():
        for variant in POLL_VARIANTS:
            _error(poll(browser, bad_id, variant=variant), 404, "not_found")
            _error(poll(browser, bad_id, wait=1, variant=variant), 404, "not_found")
        _error(phone.challenge(bad_id), 404, "not_found")
        _error(phone.respond(bad_id, "deny"), 404, "not_found")
        _error(account_client.delete(f"{API}credentials/{bad_id}/"), 404, "not_found")
        _error(json_post(account_client, f"{API}credentials/{bad_id}/primary/"), 404, "not_found")


@pytest.mark.parametrize(
    "label,transports", [("Key\x00", ["usb"]), ("Key", ["usb\x00"]), ("Key", ["usb", "\x00" * 3])]
)
def test_security_key_registration_with_nul(account_client, label, transports, caplog):
    """The label and the authenticator-reported transports end up in text / JSON columns."""
    from tests.fallbacks.authenticator import SoftwareAuthenticator

    key = SoftwareAuthenticator()
    options = json_post(account_client, API + "webauthn/register/begin/", {"passkey": False})
    assert options.status_code == 200
    attestation = key.create(options.json())
    attestation["response"]["transports"] = transports
    body = {"credential": attestation, "label": label}
    response = json_post(account_client, API + "webauthn/register/complete/", body)
    assert response.status_code in (201, 400), response.content
    if response.status_code == 201:
        stored = MFACredential.objects.get(pk=response.json()["id"])
        assert "\x00" not in stored.label
        assert not any("\x00" in t for t in stored.webauthn_key.transports)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
