"""The FCM backend at the wire: the exact HTTP requests pyfcm sends, with the HTTP layer faked.

``requests``' transport adapter is replaced, so everything above it runs for real: google-auth
signs a JWT-bearer grant with the service account key and exchanges it at the token endpoint (the
fake answers it and checks the assertion), then pyfcm's session POSTs the message.
"""
from __future__ import annotations

import json
from urllib.parse import parse_qs

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from requests.adapters import HTTPAdapter

from django_pushmfa.exceptions import (
    PushConfigurationError,
    PushError,
    PushTemporaryError,
    PushTokenUnregistered,
)
from django_pushmfa.push.backends import fcm
from django_pushmfa.push.backends.base import PushMessage

PROJECT = "pushmfa-test-project"
TOKEN_URI = "https://oauth2.googleapis.com/token"
FCM_URL = f"https://fcm.googleapis.com/v1/projects/{PROJECT}/messages:send"
ACCESS_TOKEN = "ya29.test-access-token"
NOW = 1_800_000_000


@pytest.fixture(scope="module")
def rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def service_account(rsa_key):
    pem = rsa_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return {
        "type": "service_account",
        "project_id": PROJECT,
        "private_key_id": "key-1",
        "private_key": pem,
        "client_email": f"pusher@{PROJECT}.iam.gserviceaccount.com",
        "client_id": "1234567890",
        "token_uri": TOKEN_URI,
    }


class FakeGoogle:
    """Stands in for the network below ``requests``: the OAuth token endpoint and FCM."""

    def __init__(self, public_key, client_email):
        self.public_key = public_key
        self.client_email = client_email
        self.token_requests = []
        self.fcm_requests = []
        self.fcm_answers = []  # (status, json body) in turn; 200 with a message name when empty
        self.token_answer = (200, {"access_token": ACCESS_TOKEN, "expires_in": 3600, "token_type": "Bearer"})

    def send(self, adapter, request, **kwargs):
        request.sent_timeout = kwargs.get("timeout")
        if request.url == TOKEN_URI:
            self.token_requests.append(request)
            form = parse_qs(request.body.decode() if isinstance(request.body, bytes) else request.body)
            assert form["grant_type"] == ["urn:ietf:params:oauth:grant-type:jwt-bearer"]
            claims = jwt.decode(form["assertion"][0], self.public_key, algorithms=["RS256"], audience=TOKEN_URI)
            assert claims["iss"] == self.client_email
            assert claims["scope"] == "https://www.googleapis.com/auth/firebase.messaging"
            return self._response(request, *self.token_answer)
        self.fcm_requests.append(request)
        if self.fcm_answers:
            answer = self.fcm_answers.pop(0)
            if isinstance(answer, Exception):
                raise answer
            return self._response(request, *answer)
        return self._response(request, 200, {"name": f"projects/{PROJECT}/messages/0:1"})

    @staticmethod
    def _response(request, status, body, headers=None):
        response = requests.Response()
        response.headers.update(headers or {})
        response.status_code = status
        response._content = json.dumps(body).encode()
        response.headers["Content-Type"] = "application/json"
        response.url = request.url
        response.request = request
        return response


@pytest.fixture
def google(monkeypatch, rsa_key, service_account):
    fake = FakeGoogle(rsa_key.public_key(), service_account["client_email"])
    monkeypatch.setattr(HTTPAdapter, "send", lambda adapter, request, **kw: fake.send(adapter, request, **kw))
    monkeypatch.setattr(fcm, "_now", lambda: NOW)
    return fake


@pytest.fixture
def backend(service_account):
    return fcm.PushBackend({"CREDENTIALS": service_account, "TIMEOUT": 5})


