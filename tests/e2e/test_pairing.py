"""Pairing a new simulated phone from the account page's pairing link, then signing in with it."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .conftest import expect_signed_in, password_step, screenshot, shown_number, sim_result, totp_step

pytestmark = pytest.mark.e2e


def test_pair_a_phone_from_the_account_page_and_use_it(site, desktop):
    page = desktop.new_page()
    password_step(page, site, "pair_user")
    totp_step(page, site, "pair_user")
    expect_signed_in(page, "pair_user", "totp")

    page.goto(site.url + "/mfa/account/")
    page.get_by_role("button", name=re.compile("Pair a phone")).click()
    pairing = page.locator("#pushmfa-pairing")
    pairing.wait_for(state="visible")
    assert pairing.locator("svg").count() >= 1  # the QR code, drawn server-side
    screenshot(page, "account_pairing")
    pairing.locator("summary").click()
    uri = pairing.locator(".pushmfa-uri").inner_text().strip()
    assert uri.startswith("pushmfa://pair?")

    sim = desktop.new_page()
    sim.goto(site.url + "/simulator/")
    sim.locator(".sim-pair summary").click()
    sim.fill("[data-sim-pair-uri]", uri)
    sim.fill("[data-sim-pair-name]", "Second phone")
    sim.locator("[data-sim-pair-submit]").click()
    # The simulator showed another phone before: wait for the new one's name, not just any idle screen.
    expect(sim.locator("[data-sim-device-name]")).to_contain_text("Second phone")
    sim.locator('[data-sim-screen="idle"]').wait_for(state="visible")
    screenshot(sim, "simulator_paired")

    # The same link cannot pair a second phone.
    sim.locator(".sim-pair summary").click()
    sim.fill("[data-sim-pair-uri]", uri)
    sim.fill("[data-sim-pair-name]", "Third phone")
    sim.locator("[data-sim-pair-submit]").click()
    sim.locator("[data-sim-pair-error]").wait_for(state="visible")

    # Sign out and in: the push reaches the new phone, which approves it.
    page.goto(site.url + "/dashboard/")
    page.locator("[data-logout]").click()
    page.wait_for_url(re.compile(r"/$"))
    password_step(page, site, "pair_user")
    number = shown_number(page)
    notification = sim.locator("[data-sim-notification]").first
    notification.wait_for(state="visible")
    notification.click()
    sim.locator(f'[data-sim-choice="{number}"]').click()
    assert sim_result(sim) == "approved"
    expect_signed_in(page, "pair_user", "push")
