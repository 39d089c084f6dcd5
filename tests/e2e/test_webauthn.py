"""A security key through Chromium's virtual authenticator (DevTools WebAuthn domain)."""
from __future__ import annotations

import re

import pytest

from .conftest import choose_method, events, expect_signed_in, password_step, screenshot, totp_step

pytestmark = pytest.mark.e2e


def add_virtual_authenticator(context, page) -> str:
    """A platform authenticator with user verification, as a phone's or laptop's passkey store."""
    cdp = context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    options = {
        "protocol": "ctap2",
        "transport": "internal",
        "hasResidentKey": True,
        "hasUserVerification": True,
        "isUserVerified": True,
        "automaticPresenceSimulation": True,
    }
    result = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": options})
    page._pushmfa_cdp = cdp  # keep the session (and so the authenticator) alive with the page
    return result["authenticatorId"]


def test_register_a_security_key_then_sign_in_with_it(site, desktop):
    page = desktop.new_page()
    authenticator_id = add_virtual_authenticator(desktop, page)

    # Signed in with TOTP, the user adds a security key on the account page.
    password_step(page, site, "key_user")
    totp_step(page, site, "key_user")
    expect_signed_in(page, "key_user", "totp")
    page.goto(site.url + "/mfa/account/")
    page.locator('a[href*="webauthn/register"]').click()
    page.fill("[data-pushmfa-webauthn-label]", "Virtual key")
    page.locator("[data-pushmfa-webauthn-button]").click()
    page.wait_for_url(re.compile(r"/mfa/account/"))
    assert "Virtual key" in page.content()
    credentials = page._pushmfa_cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})
    assert len(credentials["credentials"]) == 1
    assert len(events("key_user", "credential_added")) == 4  # phone, TOTP, backup codes, the key

    # Sign out, then in again: the key answers the MFA step.
    page.goto(site.url + "/dashboard/")
    page.locator("[data-logout]").click()
    page.wait_for_url(re.compile(r"/$"))
    password_step(page, site, "key_user")
    if "method=webauthn" not in page.url and page.locator('[data-pushmfa-method="webauthn"]').count():
        choose_method(page, "webauthn")
    screenshot(page, "mfa_security_key")
    page.locator("[data-pushmfa-webauthn-button]").click()
    expect_signed_in(page, "key_user", "webauthn")
    sign_count = page._pushmfa_cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})
    assert sign_count["credentials"][0]["signCount"] >= 1