def message(**overrides):
    fields = dict(
        device_token="fcm-device-token-abc",
        platform="fcm",
        title="Login request",
        body="New login from Lisbon, Portugal",
        data={"type": "pushmfa.challenge", "challenge_id": "0b6f1e4c-43a6-4c0e-9a55-1d2f0a3c9e71"},
        ttl=117,
        collapse_id="pushmfa-0123456789abcdef",
        priority="high",
        challenge_id="0b6f1e4c-43a6-4c0e-9a55-1d2f0a3c9e71",
    )
    fields.update(overrides)
    return PushMessage(**fields)


def fcm_error(status, rpc_status, error_code=None, message="error"):
    details = []
    if error_code:
        details.append({"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": error_code})
    return (status, {"error": {"code": status, "message": message, "status": rpc_status, "details": details}})


def test_exact_request(google, backend):
    backend.send(message())

    assert len(google.token_requests) == 1
    [request] = google.fcm_requests
    assert request.method == "POST"
    assert request.url == FCM_URL
    assert request.headers["Authorization"] == f"Bearer {ACCESS_TOKEN}"
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.body) == {
        "message": {
            "token": "fcm-device-token-abc",
            "notification": {"title": "Login request", "body": "New login from Lisbon, Portugal"},
            "data": {"type": "pushmfa.challenge", "challenge_id": "0b6f1e4c-43a6-4c0e-9a55-1d2f0a3c9e71"},
            "android": {
                "priority": "high",
                "ttl": "117s",
                "collapse_key": "pushmfa-0123456789abcdef",
                "notification": {"tag": "pushmfa-0123456789abcdef"},
            },
            "apns": {
                "headers": {
                    "apns-push-type": "alert",
                    "apns-priority": "10",
                    "apns-expiration": str(NOW + 117),
                    "apns-collapse-id": "pushmfa-0123456789abcdef",
                },
                "payload": {"aps": {"sound": "default"}},
            },
        },
        "validate_only": False,
    }
    # Both the token fetch and the send are bounded by OPTIONS["TIMEOUT"].
    assert request.sent_timeout == 5 and google.token_requests[0].sent_timeout == 5
    # pyfcm's canonical encoding: compact, sorted keys.
    assert request.body == json.dumps(json.loads(request.body), separators=(",", ":"), sort_keys=True).encode()


def test_one_token_serves_many_sends_across_threads(google, backend):
    results = backend.send_many([message(device_token=f"token-{i}") for i in range(6)])
    results += backend.send_many([message(device_token="token-again")])

    assert all(r.ok for r in results)
    assert len(google.fcm_requests) == 7
    assert len(google.token_requests) == 1
    assert {json.loads(r.body)["message"]["token"] for r in google.fcm_requests} == {
        *(f"token-{i}" for i in range(6)),
        "token-again",
    }


@pytest.mark.parametrize(
    "answer, exc_type, code",
    [
        (fcm_error(404, "NOT_FOUND", "UNREGISTERED", "Requested entity was not found."), PushTokenUnregistered,
         "UNREGISTERED"),
        (fcm_error(404, "NOT_FOUND"), PushTokenUnregistered, "NOT_FOUND"),
        (fcm_error(400, "INVALID_ARGUMENT", "INVALID_ARGUMENT",
                   "The registration token is not a valid FCM registration token"), PushTokenUnregistered,
         "INVALID_ARGUMENT"),
        (fcm_error(400, "INVALID_ARGUMENT", "INVALID_ARGUMENT", "Invalid value at 'message.android.ttl'"),
         PushError, "INVALID_ARGUMENT"),
        (fcm_error(500, "INTERNAL", "INTERNAL"), PushTemporaryError, "INTERNAL"),
        (fcm_error(503, "UNAVAILABLE", "UNAVAILABLE"), PushTemporaryError, "UNAVAILABLE"),
        (fcm_error(429, "RESOURCE_EXHAUSTED", "QUOTA_EXCEEDED"), PushTemporaryError, "QUOTA_EXCEEDED"),
        (fcm_error(401, "UNAUTHENTICATED", None, "Request had invalid authentication credentials."),
         PushConfigurationError, "UNAUTHENTICATED"),
        (fcm_error(401, "UNAUTHENTICATED", "THIRD_PARTY_AUTH_ERROR"), PushConfigurationError,
         "THIRD_PARTY_AUTH_ERROR"),
        (fcm_error(403, "PERMISSION_DENIED", "SENDER_ID_MISMATCH"), PushConfigurationError, "SENDER_ID_MISMATCH"),
    ],
)
def test_error_mapping(google, backend, answer, exc_type, code):
    google.fcm_answers.append(answer)
    with pytest.raises(PushError) as info:
        backend.send(message())
    assert type(info.value) is exc_type
    assert info.value.provider_code == code
    assert info.value.status == answer[0]
    assert "fcm-device-token-abc" not in str(info.value)


