"""Support staff in the admin: revoke a user's push device, reset a user's MFA."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .conftest import PASSWORD, db_query, events, screenshot

pytestmark = pytest.mark.e2e


def admin_login(page, site) -> None:
    page.goto(site.url + "/admin/")
    page.fill("#id_username", site.admin["username"])
    page.fill("#id_password", PASSWORD)
    page.locator("input[type=submit]").click()
    page.wait_for_url(re.compile(r"/admin/$"))


def active_methods(username: str) -> list[str]:
    rows = db_query(
        """SELECT c.method FROM pushmfa_mfacredential c JOIN auth_user u ON u.id = c.user_id
           WHERE u.username = %s AND c.revoked_at IS NULL ORDER BY c.method""",
        (username,),
    )
    return [r[0] for r in rows]


def test_staff_revokes_a_users_push_device(site, desktop):
    page = desktop.new_page()
    admin_login(page, site)
    page.goto(site.url + "/admin/pushmfa/mfacredential/")
    page.fill("#searchbar", "revoke_target")
    page.locator("#changelist-search input[type=submit]").click()
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(3)  # phone, TOTP, backup codes
    screenshot(page, "admin_credential_list", full_page=True)

    push_row = rows.filter(has_text="Push notification")
    push_row.locator("input.action-select").check()
    page.select_option("select[name=action]", "revoke_credentials")
    page.locator("button[name=index], .actions button[type=submit]").first.click()
    page.fill("input[name=reason]", "lost phone, identity checked (ticket 1234)")
    screenshot(page, "admin_revoke_confirmation")
    page.locator("input[type=submit][value=Revoke]").click()
    page.locator(".messagelist .success").wait_for(state="visible")
    assert "Revoked 1 credential" in page.locator(".messagelist").inner_text()

    assert active_methods("revoke_target") == ["backup_codes", "totp"]
    revoked = events("revoke_target", "credential_revoked")
    assert [(actor, detail["method"], detail["reason"]) for actor, detail in revoked] == [
        ("admin", "push", "lost phone, identity checked (ticket 1234)")
    ]
    # The simulated phone's key no longer works: the simulator says so.
    sim = open_simulator_expecting_inactive(desktop, site, "revoke_target")
    assert sim.locator('[data-sim-screen="inactive"]').is_visible()


def open_simulator_expecting_inactive(context, site, username):
    sim = context.new_page()
    sim.goto(f"{site.url}/simulator/?phone={site.accounts[username]['phone_id']}")
    sim.locator('[data-sim-screen="inactive"]').wait_for(state="visible")
    return sim


def test_staff_resets_a_users_mfa(site, desktop):
    page = desktop.new_page()
    admin_login(page, site)
    page.goto(site.url + "/admin/auth/user/?q=reset_target")
    page.locator("#result_list a", has_text="reset_target").click()
    page.locator(".pushmfa-summary").wait_for(state="visible")
    assert "Unused backup codes: 10" in page.locator(".pushmfa-summary").inner_text()
    page.locator("a.pushmfa-reset").click()
    page.fill("input[name=reason]", "new phone, old one wiped; verified by video call")
    screenshot(page, "admin_reset_mfa")
    page.locator("input[type=submit][value='Reset MFA']").click()
    page.locator(".messagelist .success").wait_for(state="visible")
    assert "MFA of reset_target reset: 3 credentials revoked" in page.locator(".messagelist").inner_text()

    assert active_methods("reset_target") == []
    reset = events("reset_target", "mfa_reset")
    assert [(actor, detail["reason"]) for actor, detail in reset] == [
        ("admin", "new phone, old one wiped; verified by video call")
    ]
    unused = db_query(
        """SELECT count(*) FROM pushmfa_backupcode b JOIN auth_user u ON u.id = b.user_id
           WHERE u.username = %s AND b.used_at IS NULL""",
        ("reset_target",),
    )
    assert unused == [(0,)]


def test_staff_cannot_reset_their_own_mfa(site, desktop):
    page = desktop.new_page()
    admin_login(page, site)
    admin_id = db_query("SELECT id FROM auth_user WHERE username = 'admin'")[0][0]
    response = page.goto(f"{site.url}/admin/pushmfa/mfacredential/reset/{admin_id}/")
    assert response.status == 403
    assert "cannot reset your own MFA" in page.content()

