"""The MFA step page in a real browser (Chromium): pushmfa.js starts the push, shows the number,
long-polls and moves on by itself when the reference phone approves."""
from __future__ import annotations

import os
import re
import shutil

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

EVENTS_SCRIPT = """
window.__pushmfaEvents = [];
["started", "approved", "denied", "expired", "error"].forEach(function (name) {
  document.addEventListener("pushmfa:" + name, function (event) {
    window.__pushmfaEvents.push(name);
    if (name === "approved" && window.__holdApproved) event.preventDefault();
  });
});
"""


@pytest.fixture
def browser_page(monkeypatch):
    import playwright.sync_api as playwright_api  # a missing browser stack fails, never skips
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls are still sync.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        context = browser.new_context(viewport={"width": 390, "height": 844})  # a phone-sized screen
        page = context.new_page()
        page.add_init_script(EVENTS_SCRIPT)
        yield page
        browser.close()
        # ORM calls made while Playwright's loop runs get their own connection objects: close them,
        # or the test database cannot be dropped at the end of the run.
        from django.db import connections

        connections.close_all()


@pytest.fixture
def enrolled_with_phone(user, add_phone, add_totp):
    phone = add_phone(user, name="Alice's Pixel 8")
    add_totp(user)
    return user, phone


def password_step(page, live_server, user, password):
    page.goto(f"{live_server.url}/accounts/login/?next=/private/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/mfa/authenticate/"))


def shown_number(page):
    number = page.locator("[data-pushmfa-number]")
    number.wait_for(state="visible", timeout=10000)
    return number.inner_text().strip()


def test_push_login_in_a_browser(browser_page, live_server, enrolled_with_phone, password):
    user, phone = enrolled_with_phone
    page = browser_page
    password_step(page, live_server, user, password)
    number = shown_number(page)
    assert re.fullmatch(r"\d{2}", number)
    page.screenshot(path="/tmp/pushmfa-authenticate-pending.png", full_page=True)
    (challenge,) = phone.challenges()
    assert number in challenge["choices"]
    phone.respond(challenge["challenge_id"], "approve", selected_number=number)
    page.wait_for_url(re.compile(r"/private/$"), timeout=15000)
    assert f"private page for {user.username}" in page.content()


def test_events_and_denied_state(browser_page, live_server, enrolled_with_phone, password):
    user, phone = enrolled_with_phone
    page = browser_page
    password_step(page, live_server, user, password)
    shown_number(page)
    (challenge,) = phone.challenges()
    phone.respond(challenge["challenge_id"], "deny")
    page.locator('[data-pushmfa-state="denied"]').wait_for(state="visible", timeout=15000)
    assert page.locator("[data-pushmfa-send]").is_visible()
    page.screenshot(path="/tmp/pushmfa-authenticate-denied.png", full_page=True)
    assert page.evaluate("window.__pushmfaEvents") == ["started", "denied"]

    # "Send again" starts a new challenge; a site can hold the navigation on approval.
    page.evaluate("window.__holdApproved = true")
    page.click("[data-pushmfa-send]")
    number = page.locator("[data-pushmfa-number]")
    page.wait_for_function("document.querySelector('[data-pushmfa-current]').dataset.pushmfaCurrent === 'pending'")
    pending_challenges = phone.challenges()
    assert len(pending_challenges) == 1, (page.evaluate("window.__pushmfaEvents"), page.content()[-3000:])
    phone.respond(pending_challenges[0]["challenge_id"], "approve", selected_number=number.inner_text().strip())
    page.locator('[data-pushmfa-state="approved"]').wait_for(state="visible", timeout=15000)
    assert page.evaluate("window.__pushmfaEvents") == ["started", "denied", "started", "approved"]
    assert "/mfa/authenticate/" in page.url


def test_account_page_in_a_browser(browser_page, live_server, enrolled_with_phone):
    from django_pushmfa.models import MFACredential
    from django_pushmfa.testing.login import force_mfa_login

    user, _phone = enrolled_with_phone
    page = browser_page
    client = __import__("django.test", fromlist=["Client"]).Client()
    force_mfa_login(client, user)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    page.goto(f"{live_server.url}/mfa/account/")
    page.get_by_role("button", name=re.compile("Pair a phone")).click()
    qr = page.locator(".pushmfa-qr svg")
    qr.wait_for(state="visible")
    assert qr.bounding_box()["width"] > 150
    page.screenshot(path="/tmp/pushmfa-account-pairing.png", full_page=True)
    page.goto(f"{live_server.url}/mfa/account/")
    totp = MFACredential.objects.get(user=user, method="totp")
    remove = page.locator(f"form:has(input[value='{totp.pk}']) button:has-text('Remove')")
    page.once("dialog", lambda dialog: dialog.dismiss())  # "Remove this method?" → no
    remove.click()
    totp.refresh_from_db()
    assert totp.revoked_at is None
    page.once("dialog", lambda dialog: dialog.accept())
    remove.click()
    page.wait_for_load_state()
    page.get_by_text(re.compile("was removed\\.")).wait_for()
    totp.refresh_from_db()
    assert totp.revoked_at is not None
