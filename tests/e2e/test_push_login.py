"""Push login with number matching in a real browser, against the served example site."""
from __future__ import annotations

import re

import pytest

from .conftest import (
    events,
    expect_signed_in,
    open_push_on_phone,
    open_simulator,
    password_step,
    screenshot,
    shown_number,
    sim_result,
)

pytestmark = pytest.mark.e2e


def test_number_matching_login_moves_on_by_itself(site, desktop):
    sim = open_simulator(desktop, site, "push_user")  # listening before the push is sent
    page = desktop.new_page()
    password_step(page, site, "push_user")
    number = shown_number(page)
    screenshot(page, "mfa_page")

    challenge = open_push_on_phone(sim)  # arrived without reloading the simulator
    assert challenge.locator('[data-sim-ctx="location"]').inner_text() == "This computer (localhost)"
    assert challenge.locator('[data-sim-ctx="ip"]').inner_text() == "127.0.0.1"
    assert challenge.locator('[data-sim-ctx="device"]').inner_text().strip() != ""
    choices = [c.get_attribute("data-sim-choice") for c in challenge.locator("[data-sim-choice]").all()]
    assert number in choices and len(choices) == 3
    screenshot(sim, "simulator_challenge")
    challenge.locator(f'[data-sim-choice="{number}"]').click()
    assert sim_result(sim) == "approved"
    screenshot(sim, "simulator_approved")

    # The sign-in page was not touched: it learns of the approval by itself.
    expect_signed_in(page, "push_user", "push")
    screenshot(page, "dashboard")
    assert len(events("push_user", "push_approved")) == 1
    assert len(events("push_user", "mfa_completed")) == 1


def test_a_reload_and_a_second_tab_show_the_same_push(site, desktop):
    """Issue 19: reloading the MFA page, or opening it in a second tab, sends no new push: it shows
    the one on its way. The first page's long poll, left waiting on the server, must not take the
    approval: the reloaded page signs in."""
    sim = open_simulator(desktop, site, "reload_user")
    page = desktop.new_page()
    password_step(page, site, "reload_user")
    number = shown_number(page)
    page.wait_for_timeout(300)  # the first page's long poll is waiting on the server now
    page.reload()
    assert shown_number(page) == number
    second = desktop.new_page()
    second.goto(page.url)
    assert shown_number(second) == number
    second.close()
    assert sim.locator("[data-sim-notification]").count() == 1  # one push, however many loads
    challenge = open_push_on_phone(sim)
    challenge.locator(f'[data-sim-choice="{number}"]').click()
    assert sim_result(sim) == "approved"
    expect_signed_in(page, "reload_user", "push")
    assert len(events("reload_user", "mfa_completed")) == 1


def test_wrong_number_is_denied_and_send_again_works(site, phone_sized):
    sim = open_simulator(phone_sized, site, "wrong_user")
    page = phone_sized.new_page()
    password_step(page, site, "wrong_user")
    number = shown_number(page)
    screenshot(page, "mfa_page_phone")

    challenge = open_push_on_phone(sim)
    screenshot(sim, "simulator_phone")
    choices = [c.get_attribute("data-sim-choice") for c in challenge.locator("[data-sim-choice]").all()]
    wrong = next(c for c in choices if c != number)
    challenge.locator(f'[data-sim-choice="{wrong}"]').click()
    assert sim_result(sim) == "wrong_number"

    denied = page.locator('[data-pushmfa-state="denied"]')
    denied.wait_for(state="visible")
    screenshot(page, "mfa_denied_phone")
    assert re.search(r"/mfa/authenticate/", page.url)  # still not signed in
    recorded = events("wrong_user", "push_mfa_wrong_number")
    assert len(recorded) == 1
    detail = recorded[0][1]
    assert number not in [str(v) for v in detail.values()]  # the event never holds the right answer

    # "Send again": a new challenge with its own number, which the phone can approve.
    sim.locator("[data-sim-done]").click()
    page.locator("[data-pushmfa-send]").click()
    page.locator('[data-pushmfa-state="pending"]').wait_for(state="visible")
    second = shown_number(page)
    challenge = open_push_on_phone(sim)
    challenge.locator(f'[data-sim-choice="{second}"]').click()
    assert sim_result(sim) == "approved"
    expect_signed_in(page, "wrong_user", "push")


def test_expired_challenge_shows_its_state(short_ttl_site, desktop):
    sim = open_simulator(desktop, short_ttl_site, "expiry_user")
    page = desktop.new_page()
    password_step(page, short_ttl_site, "expiry_user")
    shown_number(page)
    page.locator('[data-pushmfa-state="expired"]').wait_for(state="visible", timeout=20_000)
    screenshot(page, "mfa_expired")
    assert page.locator("[data-pushmfa-send]").is_visible()  # the way out: send again

    # The phone, answering too late, is told so and nothing is approved.
    sim.locator("[data-sim-notification]").first.click()
    assert sim_result(sim) == "challenge_expired"
    screenshot(sim, "simulator_expired")
    assert events("expiry_user", "push_approved") == []


def test_entry_mode_the_phone_types_the_number(entry_mode_site, phone_sized):
    sim = open_simulator(phone_sized, entry_mode_site, "entry_user")
    page = phone_sized.new_page()
    password_step(page, entry_mode_site, "entry_user")
    number = shown_number(page)
    challenge = open_push_on_phone(sim)
    assert challenge.locator("[data-sim-choice]").count() == 0  # no choices to pick from: a keypad
    for digit in number:
        challenge.locator(f'[data-sim-key="{digit}"]').click()
    assert challenge.locator("[data-sim-entry]").inner_text() == number
    screenshot(sim, "simulator_entry_mode_phone")
    challenge.locator("[data-sim-submit-entry]").click()
    assert sim_result(sim) == "approved"
    expect_signed_in(page, "entry_user", "push")


def test_this_wasnt_me_denies_and_suspends_push(site, desktop):
    sim = open_simulator(desktop, site, "report_user")
    page = desktop.new_page()
    password_step(page, site, "report_user")
    shown_number(page)
    challenge = open_push_on_phone(sim)
    challenge.locator("[data-sim-report]").click()
    assert sim_result(sim) == "reported"
    page.locator('[data-pushmfa-state="denied"]').wait_for(state="visible")
    assert len(events("report_user", "push_reported")) == 1

    # One report suspends push for the user (the default): a new push is refused, other methods remain.
    page.locator("[data-pushmfa-send]").click()
    page.locator('[data-pushmfa-state="error"]').wait_for(state="visible")
    screenshot(page, "mfa_push_suspended")
    assert page.locator('[data-pushmfa-method="totp"]').is_visible()

