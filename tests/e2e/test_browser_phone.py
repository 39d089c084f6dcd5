"""The browser phone (/simulator/browser/): the example site's phone app running on the TypeScript SDK
in Chromium, with its key a non-extractable WebCrypto key in IndexedDB, approves a login."""
from __future__ import annotations

import re

import pytest

from .conftest import db_query, expect_signed_in, password_step, screenshot, shown_number, totp_step

pytestmark = pytest.mark.e2e

READ_KEY = """async () => {
  const open = indexedDB.open("pushmfa-browser-phone", 1);
  const db = await new Promise((ok, no) => { open.onsuccess = () => ok(open.result); open.onerror = no; });
  const get = db.transaction("state").objectStore("state").get("phone");
  const record = await new Promise((ok, no) => { get.onsuccess = () => ok(get.result); get.onerror = no; });
  let exported = true;
  try { await crypto.subtle.exportKey("pkcs8", record.keyPair.privateKey); } catch (e) { exported = false; }
  return {
    deviceId: record.deviceId,
    algorithm: record.keyPair.privateKey.algorithm.namedCurve,
    extractable: record.keyPair.privateKey.extractable,
    exported,
  };
}"""


def test_the_browser_phone_pairs_and_approves_a_login(site, desktop):
    username = "browser_phone_user"
    page = desktop.new_page()
    password_step(page, site, username)
    totp_step(page, site, username)
    expect_signed_in(page, username, "totp")
    page.goto(site.url + "/mfa/account/")
    page.get_by_role("button", name=re.compile("Pair a phone")).click()
    pairing = page.locator("#pushmfa-pairing")
    pairing.wait_for(state="visible")
    pairing.locator("summary").click()
    uri = pairing.locator(".pushmfa-uri").inner_text().strip()

    phone = desktop.new_page()
    phone.goto(site.url + "/simulator/browser/")
    phone.locator("body[data-bp-ready]").wait_for(state="attached")
    phone.fill("[data-bp-pair-uri]", uri)
    phone.fill("[data-bp-pair-name]", "Chromium phone")
    phone.locator("[data-bp-pair-submit]").click()
    phone.locator('[data-bp-screen="idle"]').wait_for(state="visible")

    key = phone.evaluate(READ_KEY)
    assert key["algorithm"] == "P-256"
    assert key["extractable"] is False and key["exported"] is False
    assert db_query(
        "SELECT d.platform, d.key_type, d.name FROM pushmfa_pushdevice d WHERE d.credential_id = %s",
        (key["deviceId"],),
    ) == [("fcm", "p256", "Chromium phone")]

    # The phone survives a reload: the key comes back from IndexedDB.
    phone.reload()
    phone.locator('[data-bp-screen="idle"]').wait_for(state="visible")
    assert phone.locator("[data-bp-device-name]").inner_text() == "Chromium phone"

    # Sign out and in: the push reaches the browser phone, which approves with the number.
    page.goto(site.url + "/dashboard/")
    page.locator("[data-logout]").click()
    page.wait_for_url(re.compile(r"/$"))
    password_step(page, site, username)
    number = shown_number(page)
    phone.locator('[data-bp-screen="challenge"]').wait_for(state="visible")
    assert phone.locator("[data-bp-who]").inner_text() == "Workspace on Acme Workspace"
    assert phone.locator("[data-bp-title]").inner_text() == "Are you trying to sign in?"
    screenshot(phone, "browser_phone_challenge")
    phone.locator(f'[data-bp-choice="{number}"]').click()
    result = phone.locator('[data-bp-screen="result"]')
    result.wait_for(state="visible")
    assert result.get_attribute("data-bp-result") == "approved"
    expect_signed_in(page, username, "push")
    [(kind,)] = db_query(
        """SELECT e.kind FROM pushmfa_securityevent e JOIN auth_user u ON u.id = e.user_id
           WHERE u.username = %s AND e.kind = 'push_approved'""",
        (username,),
    )
    assert kind == "push_approved"
