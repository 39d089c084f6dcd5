"""webauthn.js in a real browser (Chromium) with a virtual authenticator (DevTools protocol):
register a security key on the enrollment page, then sign in with it on the MFA page."""

from __future__ import annotations

import os
import re
import shutil

import pytest
from django.db import connections

from django_pushmfa.models import SecurityEvent, WebAuthnKey

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture
def page(monkeypatch):
    import playwright.sync_api as playwright_api  # a missing browser stack fails, never skips
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_context().new_page()
        cdp = page.context.new_cdp_session(page)
        cdp.send("WebAuthn.enable")
        cdp.send(
            "WebAuthn.addVirtualAuthenticator",
            {
                "options": {
                    "protocol": "ctap2",
                    "transport": "usb",
                    "hasResidentKey": True,
                    "hasUserVerification": True,
                    "isUserVerified": True,
                    "automaticPresenceSimulation": True,
                }
            },
        )
        try:
            yield page
        finally:
            # ORM calls made while Playwright's sync API runs get a connection of their own context;
            # close it here, or PostgreSQL refuses to drop the test database.
            connections.close_all()
            browser.close()


def sign_in_with_password(page, live_server, user, password):
    page.goto(f"{live_server.url}/accounts/login/?next=/private/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")


@pytest.mark.parametrize("passkey", [False, True])
def test_register_and_sign_in_with_a_key(page, live_server, settings, user, password, passkey):
    settings.PUSHMFA_WEBAUTHN_RP_ID = "localhost"
    settings.PUSHMFA_WEBAUTHN_ORIGINS = [live_server.url]
    sign_in_with_password(page, live_server, user, password)
    page.wait_for_url(re.compile(r"/private/$"))

    page.goto(f"{live_server.url}/mfa/webauthn/register/")
    page.fill("[data-pushmfa-webauthn-label]", "Virtual key")
    if passkey:
        page.check("[data-pushmfa-webauthn-passkey]")
    page.click("[data-pushmfa-webauthn-button]")
    page.wait_for_url(re.compile(r"/mfa/account/"), timeout=15000)
    key = WebAuthnKey.objects.select_related("credential").get()
    assert key.credential.label == "Virtual key" and key.is_passkey is passkey

    page.context.clear_cookies()
    sign_in_with_password(page, live_server, user, password)
    page.wait_for_url(re.compile(r"/mfa/authenticate/"))
    page.click("[data-pushmfa-webauthn-button]")
    page.wait_for_url(re.compile(r"/private/$"), timeout=15000)
    assert f"private page for {user.username}" in page.content()
    assert SecurityEvent.objects.filter(user=user, kind="mfa_completed", detail__method="webauthn").exists()
