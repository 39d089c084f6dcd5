"""Database errors during a login fail closed: the login is refused, no stored session holds the user.

Django answers an unhandled database error with a 500 and does not save the session of a 500 answer,
so a ``login()`` that already ran in the failing request is never persisted. The app does not turn
database errors into another status on purpose: a non-500 answer would save that session.
"""
from __future__ import annotations

import logging

import pyotp
import pytest
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.db import OperationalError, connection

from .conftest import API, is_logged_in, json_post, new_browser, password_login, poll, start_push

pytestmark = pytest.mark.django_db


def _fail_on(table: str):
    """An execute wrapper that drops the "connection" on any query touching ``table``."""

    def wrapper(execute, sql, params, many, context):
        if table in sql:
            raise OperationalError("server closed the connection unexpectedly")
        return execute(sql, params, many, context)

    return wrapper


def logged_in_sessions() -> set[str]:
    """Keys of the stored sessions that hold a logged-in user."""
    return {s.session_key for s in Session.objects.all() if SESSION_KEY in s.get_decoded()}


def _refused(client, response, caplog, before: set[str]) -> None:
    assert response.status_code == 500
    assert not is_logged_in(client)
    assert logged_in_sessions() == before  # no new logged-in session was stored
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR and r.name == "django.request"]
    assert len(errors) == 1  # visible to operators, once
    assert client.get("/api/whoami/", HTTP_ACCEPT="application/json").status_code == 403


def test_credential_lookup_failure_during_the_password_step(client, totp_user, password, caplog):
    client.raise_request_exception = False
    before = logged_in_sessions()
    with connection.execute_wrapper(_fail_on("pushmfa_mfacredential")):
        response = password_login(client, totp_user, password)
    _refused(client, response, caplog, before)
    # the database is back: the same browser goes through the MFA step as usual
    assert password_login(client, totp_user, password).status_code == 302
    assert not is_logged_in(client)
    ok = json_post(client, API + "totp/verify/", {"code": pyotp.TOTP(totp_user.totp_secret).now()})
    assert ok.status_code == 200 and is_logged_in(client)


def test_totp_lookup_failure_during_the_mfa_step(pending_client, totp_user, caplog):
    pending_client.raise_request_exception = False
    code = pyotp.TOTP(totp_user.totp_secret).now()
    before = logged_in_sessions()
    with connection.execute_wrapper(_fail_on("pushmfa_totpdevice")):
        response = json_post(pending_client, API + "totp/verify/", {"code": code})
    _refused(pending_client, response, caplog, before)


@pytest.mark.django_db(transaction=True)  # a failed INSERT inside the test's own transaction would poison it
def test_failure_while_completing_an_approved_push(push_user, password, caplog):
    """The approval is verified but recording the login fails: nobody is logged in, nothing of the
    login is committed (the old session row, deleted by login()'s key rotation, is back), and the
    approval is given back: once the database is back, the browser's next poll logs in, once."""
    from django_pushmfa.models import SecurityEvent

    browser = new_browser(push_user, password)
    browser.raise_request_exception = False
    started = start_push(browser)
    assert push_user.phone.approve(started["challenge_id"], started["display_number"]).status_code == 200
    before = logged_in_sessions()
    with connection.execute_wrapper(_fail_on("pushmfa_securityevent")):
        response = poll(browser, started["challenge_id"])
    _refused(browser, response, caplog, before)
    again = poll(browser, started["challenge_id"])
    assert again.status_code == 200 and again.json()["status"] == "approved"
    assert is_logged_in(browser)
    assert poll(browser, started["challenge_id"]).json() == {"status": "consumed"}
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.MFA_COMPLETED, user=push_user).count() == 1