def test_invalid_token_by_field_violation(google, backend):
    status, body = fcm_error(400, "INVALID_ARGUMENT", "INVALID_ARGUMENT", "Request contains an invalid argument.")
    body["error"]["details"].append(
        {"@type": "type.googleapis.com/google.rpc.BadRequest",
         "fieldViolations": [{"field": "message.token", "description": "Invalid registration token"}]}
    )
    google.fcm_answers.append((status, body))
    with pytest.raises(PushTokenUnregistered):
        backend.send(message())


def test_expired_access_token_is_refreshed_once(google, backend):
    status, body = fcm_error(401, "UNAUTHENTICATED", None, "Request had invalid authentication credentials.")
    body["error"]["details"].append(
        {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "ACCESS_TOKEN_EXPIRED"}
    )
    google.fcm_answers.append((status, body))

    backend.send(message())

    assert len(google.fcm_requests) == 2
    assert len(google.token_requests) == 2


def test_timeouts_and_connection_errors_are_temporary(google, backend):
    google.fcm_answers.append(requests.ReadTimeout("read timed out"))
    with pytest.raises(PushTemporaryError) as info:
        backend.send(message())
    assert info.value.provider_code == "timeout"
    google.fcm_answers.append(requests.ConnectionError("refused"))
    with pytest.raises(PushTemporaryError) as info:
        backend.send(message())
    assert info.value.provider_code == "connection"


def test_refused_service_account_is_a_configuration_error(google, backend):
    google.token_answer = (400, {"error": "invalid_grant", "error_description": "Invalid JWT Signature."})
    with pytest.raises(PushConfigurationError) as info:
        backend.send(message())
    assert info.value.provider_code == "oauth"
    assert google.fcm_requests == []


def test_retry_after_does_not_block(google, backend, monkeypatch):
    status, body = fcm_error(429, "RESOURCE_EXHAUSTED", "QUOTA_EXCEEDED")
    google.fcm_answers.append((status, body, {"Retry-After": "30"}))
    monkeypatch.setattr("time.sleep", lambda seconds: pytest.fail(f"slept {seconds}s"))
    with pytest.raises(PushTemporaryError):
        backend.send(message())
    assert len(google.fcm_requests) == 1


@pytest.mark.parametrize(
    "options, text",
    [
        ({}, "exactly one of"),
        ({"SERVICE_ACCOUNT_FILE": "/nonexistent/sa.json"}, "unusable service account"),
        ({"CREDENTIALS": {"type": "service_account"}}, "unusable service account"),
    ],
)
def test_bad_options(options, text):
    with pytest.raises(PushConfigurationError, match=text):
        fcm.PushBackend(options)


def test_missing_project(service_account):
    del service_account["project_id"]
    with pytest.raises(PushConfigurationError, match="PROJECT_ID"):
        fcm.PushBackend({"CREDENTIALS": service_account})
    assert fcm.PushBackend({"CREDENTIALS": service_account, "PROJECT_ID": PROJECT}).client.fcm_end_point == FCM_URL


def test_service_account_file(tmp_path, service_account, google):
    path = tmp_path / "sa.json"
    path.write_text(json.dumps(service_account))
    fcm.PushBackend({"SERVICE_ACCOUNT_FILE": str(path)}).send(message())
    assert google.fcm_requests[0].url == FCM_URL
