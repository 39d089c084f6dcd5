"""Issue 19, "The first ten minutes": the pages as a new user and a site owner meet them.

- every page keeps the site's header, logo, navigation and name (PUSHMFA_BASE_TEMPLATE);
- pairing says whose app to open, offers a copy button and a tappable link, and notices the phone;
- "Trust this browser" on the normal path; a wrong number said as such; a rate-limited page that
  says when to retry; removing a method names it; "just now"; a mistyped code stays editable;
- accessibility: a live region present at load, a countdown outside it, focus on each new state,
  axe-core on every page;
- the simulator leaves no notification over a request; demo phones have distinct names;
- the admin: a dashboard, change lists that fit 1280 px, a reset page that says each method once.

``test_every_page`` regenerates ``docs/screenshots/<page>-desktop.png`` (1280×800) and
``<page>-phone.png`` (390×844).
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from .a11y import assert_accessible
from .conftest import (
    ROOT,
    choose_method,
    db_query,
    events,
    expect_signed_in,
    next_totp_code,
    open_push_on_phone,
    open_simulator,
    password_step,
    shown_number,
    sim_result,
    totp_step,
)
from .test_admin import admin_login

pytestmark = pytest.mark.e2e

SHOTS = ROOT / "docs" / "screenshots"
VIEWPORTS = {
    "desktop": {"viewport": {"width": 1280, "height": 800}},
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
}
SITE_NAME = "Acme Workspace"
# Recorded at DOMContentLoaded: is a live region of the push section in the page, shown, from the start?
LIVE_AT_LOAD = """
document.addEventListener("DOMContentLoaded", () => {
  const region = document.querySelector("[data-pushmfa-push] [aria-live], [data-pushmfa-push] [role=status]");
  window.__pushmfaLiveAtLoad = !!region && !region.closest("[hidden]");
});
"""


def shot(page, name: str, viewport: str, *, full_page: bool = True) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}-{viewport}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def assert_site_chrome(page) -> None:
    """The site's own header (logo, navigation) around the page, and its name in the title."""
    expect(page.locator("header.topbar .brand")).to_be_visible()
    title = page.title()
    assert SITE_NAME in title and "localhost" not in title, title


def assert_fits(page, width: int) -> None:
    scroll = page.evaluate("() => document.documentElement.scrollWidth")
    assert scroll <= width, f"{page.url} is {scroll}px wide in a {width}px window"


@pytest.fixture(params=list(VIEWPORTS))
def viewport(request, browser):
    context = browser.new_context(**VIEWPORTS[request.param])
    context.set_default_timeout(30_000)
    yield request.param, context
    context.close()


