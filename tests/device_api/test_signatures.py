"""The ``PushMFA-Signature`` authentication (contract: "Signed requests")."""

from __future__ import annotations

import base64
import json
import time
import uuid
from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client, override_settings
from django.utils import timezone

from django_pushmfa import services
from django_pushmfa.api.authentication import parse_header
from django_pushmfa.models import PushDevice, SecurityEvent
from django_pushmfa.testing.phone import PhoneKey, canonical_message, signature_header

PUSH_TOKEN = "/mfa/api/device/push-token/"
SKEW = 60


def body_of(token="new-token"):
    return json.dumps({"push_token": token}).encode()


def send(phone, method, path, body=b"", authorization=None, **extra_headers):
    headers = {"Content-Type": "application/json", **extra_headers}
    if authorization is not None:
        headers["Authorization"] = authorization
    return phone.transport.request(method, path, body, headers)


def assert_invalid_signature(response):
    assert response.status == 401, response.body
    assert response.json() == {"detail": "The request signature does not verify.", "code": "invalid_signature"}
    assert response.headers["www-authenticate"] == "PushMFA-Signature"


# --- accepted ------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_valid_signature_is_accepted(phone, key_type):
    assert phone.key.key_type == key_type
    assert phone.rotate_push_token("rotated-1") == {"device_id": phone.device_id}
    assert PushDevice.objects.get(pk=phone.device_id).push_token == "rotated-1"


@pytest.mark.django_db
@pytest.mark.parametrize("offset", [-(SKEW - 3), SKEW - 3])
def test_timestamp_within_skew_is_accepted(phone, offset):
    body = body_of()
    header = phone.signature_header("PUT", PUSH_TOKEN, body, ts=int(time.time()) + offset)
    assert send(phone, "PUT", PUSH_TOKEN, body, header).status == 200


@pytest.mark.django_db
def test_canonical_message_exact_bytes():
    """The byte layout the docs show to mobile teams."""
    message = canonical_message("put", "/mfa/api/device/push-token/?a=1", "1700000000", "n" * 16, b"{}")
    assert message == (
        b"PUSHMFA-V1\nPUT\n/mfa/api/device/push-token/?a=1\n1700000000\nnnnnnnnnnnnnnnnn\n"
        b"44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
    )


@pytest.mark.django_db
def test_query_string_is_covered(phone):
    body = body_of()
    path = PUSH_TOKEN + "?x=1&y=%20z"
    assert send(phone, "PUT", path, body, phone.signature_header("PUT", path, body)).status == 200
    # The same request signed without its query string does not verify.
    assert_invalid_signature(send(phone, "PUT", path, body, phone.signature_header("PUT", PUSH_TOKEN, body)))


@pytest.mark.django_db
def test_raw_request_target_from_server_is_accepted(phone):
    """A client that percent-encodes the path verifies where the server passes the raw target."""
    body = body_of()
    raw = "/mfa/api/device/push%2Dtoken/"
    header = phone.signature_header("PUT", raw, body)
    client: Client = phone.transport.client
    response = client.put(raw, body, content_type="application/json", headers={"Authorization": header}, RAW_URI=raw)
    assert response.status_code == 200, response.content
    # Without the raw target, Django's decoded path is all there is: the signature over the encoded form fails.
    header = phone.signature_header("PUT", raw, body)
    response = client.put(raw, body, content_type="application/json", headers={"Authorization": header})
    assert (response.status_code, response.json()["code"]) == (401, "invalid_signature")


@pytest.mark.django_db
def test_dead_push_token_may_still_rotate(phone):
    PushDevice.objects.filter(pk=phone.device_id).update(token_dead_at=timezone.now())
    phone.rotate_push_token("fresh")
    device = PushDevice.objects.get(pk=phone.device_id)
    assert device.token_dead_at is None and device.push_token == "fresh"


# --- refused -------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_missing_header_is_not_authenticated(phone):
    response = send(phone, "PUT", PUSH_TOKEN, body_of())
    assert response.status == 401
    assert response.json()["code"] == "not_authenticated"
    assert response.headers["www-authenticate"] == "PushMFA-Signature"
    response = send(phone, "PUT", PUSH_TOKEN, body_of(), "Bearer abc")
    assert (response.status, response.json()["code"]) == (401, "not_authenticated")


