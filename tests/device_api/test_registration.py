"""Pairing tokens and ``POST api/device/register/``."""

from __future__ import annotations

import base64
import hashlib
import threading
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa, x25519
from django.conf import settings
from django.db import connection
from django.test import Client, RequestFactory, override_settings
from django.urls import reverse
from django.utils import timezone

from django_pushmfa.internal.pairing import create_pairing_token
from django_pushmfa.models import MFACredential, PairingToken, PushDevice, SecurityEvent
from django_pushmfa.testing.phone import DjangoClientTransport, PhoneAPIError, PhoneClient, PhoneKey, parse_pairing_uri

REGISTER = "/mfa/api/device/register/"


def body(token, key=None, **over):
    key = key or PhoneKey.generate("p256")
    data = {
        "pairing_token": token,
        "platform": "fcm",
        "push_token": "fcm-token-1",
        "public_key": key.public_key_b64(),
        "name": "Pixel 8",
    }
    data.update(over)
    return data


def post(client, data):
    return client.post(REGISTER, data, content_type="application/json")


def spki_b64(public_key):
    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(der).decode()


# --- pairing tokens --------------------------------------------------------------------------------
@pytest.mark.django_db
def test_pairing_token_stores_only_hash_and_builds_uri(user):
    issued = create_pairing_token(user, RequestFactory().get("/", secure=True, HTTP_HOST="mfa.example.com"))
    row = PairingToken.objects.get(user=user)
    assert row.token_hash == hashlib.sha256(issued.token.encode()).hexdigest()
    assert issued.token not in row.token_hash
    assert row.used_at is None
    assert timedelta(seconds=590) < row.expires_at - timezone.now() <= timedelta(seconds=600)
    token, server = parse_pairing_uri(issued.pairing_uri)
    assert token == issued.token
    assert server == "https://mfa.example.com/mfa/api/"
    assert issued.pairing_uri.startswith("pushmfa://pair?")
    event = SecurityEvent.objects.get(user=user, kind=SecurityEvent.Kind.PAIRING_TOKEN_CREATED)
    assert issued.token not in str(event.detail)


@pytest.mark.django_db
@override_settings(
    PUSHMFA_PAIRING_URI_SCHEME="acme-mfa",
    PUSHMFA_PAIRING_SERVER_URL="https://public.example/x/api",
    PUSHMFA_PAIRING_TOKEN_TTL=60,
)
def test_pairing_settings(user):
    issued = create_pairing_token(user)
    parts = urlsplit(issued.pairing_uri)
    assert parts.scheme == "acme-mfa"
    assert parse_qs(parts.query)["server"] == ["https://public.example/x/api/"]
    assert parse_qs(parts.query)["v"] == ["1"]
    assert issued.expires_at - timezone.now() <= timedelta(seconds=60)


# --- registration ----------------------------------------------------------------------------------
@pytest.mark.django_db
@pytest.mark.parametrize("key_type", ["p256", "ed25519"])
def test_register_creates_device(client, user, issue_token, key_type):
    key = PhoneKey.generate(key_type)
    response = post(client, body(issue_token(user), key=key, platform="apns", push_token="ab" * 32))
    assert response.status_code == 201, response.content
    device_id = response.json()["device_id"]
    assert set(response.json()) == {"device_id"}
    device = PushDevice.objects.select_related("credential").get(credential_id=device_id)
    assert device.credential.user == user
    assert device.credential.method == MFACredential.Method.PUSH
    assert device.credential.label == "Pixel 8"
    assert device.credential.is_primary  # the first authenticating credential
    assert device.key_type == key_type
    assert bytes(device.public_key) == key.public_key_der()
    assert device.platform == "apns" and device.push_token == "ab" * 32 and device.name == "Pixel 8"
    kinds = set(SecurityEvent.objects.filter(user=user).values_list("kind", flat=True))
    assert {SecurityEvent.Kind.DEVICE_REGISTERED, SecurityEvent.Kind.CREDENTIAL_ADDED} <= kinds
    assert PairingToken.objects.get(user=user).used_at is not None