def test_every_page(site, browser, viewport):
    name, context = viewport
    width = VIEWPORTS[name]["viewport"]["width"]
    username = f"ux_tour_{name}"
    sim = open_simulator(context, site, username)
    shot(sim, "simulator-idle", name)

    page = context.new_page()
    page.goto(site.url + "/accounts/login/")
    shot(page, "login", name)
    password_step(page, site, username)
    number = shown_number(page)
    assert_site_chrome(page)
    shot(page, "mfa-push-pending", name)
    assert_accessible(page)
    assert_fits(page, width)

    challenge = open_push_on_phone(sim)
    shot(sim, "simulator-challenge", name)
    wrong = next(c.get_attribute("data-sim-choice") for c in challenge.locator("[data-sim-choice]").all()
                 if c.get_attribute("data-sim-choice") != number)
    challenge.locator(f'[data-sim-choice="{wrong}"]').click()
    assert sim_result(sim) == "wrong_number"
    shot(sim, "simulator-wrong-number", name)
    expect(page.locator('[data-pushmfa-denied="wrong_number"]')).to_be_visible()
    shot(page, "mfa-push-wrong-number", name)
    assert_accessible(page)

    choose_method(page, "backup_code")
    assert_site_chrome(page)
    shot(page, "mfa-backup-code", name)
    choose_method(page, "totp")
    page.fill("#pushmfa-totp-code", "000000")
    page.locator("form:has(#pushmfa-totp-code) button[type=submit]").click()
    expect(page.locator("#pushmfa-totp-error")).to_be_visible()
    shot(page, "mfa-totp-error", name)
    assert_accessible(page)
    page.fill("#pushmfa-totp-code", next_totp_code(site.accounts[username]["totp_secret"]))
    page.locator("form:has(#pushmfa-totp-code) button[type=submit]").click()
    expect_signed_in(page, username, "totp")
    shot(page, "dashboard", name)

    page.goto(site.url + "/mfa/account/")
    assert_site_chrome(page)
    back = page.locator("[data-pushmfa-back]")
    expect(back).to_have_text(re.compile(f"Back to {SITE_NAME}"))
    assert back.get_attribute("href") == "/dashboard/"
    shot(page, "account", name)
    assert_accessible(page)
    assert_fits(page, width)
    page.get_by_role("button", name=re.compile("Pair a phone")).click()
    page.locator("#pushmfa-pairing").wait_for(state="visible")
    shot(page, "account-pairing", name)
    assert_accessible(page)

    for path, page_name in (("/mfa/totp/setup/", "totp-setup"), ("/mfa/webauthn/register/", "webauthn-register"),
                            ("/mfa/backup-codes/", "backup-codes")):
        page.goto(site.url + path)
        assert_site_chrome(page)  # the setup pages were titled "localhost:<port>" with no site header
        shot(page, page_name, name)
        assert_accessible(page)
        assert_fits(page, width)

    staff = context.new_page()
    admin_login(staff, site)
    staff.goto(site.url + "/admin/pushmfa/securityevent/dashboard/")
    expect(staff.locator("[data-pushmfa-chart=daily] svg")).to_be_visible()
    shot(staff, "admin-dashboard", name)
    for path, page_name in (("/admin/pushmfa/securityevent/", "admin-events"),
                            ("/admin/pushmfa/mfacredential/", "admin-credentials")):
        staff.goto(site.url + path)
        shot(staff, page_name, name, full_page=False)  # the first screen of a long list
        if name == "desktop":  # the change lists fit a 1280 px window: no sideways scrolling
            assert_fits(staff, width)
            table, box = staff.evaluate("""() => {
                const results = document.querySelector("#changelist .results");
                return [results.scrollWidth, results.clientWidth];
            }""")
            assert table <= box, f"{path}: the table ({table}px) scrolls sideways in its {box}px box"
    user_id = db_query("SELECT id FROM auth_user WHERE username = %s", (username,))[0][0]
    staff.goto(f"{site.url}/admin/pushmfa/mfacredential/reset/{user_id}/")
    items = [t.strip() for t in staff.locator("[data-pushmfa-reset-item]").all_inner_texts()]
    phone_name = site.accounts[username]["phone_name"]
    assert any(phone_name in item for item in items)
    assert all(item.count(phone_name) <= 1 for item in items), items  # said once, not "X (FCM · X)"
    assert "Authenticator app" in items and "Backup codes" in items, items  # not "Backup codes — Backup codes"
    shot(staff, "admin-reset", name)


def test_trust_this_browser_is_offered_while_the_push_waits(site, desktop):
    sim = open_simulator(desktop, site, "ux_trust")
    page = desktop.new_page()
    password_step(page, site, "ux_trust")
    number = shown_number(page)
    trust = page.get_by_label(re.compile("Trust this browser for 30 days"))
    expect(trust).to_be_visible()  # on the normal path, not only after a failure
    trust.check()
    open_push_on_phone(sim).locator(f'[data-sim-choice="{number}"]').click()
    expect_signed_in(page, "ux_trust", "push")
    assert any(c["name"] == "pushmfa_trust" for c in desktop.cookies())
    assert len(events("ux_trust", "browser_trusted")) == 1


def test_a_wrong_number_is_said_as_such(site, phone_sized):
    sim = open_simulator(phone_sized, site, "ux_wrong")
    page = phone_sized.new_page()
    password_step(page, site, "ux_wrong")
    number = shown_number(page)
    challenge = open_push_on_phone(sim)
    wrong = next(c.get_attribute("data-sim-choice") for c in challenge.locator("[data-sim-choice]").all()
                 if c.get_attribute("data-sim-choice") != number)
    challenge.locator(f'[data-sim-choice="{wrong}"]').click()
    denied = page.locator('[data-pushmfa-state="denied"]')
    expect(denied).to_be_visible()
    text = denied.inner_text()
    assert "A wrong number was picked on your phone" in text
    assert "may have been picked" not in text  # no hedging: the server knows
    # The focus moved to what happened.
    assert page.evaluate("() => document.activeElement.getAttribute('data-pushmfa-denied')") == "wrong_number"


