"""Schemathesis over the app's own OpenAPI schema, against a live server, with every authentication.

Every operation of the served schema is fuzzed with schema-valid and schema-violating data (the
positive and negative generation modes), authenticated as the contract says: a pending-MFA session
for the browser endpoints, a logged-in session for the account endpoints, a signature for the device
endpoints (see ``fuzz_world``). What must hold for every answer: no 5xx, the answer conforms to the
schema (status, content type, body, headers), and every error carries the contract's ``code``.

Bounded for CI: ``PUSHMFA_FUZZ_EXAMPLES`` examples per operation and mode (default 15), derandomized
(the seed is derived from the test id, so a run is reproducible). A longer run::

    PUSHMFA_FUZZ_EXAMPLES=500 .venv/bin/pytest tests/hardening/test_fuzz_schema.py
"""
from __future__ import annotations

import contextlib
import io
import os

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from .conftest import KNOWN_ERROR_CODES
from .fuzz_world import FuzzWorld

MAX_EXAMPLES = int(os.environ.get("PUSHMFA_FUZZ_EXAMPLES", "15"))

# "Schema-valid data must be accepted" does not hold for secrets: a well-formed TOTP code, pairing
# token or WebAuthn assertion that is wrong must be refused (400 invalid_code...). Everything else
# schemathesis checks stays on: no 5xx, documented status codes, content type, body schema, headers,
# negative data rejected, authentication not ignored.
EXCLUDED_CHECKS = [positive_data_acceptance]


def _operation_keys() -> list[str]:
    """``"METHOD /path"`` of every operation in the app's schema (generated here, served by the app)."""
    from django_pushmfa.api.schema import build_schema

    with contextlib.redirect_stderr(io.StringIO()):  # drf-spectacular's notes about views
        document = build_schema()
    methods = {"get", "post", "put", "patch", "delete"}
    return sorted(f"{m.upper()} {p}" for p, ops in document["paths"].items() for m in ops if m in methods)


def pytest_generate_tests(metafunc):
    if "operation_key" in metafunc.fixturenames:
        metafunc.parametrize("operation_key", _operation_keys())


@pytest.fixture
def fuzz_world(live_server, user, password, settings):
    # The fuzzer starts many pushes and types many codes: the limits (tested on their own) stay out
    # of the way, and a generated wait=30 must not stall the run.
    settings.PUSHMFA_PUSH_RATE_LIMIT_USER = (100_000, 900)
    settings.PUSHMFA_PUSH_RATE_LIMIT_IP = (100_000, 900)
    settings.PUSHMFA_SUSPEND_AFTER_DENIALS = 100_000
    settings.PUSHMFA_SUSPEND_AFTER_REPORTS = 100_000
    settings.PUSHMFA_CODE_FAILURE_FREE_ATTEMPTS = 100_000
    settings.PUSHMFA_LONG_POLL_MAX_WAIT = 1
    return FuzzWorld.build(live_server.url, user.get_username(), password)


def _error_has_code(response) -> None:
    if response.status_code >= 400:
        body = response.json()
        assert isinstance(body, dict) and body.get("code") in KNOWN_ERROR_CODES, body
        assert isinstance(body.get("detail"), str) and body["detail"], body


def test_served_schema_covers_the_contract(live_server):
    import requests

    document = requests.get(f"{live_server.url}/mfa/api/schema/?format=json", timeout=30).json()
    paths = set(document["paths"])
    for path in (
        "/api/methods/",
        "/api/push/",
        "/api/push/{challenge_id}/",
        "/api/totp/verify/",
        "/api/backup-codes/verify/",
        "/api/webauthn/begin/",
        "/api/webauthn/complete/",
        "/api/credentials/",
        "/api/credentials/{credential_id}/",
        "/api/devices/pairing/",
        "/api/totp/setup/",
        "/api/totp/confirm/",
        "/api/backup-codes/",
        "/api/webauthn/register/begin/",
        "/api/webauthn/register/complete/",
        "/api/device/register/",
        "/api/device/challenges/",
        "/api/device/challenges/{challenge_id}/",
        "/api/device/challenges/{challenge_id}/respond/",
        "/api/device/push-token/",
        "/api/device/",
        "/api/app/login/",
        "/api/app/logout/",
    ):
        assert path in paths, path


def test_operation(operation_key, fuzz_world):
    method, path = operation_key.split(" ", 1)
    schema = schemathesis.openapi.from_url(f"{fuzz_world.base_url}/mfa/api/schema/?format=json")
    operation = schema[path][method]
    cases = st.one_of(
        operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
        operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
    )

    statuses: list[int] = []

    @given(case=cases)
    @hypothesis_settings(
        max_examples=MAX_EXAMPLES * 2,
        derandomize=True,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def fuzz(case):
        kwargs = fuzz_world.call_kwargs(case)
        response = case.call(**kwargs)
        statuses.append(response.status_code)
        assert response.status_code < 500, (case.as_curl_command(), response.status_code, response.text[:500])
        _error_has_code(response)
        case.validate_response(response, transport_kwargs=kwargs, excluded_checks=EXCLUDED_CHECKS)

    fuzz()
    # the authentication set-up worked: some requests got past it (else the run proved little)
    assert any(code not in (401, 403) for code in statuses), statuses