@pytest.mark.django_db
def test_register_sends_credential_added_after_commit(
    client, user, issue_token, django_capture_on_commit_callbacks, mailoutbox
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert post(client, body(issue_token(user))).status_code == 201
    assert len(callbacks) == 1


@pytest.mark.django_db
def test_compressed_p256_key_is_stored_canonically(client, user, issue_token):
    private = ec.generate_private_key(ec.SECP256R1())
    compressed = private.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint
    )
    key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), compressed)
    response = post(client, body(issue_token(user), public_key=spki_b64(key)))
    assert response.status_code == 201
    device = PushDevice.objects.get()
    assert bytes(device.public_key) == PhoneKey(private).public_key_der()


@pytest.mark.django_db
def test_token_works_once(client, user, issue_token):
    token = issue_token(user)
    assert post(client, body(token)).status_code == 201
    response = post(client, body(token, push_token="other"))
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_pairing_token"
    assert PushDevice.objects.count() == 1


@pytest.mark.django_db
def test_expired_and_unknown_tokens(client, user, issue_token):
    token = issue_token(user)
    PairingToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    for candidate in (token, "not-a-token", "x" * 256):
        response = post(client, body(candidate))
        assert (response.status_code, response.json()["code"]) == (400, "invalid_pairing_token")
    assert not PushDevice.objects.exists()
    assert not MFACredential.objects.exists()


@pytest.mark.django_db
def test_inactive_user_cannot_redeem(client, user, issue_token):
    token = issue_token(user)
    user.is_active = False
    user.save()
    assert post(client, body(token)).json()["code"] == "invalid_pairing_token"
    assert not PushDevice.objects.exists()


BAD_KEYS = {
    "not base64": "!!!not-base64!!!",
    "missing padding": PhoneKey.generate("p256").public_key_b64().rstrip("="),
    "garbage DER": base64.b64encode(b"\x30\x03\x02\x01\x00").decode(),
    "empty": "",
    "RSA": spki_b64(rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()),
    "P-384": spki_b64(ec.generate_private_key(ec.SECP384R1()).public_key()),
    "X25519": spki_b64(x25519.X25519PrivateKey.generate().public_key()),
    "raw point": base64.b64encode(
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    ).decode(),
    "number": 12345,
}


@pytest.mark.django_db
@pytest.mark.parametrize("label", sorted(BAD_KEYS))
def test_bad_key_is_invalid_and_keeps_token(client, user, issue_token, label):
    token = issue_token(user)
    response = post(client, body(token, public_key=BAD_KEYS[label]))
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert "public_key" in response.json()["errors"]
    assert post(client, body(token)).status_code == 201  # the token was not spent


@pytest.mark.django_db
@pytest.mark.parametrize(
    "field,value",
    [
        ("platform", "gcm"),
        ("platform", None),
        ("push_token", ""),
        ("push_token", "has space"),
        ("push_token", "x" * 513),
        ("push_token", 12345),
        ("name", "n" * 101),
        ("name", "bad\nname"),
        ("name", ["list"]),
        ("pairing_token", 42),
    ],
)
def test_malformed_fields_are_invalid(client, user, issue_token, field, value):
    token = issue_token(user)
    response = post(client, body(token, **{field: value}))
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert field in response.json()["errors"]
    assert not PushDevice.objects.exists()
    assert PairingToken.objects.get().used_at is None


@pytest.mark.django_db
def test_missing_fields_non_object_and_non_json(client, user, issue_token):
    response = post(client, {"pairing_token": issue_token(user)})
    assert (response.status_code, response.json()["code"]) == (400, "invalid")
    response = post(client, ["a", "list"])
    assert (response.status_code, response.json()["code"]) == (400, "invalid")
    response = client.post(REGISTER, "{not json", content_type="application/json")
    assert (response.status_code, response.json()["code"]) == (400, "parse_error")
    response = client.post(REGISTER, "x" * (64 * 1024), content_type="application/json")
    assert response.status_code == 413
    assert not PushDevice.objects.exists()


