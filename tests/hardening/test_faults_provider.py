"""Push provider down, hung or erroring: the challenge exists, the phone finds it by polling, the browser
is approved, and the failure is logged once with the provider's code (never at ERROR for an outage)."""
from __future__ import annotations

import logging
import time

import pytest
from google.oauth2.credentials import Credentials

from django_pushmfa.push.backends import locmem

from . import push_backends
from .conftest import is_logged_in, poll, start_push
from .push_backends import FakeFCMServer

pytestmark = pytest.mark.django_db


def _backends(settings, backend: str, **options) -> None:
    config = {"BACKEND": backend, "OPTIONS": options}
    settings.PUSHMFA_PUSH_BACKENDS = {"fcm": config, "apns": config}


@pytest.fixture(autouse=True)
def _clear_attempts():
    push_backends.attempts.clear()
    yield
    push_backends.attempts.clear()


def _records_naming(caplog, code: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if code in r.getMessage()]


def _approve_through_poll_fallback(push_user, browser, started) -> None:
    """The phone never got the push; it lists its pending challenges and answers the one shown."""
    listed = push_user.phone.challenges().json()["challenges"]
    assert [c["challenge_id"] for c in listed] == [started["challenge_id"]]
    assert push_user.phone.approve(started["challenge_id"], started["display_number"]).status_code == 200
    answer = poll(browser, started["challenge_id"])
    assert answer.json()["status"] == "approved"
    assert is_logged_in(browser)


def test_provider_down(push_user, browser, settings, caplog):
    _backends(settings, "tests.hardening.push_backends.DownPushBackend", PROVIDER_CODE="UNAVAILABLE")
    caplog.set_level(logging.INFO)
    started = start_push(browser)
    assert len(push_backends.attempts) == 1
    records = _records_naming(caplog, "UNAVAILABLE")
    assert len(records) == 1, [r.getMessage() for r in caplog.records]
    assert records[0].levelno == logging.WARNING
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    _approve_through_poll_fallback(push_user, browser, started)


def test_backend_bug_does_not_break_the_login(push_user, browser, settings, caplog):
    _backends(settings, "tests.hardening.push_backends.CrashingPushBackend")
    started = start_push(browser)
    assert len(push_backends.attempts) == 1
    assert len([r for r in caplog.records if r.levelno >= logging.ERROR]) == 1  # a bug is an error, once
    _approve_through_poll_fallback(push_user, browser, started)


@pytest.fixture
def fcm_server(request):
    server = FakeFCMServer(request.param)
    yield server
    server.close()


def _fcm(settings, server: FakeFCMServer, timeout: float) -> None:
    _backends(
        settings,
        "tests.hardening.push_backends.LocalFCMBackend",
        CREDENTIALS=Credentials(token="test-access-token"),
        PROJECT_ID="demo",
        ENDPOINT=server.endpoint,
        TIMEOUT=timeout,
    )


@pytest.mark.parametrize("fcm_server", ["hang"], indirect=True)
def test_hung_provider_is_bounded_by_the_configured_timeout(push_user, browser, settings, caplog, fcm_server):
    _fcm(settings, fcm_server, timeout=0.5)
    began = time.monotonic()
    started = start_push(browser)
    elapsed = time.monotonic() - began
    assert fcm_server.requests >= 1
    assert elapsed < 3, f"push start took {elapsed:.1f}s with a 0.5s provider timeout"
    records = _records_naming(caplog, "provider_code=timeout")
    assert len(records) == 1, [r.getMessage() for r in caplog.records]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    _approve_through_poll_fallback(push_user, browser, started)


@pytest.mark.parametrize("fcm_server", ["unavailable"], indirect=True)
def test_provider_answering_errors(push_user, browser, settings, caplog, fcm_server):
    _fcm(settings, fcm_server, timeout=2)
    started = start_push(browser)
    assert fcm_server.requests == 1  # an answered error is not retried while the user waits
    records = _records_naming(caplog, "UNAVAILABLE")
    assert len(records) == 1, [r.getMessage() for r in caplog.records]
    assert "test-access-token" not in caplog.text  # no credential in the logs
    assert push_user.phone.device_id  # the device stays usable: not marked dead for an outage
    from django_pushmfa.models import PushDevice

    assert PushDevice.objects.get(pk=push_user.phone.device_id).token_dead_at is None
    _approve_through_poll_fallback(push_user, browser, started)


def test_locmem_outbox_untouched_by_failing_providers(push_user, browser, settings):
    _backends(settings, "tests.hardening.push_backends.DownPushBackend")
    start_push(browser)
    assert locmem.outbox == []
