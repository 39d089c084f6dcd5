"""Database connection errors during a login fail closed: nobody is logged in, no session holds a user."""
from __future__ import annotations

import logging

import pytest
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.db import OperationalError, connection

from .conftest import is_logged_in, password_login

pytestmark = pytest.mark.django_db


def _fail_on(table: str):
    """An execute wrapper that drops the "connection" on any query touching ``table``."""

    def wrapper(execute, sql, params, many, context):
        if table in sql:
            raise OperationalError("server closed the connection unexpectedly")
        return execute(sql, params, many, context)

    return wrapper


def _no_session_is_logged_in() -> None:
    for session in Session.objects.all():
        assert SESSION_KEY not in session.get_decoded()


@pytest.mark.parametrize("table", ["pushmfa_mfacredential", "pushmfa_securityevent"])
def test_credential_lookup_failure_during_password_step_fails_closed(client, totp_user, password, table, caplog):
    client.raise_request_exception = False
    with connection.execute_wrapper(_fail_on(table)):
        response = password_login(client, totp_user, password)
    # either an error answer or the pending state, but never a logged-in session
    assert not is_logged_in(client)
    _no_session_is_logged_in()
    page = client.get("/private/", HTTP_ACCEPT="application/json")
    assert page.status_code == 302
    assert "/private/" not in page["Location"] or page["Location"].startswith(("/accounts/login/", "/mfa/"))
    if response.status_code >= 500:
        # the failure is visible to operators, once
        assert [r for r in caplog.records if r.levelno >= logging.ERROR]

