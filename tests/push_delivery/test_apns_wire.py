"""The APNs backend at the wire: real aioapns against a local TLS HTTP/2 server (``apns_server``)."""
from __future__ import annotations

import asyncio
import time

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from django_pushmfa.exceptions import (
    PushConfigurationError,
    PushError,
    PushTemporaryError,
    PushTokenUnregistered,
)
from django_pushmfa.models import SecurityEvent
from django_pushmfa.push.backends import apns
from django_pushmfa.push.backends.base import PushMessage
from django_pushmfa.push.internal import delivery

from .apns_server import FakeAPNs, make_tls_files

KEY_ID = "ABC123DEFG"
TEAM_ID = "TEAM456XYZ"
TOPIC = "com.example.pushmfa"
TOKEN_A = "a" * 64
TOKEN_B = "b0" * 32


@pytest.fixture(scope="module")
def signing_key():
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture(scope="module")
def p8(signing_key):
    return signing_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory):
    return make_tls_files(tmp_path_factory.mktemp("apns-tls"))


@pytest.fixture
def server(tls_files, signing_key):
    cert_file, key_file = tls_files
    fake = FakeAPNs(
        cert_file=cert_file, key_file=key_file, public_key=signing_key.public_key(),
        key_id=KEY_ID, team_id=TEAM_ID, topic=TOPIC,
    )
    yield fake
    fake.stop()


@pytest.fixture
def options(server, p8, tls_files):
    return {
        "KEY": p8, "KEY_ID": KEY_ID, "TEAM_ID": TEAM_ID, "TOPIC": TOPIC,
        "BASE_URL": server.base_url, "CA_FILE": tls_files[0], "TIMEOUT": 5,
    }


@pytest.fixture
def backend(options):
    backend = apns.PushBackend(options)
    yield backend
    backend.close()


def message(token=TOKEN_A, **overrides):
    fields = dict(
        device_token=token,
        platform="apns",
        title="Login request",
        body="New login from Lisbon, Portugal",
        data={"type": "pushmfa.challenge", "challenge_id": "0b6f1e4c-43a6-4c0e-9a55-1d2f0a3c9e71"},
        ttl=117,
        collapse_id="pushmfa-0123456789abcdef",
        challenge_id="0b6f1e4c-43a6-4c0e-9a55-1d2f0a3c9e71",
    )
    fields.update(overrides)
    return PushMessage(**fields)


def test_success_unregistered_then_server_error_in_turn(server, backend):
    server.answers += [(200, None), (410, "Unregistered"), (500, "InternalServerError")]

    before = int(time.time())
    backend.send(message())
    with pytest.raises(PushTokenUnregistered) as dead:
        backend.send(message())
    with pytest.raises(PushTemporaryError) as down:
        backend.send(message())

    assert (dead.value.provider_code, dead.value.status) == ("Unregistered", 410)
    assert (down.value.provider_code, down.value.status) == ("InternalServerError", 500)
    assert [r["problems"] for r in server.requests] == [[], [], []]
    first = server.requests[0]
    headers = first["headers"]
    assert headers[":path"] == f"/3/device/{TOKEN_A}"
    assert headers["apns-topic"] == TOPIC
    assert headers["apns-push-type"] == "alert"
    assert headers["apns-priority"] == "10"
    assert headers["apns-collapse-id"] == "pushmfa-0123456789abcdef"
    assert before + 117 <= int(headers["apns-expiration"]) <= int(time.time()) + 117
    assert first["payload"] == {
        "aps": {"alert": {"title": "Login request", "body": "New login from Lisbon, Portugal"}, "sound": "default"},
        "type": "pushmfa.challenge",
        "challenge_id": "0b6f1e4c-43a6-4c0e-9a55-1d2f0a3c9e71",
    }


@pytest.mark.parametrize(
    "status, reason, exc_type",
    [
        (400, "BadDeviceToken", PushTokenUnregistered),
        (410, "ExpiredToken", PushTokenUnregistered),
        (400, "DeviceTokenNotForTopic", PushConfigurationError),
        (403, "InvalidProviderToken", PushConfigurationError),
        (403, "ExpiredProviderToken", PushConfigurationError),
        (429, "TooManyRequests", PushTemporaryError),
        (503, "ServiceUnavailable", PushTemporaryError),
        (413, "PayloadTooLarge", PushError),
    ],
)
def test_error_mapping(server, backend, status, reason, exc_type):
    server.answers.append((status, reason))
    with pytest.raises(PushError) as info:
        backend.send(message())
    assert type(info.value) is exc_type
    assert (info.value.provider_code, info.value.status) == (reason, status)
    assert TOKEN_A not in str(info.value)


def test_send_many_uses_one_connection_concurrently(server, backend):
    server.answers += [(200, None), (410, "Unregistered")]
    results = backend.send_many([message(TOKEN_A), message(TOKEN_B)])
    assert [r.ok for r in results].count(True) == 1
    assert sum(isinstance(r.error, PushTokenUnregistered) for r in results) == 1
    assert {r["headers"][":path"] for r in server.requests} == {f"/3/device/{TOKEN_A}", f"/3/device/{TOKEN_B}"}
    # Later sends reuse the client (and its HTTP/2 connection) on the same private loop.
    client = backend._client
    backend.send(message())
    assert backend._client is client


