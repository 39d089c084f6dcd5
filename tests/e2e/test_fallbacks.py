"""The method chooser in a real browser: TOTP and backup codes when the phone is not at hand."""
from __future__ import annotations

import pytest

from .conftest import choose_method, db_query, events, expect_signed_in, password_step, screenshot, totp_step

pytestmark = pytest.mark.e2e


def test_totp_login_from_the_method_chooser(site, desktop):
    page = desktop.new_page()
    password_step(page, site, "totp_user")
    totp_step(page, site, "totp_user")
    expect_signed_in(page, "totp_user", "totp")
    assert len(events("totp_user", "mfa_completed")) == 1


def test_backup_code_login_from_the_method_chooser(site, phone_sized):
    page = phone_sized.new_page()
    password_step(page, site, "backup_user")
    choose_method(page, "backup_code")
    code = site.accounts["backup_user"]["backup_codes"][0]
    page.fill("#pushmfa-backup-code", code.upper().replace("-", " "))  # case, spaces and dashes do not matter
    screenshot(page, "mfa_backup_code_phone")
    page.locator("form:has(#pushmfa-backup-code) button[type=submit]").click()
    expect_signed_in(page, "backup_user", "backup_code")
    used = db_query(
        """SELECT count(*) FROM pushmfa_backupcode b JOIN auth_user u ON u.id = b.user_id
           WHERE u.username = %s AND b.used_at IS NOT NULL AND b.credential_id IN (
             SELECT id FROM pushmfa_mfacredential WHERE revoked_at IS NULL)""",
        ("backup_user",),
    )
    assert used == [(1,)]
    assert len(events("backup_user", "backup_code_used")) == 1


def test_a_wrong_code_is_refused_and_nobody_is_signed_in(site, desktop):
    page = desktop.new_page()
    password_step(page, site, "totp_user")
    choose_method(page, "backup_code")
    page.fill("#pushmfa-backup-code", "aaaa-bbbb-cccc-dddd")
    page.locator("form:has(#pushmfa-backup-code) button[type=submit]").click()
    page.locator("#pushmfa-backup-error").wait_for(state="visible")
    assert "/mfa/authenticate/" in page.url
    page.goto(site.url + "/dashboard/")
    assert "/mfa/authenticate/" in page.url  # still pending: every page leads back to the MFA step