@pytest.mark.django_db
def test_wrong_key_and_other_devices_key(phone, make_phone, user_factory):
    body = body_of()
    stranger = PhoneKey.generate(phone.key.key_type)
    assert_invalid_signature(
        send(phone, "PUT", PUSH_TOKEN, body, signature_header(stranger, phone.device_id, "PUT", PUSH_TOKEN, body))
    )
    other = make_phone(user_factory("bob"))
    # bob's registered key, claiming alice's device id
    header = signature_header(other.key, phone.device_id, "PUT", PUSH_TOKEN, body)
    assert_invalid_signature(send(phone, "PUT", PUSH_TOKEN, body, header))
    assert PushDevice.objects.get(pk=phone.device_id).push_token != "new-token"


@pytest.mark.django_db
def test_unknown_device(phone):
    body = body_of()
    header = signature_header(phone.key, str(uuid.uuid4()), "PUT", PUSH_TOKEN, body)
    assert_invalid_signature(send(phone, "PUT", PUSH_TOKEN, body, header))


@pytest.mark.django_db
@pytest.mark.parametrize("offset", [-(SKEW + 5), SKEW + 5, -(10**6)])
def test_stale_or_future_timestamp(phone, offset):
    body = body_of()
    header = phone.signature_header("PUT", PUSH_TOKEN, body, ts=int(time.time()) + offset)
    assert_invalid_signature(send(phone, "PUT", PUSH_TOKEN, body, header))


@pytest.mark.django_db
@override_settings(PUSHMFA_SIGNATURE_SKEW=5)
def test_skew_setting(phone):
    body = body_of()
    header = phone.signature_header("PUT", PUSH_TOKEN, body, ts=int(time.time()) - 30)
    assert_invalid_signature(send(phone, "PUT", PUSH_TOKEN, body, header))


@pytest.mark.django_db
def test_replayed_nonce(phone):
    body = body_of()
    header = phone.signature_header("PUT", PUSH_TOKEN, body)
    assert send(phone, "PUT", PUSH_TOKEN, body, header).status == 200
    assert_invalid_signature(send(phone, "PUT", PUSH_TOKEN, body, header))
    # The same nonce with a fresh timestamp and signature is refused too.
    nonce = parse_header(header)["nonce"]
    again = phone.signature_header("PUT", PUSH_TOKEN, body, ts=int(time.time()) + 1, nonce=nonce)
    assert_invalid_signature(send(phone, "PUT", PUSH_TOKEN, body, again))


@pytest.mark.django_db
def test_failed_request_does_not_burn_nonce(phone):
    """A bad signature with someone's nonce must not block the real request with that nonce."""
    body = body_of()
    header = phone.signature_header("PUT", PUSH_TOKEN, body)
    nonce = parse_header(header)["nonce"]
    forged = signature_header(PhoneKey.generate(), phone.device_id, "PUT", PUSH_TOKEN, body, nonce=nonce)
    assert_invalid_signature(send(phone, "PUT", PUSH_TOKEN, body, forged))
    assert send(phone, "PUT", PUSH_TOKEN, body, header).status == 200


@pytest.mark.django_db
def test_captured_header_on_other_request(phone):
    body = body_of("a")
    header = phone.signature_header("PUT", PUSH_TOKEN, body)
    assert_invalid_signature(send(phone, "PUT", PUSH_TOKEN, body_of("b"), header))  # other body
    assert_invalid_signature(send(phone, "DELETE", "/mfa/api/device/", b"", header))  # other method + path
    header = phone.signature_header("PUT", PUSH_TOKEN, b"")
    assert_invalid_signature(send(phone, "DELETE", "/mfa/api/device/", b"", header))
    header = phone.signature_header("DELETE", PUSH_TOKEN, b"")
    assert_invalid_signature(send(phone, "DELETE", "/mfa/api/device/", b"", header))  # other path
    header = phone.signature_header("PUT", "/mfa/api/device/", b"")
    assert_invalid_signature(send(phone, "DELETE", "/mfa/api/device/", b"", header))  # other method
    assert PushDevice.objects.get(pk=phone.device_id).credential.revoked_at is None


