"""The server-rendered pages under junk: odd query strings, methods and form posts never give a 500."""
from __future__ import annotations

import logging

import pytest

PAGES = ["/mfa/authenticate/", "/mfa/account/", "/mfa/totp/setup/", "/mfa/backup-codes/", "/mfa/webauthn/register/"]
QUERIES = ["", "?next=%00", "?next=" + "a" * 5000, "?next=https://evil.example/", "?next=%E2%98%83&next=/", "?%ff=%fe"]

pytestmark = pytest.mark.django_db


def _no_crash(response, caplog) -> None:
    assert response.status_code < 500, response.status_code
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.parametrize("page", PAGES)
def test_pages_for_a_pending_browser(pending_client, page, caplog):
    for query in QUERIES:
        _no_crash(pending_client.get(page + query, HTTP_ACCEPT="text/html"), caplog)
        _no_crash(pending_client.post(page + query, {"code": "\x00", "label": "x" * 10_000}), caplog)
        _no_crash(pending_client.put(page, b"\xff\x00", content_type="application/octet-stream"), caplog)


@pytest.mark.parametrize("page", PAGES)
def test_pages_for_a_logged_in_browser(account_client, page, caplog):
    for query in QUERIES:
        _no_crash(account_client.get(page + query, HTTP_ACCEPT="text/html"), caplog)
        _no_crash(account_client.post(page + query, {"code": "\x00", "label": "x\x00" * 100}), caplog)


@pytest.mark.parametrize("page", PAGES)
def test_pages_for_a_stranger(client, page, caplog):
    for query in QUERIES:
        _no_crash(client.get(page + query, HTTP_ACCEPT="text/html"), caplog)
        _no_crash(client.post(page + query, {"code": "123456"}), caplog)