@pytest.mark.django_db
def test_register_through_reference_client(user, issue_token):
    phone = PhoneClient(DjangoClientTransport(), PhoneKey.generate("ed25519"))
    token = issue_token(user)
    device_id = phone.register(token, platform="fcm", push_token="t", name="")
    assert PushDevice.objects.get(credential_id=device_id).credential.label == "Phone"
    other_phone = PhoneClient(DjangoClientTransport(), PhoneKey.generate("p256"))
    with pytest.raises(PhoneAPIError) as err:
        other_phone.register(token, platform="fcm", push_token="t")
    assert (err.value.status, err.value.code) == (400, "invalid_pairing_token")


@pytest.mark.skipif(settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"), reason="needs concurrent connections")
@pytest.mark.django_db(transaction=True)
def test_concurrent_redemption_makes_one_device(user, issue_token):
    token = issue_token(user)
    threads = 8
    barrier = threading.Barrier(threads)
    statuses: list[int] = []
    lock = threading.Lock()

    def redeem(i):
        try:
            client = Client()
            barrier.wait(timeout=10)
            response = post(client, body(token, push_token=f"t{i}"))
            with lock:
                statuses.append(response.status_code)
        finally:
            connection.close()

    workers = [threading.Thread(target=redeem, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=30)
    assert sorted(statuses) == [201] + [400] * (threads - 1)
    assert PushDevice.objects.count() == 1
    assert MFACredential.objects.filter(user=user).count() == 1


# --- the account endpoint --------------------------------------------------------------------------
PAIRING = "/mfa/api/devices/pairing/"


@pytest.mark.django_db
def test_pairing_endpoint_for_fully_logged_in_user(client, user, password):
    assert reverse("pushmfa:api-devices-pairing") == PAIRING
    client.post("/accounts/login/", {"username": user.username, "password": password})  # no MFA yet: logged in
    response = client.post(PAIRING, {}, content_type="application/json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert set(data) == {"pairing_token", "expires_at", "pairing_uri"}
    assert data["expires_at"].endswith("Z")
    token, server = parse_pairing_uri(data["pairing_uri"])
    assert token == data["pairing_token"] and server == "http://testserver/mfa/api/"
    phone = PhoneClient(DjangoClientTransport(Client()), PhoneKey.generate())
    assert phone.register(token, "fcm", "t", "Phone")
    # The session that paired stays logged in and may pair another phone.
    assert client.post(PAIRING, {}, content_type="application/json").status_code == 201


@pytest.mark.django_db
def test_pairing_endpoint_refuses_anonymous_and_pending(client, user, password, make_phone):
    response = client.post(PAIRING, {}, content_type="application/json")
    assert response.status_code in (401, 403)
    assert response.json()["code"] == "not_authenticated"
    make_phone(user)  # now the user has MFA: a password login is only "pending"
    client.post("/accounts/login/", {"username": user.username, "password": password})
    response = client.post(PAIRING, {}, content_type="application/json")
    assert (response.status_code, response.json()["code"]) == (403, "mfa_required")
    assert PairingToken.objects.count() == 1  # only make_phone's


@pytest.mark.django_db
def test_pairing_endpoint_enforces_csrf(user, password):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    response = client.post(PAIRING, {}, content_type="application/json")
    assert response.status_code == 403
    assert not PairingToken.objects.exists()


@pytest.mark.django_db
def test_one_key_serves_one_active_device(client, user, user_factory, issue_token):
    key = PhoneKey.generate("ed25519")
    assert post(client, body(issue_token(user), key=key)).status_code == 201
    bob_token = issue_token(user_factory("bob"))
    response = post(client, body(bob_token, key=key))
    assert (response.status_code, response.json()["code"]) == (400, "invalid")
    assert "public_key" in response.json()["errors"]
    assert PairingToken.objects.get(user__username="bob").used_at is None  # not spent
    # Once the first device is revoked, the key may be registered again.
    from django_pushmfa import services

    services.revoke_credential(MFACredential.objects.get(user=user), actor=user, reason="lost")
    assert post(client, body(bob_token, key=key)).status_code == 201