def test_works_when_called_from_inside_a_running_event_loop(server, backend):
    async def asgi_view():
        backend.send(message())  # sync code called from a coroutine, as under ASGI
        return "sent"

    assert asyncio.run(asgi_view()) == "sent"
    assert len(server.requests) == 1


def test_wrong_signing_key_is_refused_by_the_server(server, options):
    other = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    backend = apns.PushBackend({**options, "KEY": other})
    try:
        with pytest.raises(PushConfigurationError) as info:
            backend.send(message())
    finally:
        backend.close()
    assert info.value.provider_code == "InvalidProviderToken"
    assert server.requests[0]["problems"][0].startswith("jwt: Signature verification failed")


def test_untrusted_server_certificate_is_a_temporary_error(server, options):
    options = {**options, "TIMEOUT": 3}
    del options["CA_FILE"]
    backend = apns.PushBackend(options)
    try:
        with pytest.raises(PushTemporaryError):
            backend.send(message())
    finally:
        backend.close()
    assert server.requests == []


def test_unreachable_server_times_out_as_temporary(options):
    import socket

    silent = socket.create_server(("127.0.0.1", 0))  # accepts TCP but never speaks TLS
    try:
        backend = apns.PushBackend({**options, "BASE_URL": f"https://127.0.0.1:{silent.getsockname()[1]}",
                                    "TIMEOUT": 0.5})
        started = time.monotonic()
        with pytest.raises(PushTemporaryError):
            backend.send(message())
        assert time.monotonic() - started < 5
        backend.close()
    finally:
        silent.close()


def test_key_from_a_file(server, options, p8, tmp_path):
    path = tmp_path / "AuthKey_ABC123DEFG.p8"
    path.write_text(p8)
    backend = apns.PushBackend({**options, "KEY": str(path)})
    try:
        backend.send(message())
    finally:
        backend.close()
    assert server.requests[0]["problems"] == []


@pytest.mark.parametrize(
    "change, text",
    [
        ({"KEY": "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n"}, "not a PEM private key"),
        ({"KEY": "/nonexistent/AuthKey.p8"}, "cannot read"),
        ({"KEY_ID": ""}, "KEY_ID"),
        ({"BASE_URL": "http://127.0.0.1:1"}, "BASE_URL"),
        ({"CLIENT_CERT": "/nonexistent/cert.pem"}, "not both"),
        ({"CA_FILE": "/nonexistent/ca.pem"}, "CA file"),
    ],
)
def test_bad_options(options, change, text):
    with pytest.raises(PushConfigurationError, match=text):
        apns.PushBackend({**options, **change})


def test_rsa_key_is_refused(options):
    from cryptography.hazmat.primitives.asymmetric import rsa

    pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    with pytest.raises(PushConfigurationError, match="P-256"):
        apns.PushBackend({**options, "KEY": pem})


@pytest.mark.django_db
def test_through_send_challenge(server, options, settings, user, push_device_factory, make_challenge):
    settings.PUSHMFA_PUSH_BACKENDS = {
        "apns": {"BACKEND": "django_pushmfa.push.backends.apns.PushBackend", "OPTIONS": options},
        "fcm": {"BACKEND": "django_pushmfa.push.backends.locmem.PushBackend"},
    }
    ok = push_device_factory(user, "apns", token=TOKEN_A)
    gone = push_device_factory(user, "apns", token=TOKEN_B)
    server.answers += [(200, None)]  # then 410 / 500 by token below

    def answer_by_token(original=server._respond):
        def respond(h2, stream_id, request):
            if request["headers"][":path"].endswith(TOKEN_B):
                server.answers.insert(0, (410, "Unregistered"))
            else:
                server.answers.insert(0, (200, None))
            original(h2, stream_id, request)
        return respond

    server.answers.clear()
    server._respond = answer_by_token()
    challenge = make_challenge(user, location="Lisbon, Portugal")

    results = delivery.send_challenge(challenge, [ok, gone])

    by_id = {r.device_id: r for r in results}
    assert by_id[ok.device_id].ok
    assert by_id[gone.device_id].token_dead and by_id[gone.device_id].provider_code == "Unregistered"
    gone.refresh_from_db()
    ok.refresh_from_db()
    assert gone.token_dead_at is not None and ok.token_dead_at is None
    assert SecurityEvent.objects.filter(
        kind=SecurityEvent.Kind.PUSH_TOKEN_DEAD, credential=gone.credential, user=user
    ).count() == 1
    payloads = [r["payload"] for r in server.requests]
    keys = {"aps", "type", "challenge_id", "purpose"}
    assert all(p["challenge_id"] == challenge.id and set(p) == keys for p in payloads)
    assert all(r["problems"] == [] for r in server.requests)

    # A provider outage on the next challenge: reported, nothing raised, the device stays alive.
    server._respond = FakeAPNs._respond.__get__(server)
    server.answers.append((500, "InternalServerError"))
    [result] = delivery.send_challenge(make_challenge(user), [ok, gone])
    assert not result.ok and isinstance(result.error, PushTemporaryError)
    ok.refresh_from_db()
    assert ok.token_dead_at is None
