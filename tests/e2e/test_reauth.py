"""Step-up and "Your sessions" in a real browser: re-authenticate with push before pairing a second
phone, forget a remembered browser, and "sign out everywhere else"."""
from __future__ import annotations

import re
import time

import pytest

from .conftest import (
    SHORT_REAUTH_WINDOW,
    events,
    expect_signed_in,
    open_push_on_phone,
    open_simulator,
    password_step,
    screenshot,
    shown_number,
    sim_result,
    totp_step,
)

pytestmark = pytest.mark.e2e


def test_reauthenticate_with_push_before_pairing_a_second_phone(short_reauth_site, desktop):
    site = short_reauth_site
    sim = open_simulator(desktop, site, "reauth_user")
    page = desktop.new_page()
    password_step(page, site, "reauth_user")
    totp_step(page, site, "reauth_user")
    expect_signed_in(page, "reauth_user", "totp")
    time.sleep(SHORT_REAUTH_WINDOW + 1)  # the login's own step is no longer recent

    page.goto(site.url + "/mfa/account/")
    page.get_by_role("button", name=re.compile("Pair a phone")).click()
    page.wait_for_url(re.compile(r"/mfa/reauthenticate/\?next="))
    assert "Confirm it" in page.locator("h1").inner_text()
    number = shown_number(page)  # the push section starts by itself
    screenshot(page, "reauthenticate_push")
    challenge = open_push_on_phone(sim)
    screenshot(sim, "simulator_reauthentication")
    challenge.locator(f'[data-sim-choice="{number}"]').click()
    assert sim_result(sim) == "approved"

    page.wait_for_url(re.compile(r"/mfa/account/$"))  # back where the user was
    page.get_by_role("button", name=re.compile("Pair a phone")).click()
    pairing = page.locator("#pushmfa-pairing")
    pairing.wait_for(state="visible")
    assert pairing.locator("svg").count() >= 1
    [(_actor, detail)] = events("reauth_user", "reauthenticated")
    assert detail["method"] == "push"


def test_forget_a_remembered_browser(site, desktop):
    page = desktop.new_page()
    password_step(page, site, "browser_user")
    from .conftest import choose_method, next_totp_code

    choose_method(page, "totp")
    page.fill("#pushmfa-totp-code", next_totp_code(site.accounts["browser_user"]["totp_secret"]))
    page.locator("form:has(#pushmfa-totp-code) input[name=remember]").check()
    page.locator("form:has(#pushmfa-totp-code) button[type=submit]").click()
    expect_signed_in(page, "browser_user", "totp")

    # remembered: the next login skips the MFA step
    page.locator("[data-logout]").click()
    page.wait_for_url(re.compile(r"/$"))
    page.goto(site.url + "/dashboard/")
    page.fill("#id_username", "browser_user")
    page.fill("#id_password", "e2e-Pa55word-not-secret")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/dashboard/"))

    page.goto(site.url + "/mfa/account/")
    browsers = page.locator("[data-pushmfa-browser]")
    assert browsers.count() == 1
    screenshot(page, "account_sessions_and_browsers", full_page=True)
    browsers.first.get_by_role("button", name="Forget").click()
    page.wait_for_url(re.compile(r"/mfa/account/"))
    assert page.locator("[data-pushmfa-browser]").count() == 0

    page.goto(site.url + "/dashboard/")
    page.locator("[data-logout]").click()
    page.wait_for_url(re.compile(r"/$"))
    password_step(page, site, "browser_user")  # ends on the MFA step again
    assert len(events("browser_user", "browser_forgotten")) == 1


def test_sign_out_everywhere_else(site, browser):
    laptop = browser.new_context(viewport={"width": 1280, "height": 860})
    other = browser.new_context(viewport={"width": 1280, "height": 860})
    for context in (laptop, other):
        context.set_default_timeout(30_000)
    try:
        sim = open_simulator(other, site, "everywhere_user")
        elsewhere = other.new_page()
        password_step(elsewhere, site, "everywhere_user")
        number = shown_number(elsewhere)
        open_push_on_phone(sim).locator(f'[data-sim-choice="{number}"]').click()
        expect_signed_in(elsewhere, "everywhere_user", "push")

        page = laptop.new_page()
        password_step(page, site, "everywhere_user")
        totp_step(page, site, "everywhere_user")
        expect_signed_in(page, "everywhere_user", "totp")

        page.goto(site.url + "/mfa/account/")
        assert page.locator("[data-pushmfa-session]").count() == 2
        page.on("dialog", lambda dialog: dialog.accept())
        page.locator("[data-pushmfa-sign-out-others]").click()
        page.wait_for_url(re.compile(r"/mfa/account/"))
        assert page.locator("[data-pushmfa-session]").count() == 1

        elsewhere.goto(site.url + "/dashboard/")
        elsewhere.locator("#id_username").wait_for(state="visible")  # sent to the login page
        assert elsewhere.locator("[data-welcome]").count() == 0
        page.goto(site.url + "/dashboard/")
        expect_signed_in(page, "everywhere_user", "totp")
        [(_actor, detail)] = events("everywhere_user", "sessions_ended")
        assert detail["reason"] == "signed_out_others" and detail["sessions"] == 1
    finally:
        laptop.close()
        other.close()