def test_rate_limited_page_says_when_to_retry(short_ttl_site, desktop):
    site = short_ttl_site
    page = desktop.new_page()
    password_step(page, site, "ux_rate")
    shown_number(page)
    # The countdown signals urgency near the end (a 3-second window is all "end").
    expect(page.locator("[data-pushmfa-countdown-wrap]")).to_have_class(re.compile("pushmfa-countdown--urgent"))
    statuses = page.evaluate("""async () => {
        const token = document.querySelector("input[name=csrfmiddlewaretoken]").value;
        const out = [];
        for (let i = 0; i < 4; i++) {
          const r = await fetch("/mfa/api/push/", {method: "POST", credentials: "same-origin",
            headers: {"Content-Type": "application/json", "X-CSRFToken": token}, body: "{}"});
          out.push(r.status);
        }
        return out;
    }""")
    assert statuses == [201, 201, 201, 201]  # five pushes in all: the per-user limit
    expect(page.locator('[data-pushmfa-state="expired"]')).to_be_visible(timeout=15_000)
    shot(page, "mfa-push-expired", "desktop")
    send = page.locator("[data-pushmfa-send]")
    send.click()
    error = page.locator("[data-pushmfa-error]")
    expect(error).to_contain_text(re.compile(r"You can send another in \d+:\d\d"))
    expect(send).to_be_disabled()
    expect(send).to_contain_text(re.compile(r"Send again in \d+:\d\d"))
    shot(page, "mfa-push-rate-limited", "desktop")


def test_live_region_countdown_and_focus(site, desktop):
    sim = open_simulator(desktop, site, "ux_a11y")
    page = desktop.new_page()
    page.add_init_script(LIVE_AT_LOAD)
    password_step(page, site, "ux_a11y")
    number = shown_number(page)
    assert page.evaluate("() => window.__pushmfaLiveAtLoad") is True  # not revealed later
    announce = page.locator("[data-pushmfa-announce]")
    expect(announce).to_contain_text(number)
    assert announce.get_attribute("role") == "status"
    # The per-second countdown is not inside any live region (it would be read out every second).
    assert page.evaluate("""() => document.querySelector("[data-pushmfa-countdown]")
        .closest("[aria-live], [role=status], [role=alert], [role=log], [role=timer]") === null""")
    # The focus moved to the new state (sending -> pending).
    assert page.evaluate("() => !!document.activeElement.closest('[data-pushmfa-state=pending]')")
    assert_accessible(page)
    open_push_on_phone(sim).locator("[data-sim-deny]").click()
    expect(page.locator('[data-pushmfa-state="denied"]')).to_be_visible()
    assert page.evaluate("() => !!document.activeElement.closest('[data-pushmfa-state=denied]')")
    assert_accessible(page)


def test_pairing_page_speaks_of_the_sites_app_and_notices_the_phone(site, desktop):
    desktop.grant_permissions(["clipboard-read", "clipboard-write"], origin=site.url)
    page = desktop.new_page()
    password_step(page, site, "ux_pair")
    totp_step(page, site, "ux_pair")
    expect_signed_in(page, "ux_pair", "totp")
    page.goto(site.url + "/mfa/account/")
    page.get_by_role("button", name=re.compile(f"Pair a phone with {SITE_NAME}'s app")).click()
    pairing = page.locator("#pushmfa-pairing")
    expect(pairing).to_contain_text(f"Open {SITE_NAME}'s app on your phone and scan this code.")
    assert "authenticator app" not in pairing.inner_text()
    link = pairing.locator("[data-pushmfa-pairing-link]")
    uri = link.get_attribute("href")
    assert uri.startswith("pushmfa://pair?")  # tappable on a phone
    copy = pairing.locator("[data-pushmfa-copy]")
    expect(copy).to_be_visible()
    copy.click()
    expect(copy).to_have_text("Link copied")
    assert page.evaluate("() => navigator.clipboard.readText()") == uri

    sim = desktop.new_page()
    sim.goto(site.url + "/simulator/")
    sim.locator(".sim-pair summary").click()
    sim.fill("[data-sim-pair-uri]", uri)
    sim.fill("[data-sim-pair-name]", "UX second phone")
    sim.locator("[data-sim-pair-submit]").click()
    sim.locator('[data-sim-screen="idle"]').wait_for(state="visible")

    paired = page.locator('[data-pushmfa-pairing-state="paired"]')
    expect(paired).to_be_visible(timeout=15_000)  # noticed without a reload
    expect(paired).to_contain_text("UX second phone")
    expect(page.locator(".pushmfa-qr")).to_be_hidden()  # the QR code is not left up
    assert page.evaluate("() => !!document.activeElement.closest('[data-pushmfa-pairing-state=paired]')")
    # A link styled as a button keeps a readable text colour (it was painted the button's own blue).
    text, fill = page.locator("[data-pushmfa-paired-done]").evaluate(
        "el => [getComputedStyle(el).color, getComputedStyle(el).backgroundColor]")
    assert text != fill, (text, fill)
    shot(page, "account-paired", "desktop")
    assert_accessible(page)


