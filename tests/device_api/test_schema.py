"""The OpenAPI document: generates cleanly, validates, and describes every endpoint of the contract."""

from __future__ import annotations

import json

import drf_spectacular  # noqa: F401 - a test dependency: its absence is a failure
import pytest
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.validation import validate_schema

from django_pushmfa.api.schema import build_schema

# (path relative to the mount, method) for every endpoint in shared/api-contract.md.
CONTRACT = [
    ("/api/methods/", "get"),
    ("/api/push/", "post"),
    ("/api/push/{challenge_id}/", "get"),
    ("/api/totp/verify/", "post"),
    ("/api/backup-codes/verify/", "post"),
    ("/api/webauthn/begin/", "post"),
    ("/api/webauthn/complete/", "post"),
    ("/api/credentials/", "get"),
    ("/api/credentials/{credential_id}/", "delete"),
    ("/api/devices/pairing/", "post"),
    ("/api/totp/setup/", "post"),
    ("/api/totp/confirm/", "post"),
    ("/api/backup-codes/", "post"),
    ("/api/webauthn/register/begin/", "post"),
    ("/api/webauthn/register/complete/", "post"),
    ("/api/device/register/", "post"),
    ("/api/device/challenges/", "get"),
    ("/api/device/challenges/{challenge_id}/", "get"),
    ("/api/device/challenges/{challenge_id}/respond/", "post"),
    ("/api/device/push-token/", "put"),
    ("/api/device/", "delete"),
    # v1.1, "App clients"
    ("/api/app/login/", "post"),
    ("/api/app/logout/", "post"),
]
SIGNED = [
    ("/api/device/challenges/", "get"),
    ("/api/device/challenges/{challenge_id}/", "get"),
    ("/api/device/challenges/{challenge_id}/respond/", "post"),
    ("/api/device/push-token/", "put"),
    ("/api/device/", "delete"),
]


@pytest.fixture
def schema():
    GENERATOR_STATS.reset()
    with GENERATOR_STATS.silence():
        generated = build_schema()
    return generated


def test_schema_generates_without_warnings_or_errors(schema):
    problems = dict(GENERATOR_STATS._warn_cache) | dict(GENERATOR_STATS._error_cache)
    assert not problems, "\n".join(problems)


def test_device_endpoints_generate_without_warnings_or_errors(schema):
    problems = dict(GENERATOR_STATS._warn_cache) | dict(GENERATOR_STATS._error_cache)
    mine = [p for p in problems if "api/device" in p or "api/schema" in p or "api/authentication" in p]
    assert not mine, "\n".join(mine)


def test_schema_is_valid_openapi(schema):
    validate_schema(schema)
    assert schema["openapi"].startswith("3.")
    json.dumps(schema)  # serialisable as is


@pytest.mark.parametrize("path,method", CONTRACT)
def test_every_contract_endpoint_is_described(schema, path, method):
    assert path in schema["paths"], sorted(schema["paths"])
    operation = schema["paths"][path].get(method)
    assert operation is not None, f"{method.upper()} {path} missing"
    assert operation.get("operationId")
    statuses = {int(s) for s in operation["responses"]}
    assert any(200 <= s < 300 for s in statuses)
    for status_code, response in operation["responses"].items():
        if int(status_code) >= 400:
            ref = response["content"]["application/json"]["schema"]["$ref"]
            assert ref == "#/components/schemas/Error", (path, status_code)


def test_error_component_has_the_contract_shape(schema):
    error = schema["components"]["schemas"]["Error"]
    assert {"detail", "code"} <= set(error["properties"])
    assert set(error["required"]) == {"detail", "code"}


@pytest.mark.parametrize("path,method", SIGNED)
def test_signed_device_endpoints_use_the_signature_scheme(schema, path, method):
    operation = schema["paths"][path][method]
    assert operation["security"] == [{"PushMFASignature": []}]
    assert {"401"} <= set(operation["responses"])
    scheme = schema["components"]["securitySchemes"]["PushMFASignature"]
    assert scheme == {**scheme, "type": "apiKey", "in": "header", "name": "Authorization"}


def test_registration_is_unauthenticated_and_documents_its_errors(schema):
    operation = schema["paths"]["/api/device/register/"]["post"]
    assert operation["security"] == [{}]
    assert "invalid_pairing_token" in operation["responses"]["400"]["description"]
    request = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    fields = schema["components"]["schemas"][request]["properties"]
    assert set(fields) == {"pairing_token", "platform", "push_token", "public_key", "name", "language"}


def test_schema_is_served(client, db):
    response = client.get("/mfa/api/schema/?format=json")
    assert response.status_code == 200
    served = json.loads(response.content)
    assert served["servers"] == [{"url": "http://testserver/mfa"}]
    assert "/api/device/register/" in served["paths"]
    assert "/api/schema/" not in served["paths"]
    yaml_response = client.get("/mfa/api/schema/")
    assert yaml_response.status_code == 200 and b"openapi: 3" in yaml_response.content


# Session-backed endpoints an app client reaches with X-Session-Token (v1.1, "App clients").
SESSION_TOKEN = [
    (path, method)
    for path, method in CONTRACT
    if not path.startswith("/api/device/") and path != "/api/app/login/"
]


def test_session_token_header_is_a_security_scheme(schema):
    scheme = schema["components"]["securitySchemes"]["SessionToken"]
    assert scheme["type"] == "apiKey" and scheme["in"] == "header" and scheme["name"] == "X-Session-Token"


@pytest.mark.parametrize("path,method", SESSION_TOKEN)
def test_session_endpoints_accept_the_session_token(schema, path, method):
    security = schema["paths"][path][method].get("security", [])
    assert {"SessionToken": []} in security, (path, security)


def test_app_login_is_unauthenticated_and_documents_its_answers(schema):
    operation = schema["paths"]["/api/app/login/"]["post"]
    assert operation.get("security") in (None, [], [{}])
    assert {"200", "400", "429"} <= set(operation["responses"])
    assert "invalid_credentials" in operation["responses"]["400"]["description"]
    assert operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("AppLoginRequest")