def _malformed(phone):
    body = body_of()
    for _ in range(200):  # a signature whose base64 differs from its url-safe form (has + or /)
        good = phone.signature_header("PUT", PUSH_TOKEN, body)
        if "+" in parse_header(good)["sig"] or "/" in parse_header(good)["sig"]:
            break
    p = parse_header(good)
    assert "+" in p["sig"] or "/" in p["sig"]
    d, ts, n, s = p["device"], p["ts"], p["nonce"], p["sig"]
    raw_sig = base64.b64decode(s)
    urlsafe = base64.urlsafe_b64encode(raw_sig).decode().rstrip("=")
    return (
        body,
        [
            "PushMFA-Signature",
            "PushMFA-Signature ",
            f'PushMFA-Signature device="{d}", ts="{ts}", nonce="{n}"',  # sig missing
            f'PushMFA-Signature device="{d}", ts="{ts}", nonce="{n}", sig="{s}", extra="1"',
            f'PushMFA-Signature device="{d}", device="{d}", ts="{ts}", nonce="{n}", sig="{s}"',
            f'PushMFA-Signature device={d}, ts="{ts}", nonce="{n}", sig="{s}"',  # unquoted
            f'PushMFA-Signature device="{d}" ts="{ts}" nonce="{n}" sig="{s}"',  # no commas
            f'PushMFA-Signature device="{d}", ts="{ts}", nonce="{n}", sig="{s}",',  # trailing comma
            f'PushMFA-Signature device="{d}", ts="{ts}.0", nonce="{n}", sig="{s}"',
            f'PushMFA-Signature device="{d}", ts="-{ts}", nonce="{n}", sig="{s}"',
            f'PushMFA-Signature device="{d}", ts="{ts}", nonce="short", sig="{s}"',
            f'PushMFA-Signature device="{d}", ts="{ts}", nonce="{"n" * 129}", sig="{s}"',
            f'PushMFA-Signature device="{d}", ts="{ts}", nonce="{n[:15]} {n[16:]}", sig="{s}"',
            f'PushMFA-Signature device="not-a-uuid", ts="{ts}", nonce="{n}", sig="{s}"',
            f'PushMFA-Signature device="{{{d}}}", ts="{ts}", nonce="{n}", sig="{s}"',
            f'PushMFA-Signature device="urn:uuid:{d}", ts="{ts}", nonce="{n}", sig="{s}"',
            f'PushMFA-Signature device="{d.replace("-", "")}", ts="{ts}", nonce="{n}", sig="{s}"',
            f'PushMFA-Signature device="{d}", ts="{ts}", nonce="{n}", sig="{urlsafe}"',
            f'PushMFA-Signature device="{d}", ts="{ts}", nonce="{n}", sig="{s}!"',
            f'PushMFA-Signature device="{d}", ts="{ts}", nonce="{n}", sig=""',
            f'PushMFA-Signature device="{d}", ts="{ts}", nonce="{n}", sig="{base64.b64encode(raw_sig * 3).decode()}"',
            f'PushMFA-Signature device="{d}", ts="{ts}", nonce="{n}", sig="{base64.b64encode(raw_sig[:-1]).decode()}"',
            f'PushMFA-Signature device="{d}", ts="{ts}", nonce="{n}", SIG="{s}"',
            f'PushMFA-Signature device="{d}\\"", ts="{ts}", nonce="{n}", sig="{s}"',
        ],
    )


@pytest.mark.django_db
def test_malformed_headers(phone):
    body, headers = _malformed(phone)
    for header in headers:
        assert_invalid_signature(send(phone, "PUT", PUSH_TOKEN, body, header))
    assert PushDevice.objects.get(pk=phone.device_id).push_token != "new-token"


def test_parse_header_accepts_any_order_and_spacing():
    value = 'pushmfa-signature sig="c2ln", nonce="nnnnnnnnnnnnnnnn" ,ts="1",device="d"'
    assert parse_header(value) == {"sig": "c2ln", "nonce": "nnnnnnnnnnnnnnnn", "ts": "1", "device": "d"}


@pytest.mark.django_db
def test_revoked_device_and_inactive_user(phone, user):
    body = body_of()
    device = PushDevice.objects.select_related("credential").get(pk=phone.device_id)
    services.revoke_credential(device.credential, actor=user, reason="lost")
    assert_invalid_signature(send(phone, "PUT", PUSH_TOKEN, body, phone.signature_header("PUT", PUSH_TOKEN, body)))


@pytest.mark.django_db
def test_inactive_user_is_refused(phone, user):
    user.is_active = False
    user.save()
    body = body_of()
    assert_invalid_signature(send(phone, "PUT", PUSH_TOKEN, body, phone.signature_header("PUT", PUSH_TOKEN, body)))


@pytest.mark.django_db
def test_oversized_body_is_refused_before_reading(phone):
    body = json.dumps({"push_token": "x" * (32 * 1024)}).encode()
    response = send(phone, "PUT", PUSH_TOKEN, body, phone.signature_header("PUT", PUSH_TOKEN, body))
    assert (response.status, response.json()["code"]) == (413, "payload_too_large")


