"""The example site's single-page app signs in over the API (X-Session-Token, no cookies) with push,
then calls the site's protected DRF view with its token. Real Chromium, served example site."""
from __future__ import annotations

import pytest

from .conftest import PASSWORD, events, open_push_on_phone, open_simulator, screenshot, sim_result

pytestmark = pytest.mark.e2e


def test_spa_signs_in_with_push_and_calls_the_protected_view(site, desktop):
    sim = open_simulator(desktop, site, "spa_user")
    page = desktop.new_page()
    app_requests: list = []
    page.on("request", lambda r: app_requests.append(r) if "/mfa/api/" in r.url or "/api/me/" in r.url else None)
    page.goto(site.url + "/spa/")
    page.fill("#spa-username", "spa_user")
    page.fill("#spa-password", PASSWORD)
    page.click('[data-spa-step="login"] button[type=submit]')
    number = page.locator("[data-spa-number]")
    number.wait_for(state="visible")
    assert page.locator('[data-spa-step="login"]').is_hidden()
    page.wait_for_function("document.querySelector('[data-spa-number]').textContent.trim().length > 0")
    shown = number.inner_text().strip()
    screenshot(page, "spa_push")

    challenge = open_push_on_phone(sim)
    challenge.locator(f'[data-sim-choice="{shown}"]').click()
    assert sim_result(sim) == "approved"

    me = page.locator("[data-spa-me]")
    me.wait_for(state="visible")
    assert me.inner_text() == "Signed in as spa_user (the API said so)."
    assert page.locator('[data-spa-step="login"]').is_hidden()
    assert page.locator('[data-spa-step="push"]').is_hidden()
    screenshot(page, "spa_signed_in")
    assert len(events("spa_user", "mfa_completed")) == 1
    # an app client: every API call carried the token (after the login) and no cookie at all
    headers = [(r.url, r.all_headers()) for r in app_requests]
    assert headers and all("cookie" not in h for _url, h in headers)
    assert all("x-session-token" in h for url, h in headers if not url.endswith("/app/login/"))
    # the browser itself is not signed in by the SPA's session (it lives in the header only)
    other = desktop.new_page()
    other.goto(site.url + "/dashboard/")
    assert "/accounts/login/" in other.url
    other.close()

    page.click("[data-spa-logout]")
    page.locator('[data-spa-step="login"]').wait_for(state="visible")