def test_removing_a_method_names_it_and_codes_stay_editable(site, desktop):
    page = desktop.new_page()
    password_step(page, site, "ux_remove")
    choose_method(page, "totp")
    page.fill("#pushmfa-totp-code", "123456")
    page.locator("form:has(#pushmfa-totp-code) button[type=submit]").click()
    field = page.locator("#pushmfa-totp-code")
    expect(page.locator("#pushmfa-totp-error")).to_be_visible()
    assert field.input_value() == "123456"  # the mistyped code is kept, to be corrected
    selection = "() => [document.activeElement.selectionStart, document.activeElement.selectionEnd]"
    assert page.evaluate(selection) == [0, 6]  # selected: typing replaces it
    field.press_sequentially(next_totp_code(site.accounts["ux_remove"]["totp_secret"]))
    page.locator("form:has(#pushmfa-totp-code) button[type=submit]").click()
    expect_signed_in(page, "ux_remove", "totp")

    page.goto(site.url + "/mfa/account/")
    totp_row = page.locator('[data-pushmfa-credential="totp"]')
    expect(totp_row).to_contain_text("last used just now")  # not "0 minutes ago"
    phone_name = site.accounts["ux_remove"]["phone_name"]
    phone_row = page.locator('[data-pushmfa-credential="push"]')
    expect(phone_row.locator("[data-pushmfa-method-type]")).to_have_text("Push notification")  # the row's type
    questions = []
    page.on("dialog", lambda dialog: (questions.append(dialog.message), dialog.accept()))
    phone_row.get_by_role("button", name=f"Remove {phone_name}").click()
    expect(page.locator(".messages")).to_contain_text(f"“{phone_name}” was removed.")
    assert questions and phone_name in questions[0] and "Push notification" in questions[0], questions
    shot(page, "account-removed", "desktop")


def test_demo_phones_have_distinct_names(site):
    assert len({a["phone_name"] for a in site.accounts.values()}) == len(site.accounts)


def test_simulator_leaves_no_notification_over_the_request(site, desktop):
    sim = open_simulator(desktop, site, "ux_sim")
    page = desktop.new_page()
    password_step(page, site, "ux_sim")
    shown_number(page)
    started = page.evaluate("""async () => {
        const token = document.querySelector("input[name=csrfmiddlewaretoken]").value;
        const r = await fetch("/mfa/api/push/", {method: "POST", credentials: "same-origin",
          headers: {"Content-Type": "application/json", "X-CSRFToken": token}, body: "{}"});
        return (await r.json()).display_number;
    }""")
    expect(sim.locator("[data-sim-notification]")).to_have_count(2)
    sim.locator("[data-sim-notification]").first.click()
    sim.locator('[data-sim-screen="challenge"]').wait_for(state="visible")
    expect(sim.locator("[data-sim-notification]:visible")).to_have_count(0)  # nothing covers the request
    sim.locator(f'[data-sim-choice="{started}"]').click()
    assert sim_result(sim) == "approved"
    expect(sim.locator("[data-sim-notification]:visible")).to_have_count(0)  # nor its result
    shot(sim, "simulator-approved", "desktop")