@pytest.mark.django_db
def test_nonce_cache_down_fails_closed(phone):
    caches_conf = dict(settings.CACHES)
    caches_conf["unreachable"] = {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
        "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 1, "SOCKET_TIMEOUT": 1},
    }
    body = body_of()
    with override_settings(CACHES=caches_conf, PUSHMFA_CACHE_ALIAS="unreachable"):
        response = send(phone, "PUT", PUSH_TOKEN, body, phone.signature_header("PUT", PUSH_TOKEN, body))
    assert (response.status, response.json()["code"]) == (503, "service_unavailable")
    assert PushDevice.objects.get(pk=phone.device_id).push_token != "new-token"


@pytest.mark.django_db
@pytest.mark.parametrize("alias", ["redis", "locmem"])
def test_nonce_store_on_both_caches(phone, alias):
    body = body_of()
    header = phone.signature_header("PUT", PUSH_TOKEN, body)
    with override_settings(PUSHMFA_CACHE_ALIAS=alias):
        assert send(phone, "PUT", PUSH_TOKEN, body, header).status == 200
        assert_invalid_signature(send(phone, "PUT", PUSH_TOKEN, body, header))


# --- last_seen_at ----------------------------------------------------------------------------------
@pytest.mark.django_db
def test_last_seen_written_at_most_once_a_minute(phone, django_assert_num_queries):
    old = timezone.now() - timedelta(minutes=5)
    PushDevice.objects.filter(pk=phone.device_id).update(last_seen_at=old)
    body = b""
    # unregister is not used here; a signed request that fails after authentication still counts as seen
    path = "/mfa/api/device/challenges/not-a-uuid/"
    with django_assert_num_queries(2):  # load the device, stamp last_seen_at
        response = send(phone, "GET", path, body, phone.signature_header("GET", path, body))
    assert (response.status, response.json()["code"]) == (404, "not_found")
    seen = PushDevice.objects.get(pk=phone.device_id).last_seen_at
    assert seen > old
    with django_assert_num_queries(1):  # fresh: no write
        response = send(phone, "GET", path, body, phone.signature_header("GET", path, body))
    assert PushDevice.objects.get(pk=phone.device_id).last_seen_at == seen


@pytest.mark.django_db
def test_rotation_records_event_without_the_token(phone, assert_max_statements):
    with assert_max_statements(3):
        phone.rotate_push_token("secret-push-token-value")
    event = SecurityEvent.objects.get(kind=SecurityEvent.Kind.PUSH_TOKEN_ROTATED)
    assert str(event.credential_id) == phone.device_id
    assert "secret-push-token-value" not in json.dumps(event.detail)
    # The same token again changes nothing and records nothing.
    phone.rotate_push_token("secret-push-token-value")
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.PUSH_TOKEN_ROTATED).count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("payload", [{}, {"push_token": ""}, {"push_token": 5}, {"push_token": "a b"}, ["x"]])
def test_rotation_validates(phone, payload):
    body = json.dumps(payload).encode()
    response = send(phone, "PUT", PUSH_TOKEN, body, phone.signature_header("PUT", PUSH_TOKEN, body))
    assert (response.status, response.json()["code"]) == (400, "invalid")


@pytest.mark.django_db
def test_upper_case_device_id_is_the_same_device(phone):
    body = body_of()
    header = phone.signature_header("PUT", PUSH_TOKEN, body).replace(phone.device_id, phone.device_id.upper())
    assert send(phone, "PUT", PUSH_TOKEN, body, header).status == 200
    assert_invalid_signature(
        send(phone, "PUT", PUSH_TOKEN, body, header.replace(phone.device_id.upper(), phone.device_id))
    )


def test_request_targets_use_the_asgi_raw_path():
    from types import SimpleNamespace

    from django_pushmfa.api.authentication import request_targets

    asgi_like = SimpleNamespace(
        scope={"raw_path": b"/mfa/api/device/push%2Dtoken/", "query_string": b"a=%41"},
        META={},
        get_full_path=lambda: "/mfa/api/device/push-token/?a=%41",
    )
    assert request_targets(asgi_like) == ["/mfa/api/device/push-token/?a=%41", "/mfa/api/device/push%2Dtoken/?a=%41"]
    wsgi_like = SimpleNamespace(META={"RAW_URI": "http://evil/absolute"}, get_full_path=lambda: "/p/")
    assert request_targets(wsgi_like) == ["/p/"]  # only origin-form targets are considered
