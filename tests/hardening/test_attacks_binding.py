"""Session binding: a challenge belongs to the browser that started it, and only while its step lasts."""
from __future__ import annotations

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client

from django_pushmfa.internal import pending

from .conftest import POLL_VARIANTS, is_logged_in, new_browser, poll, start_push

pytestmark = pytest.mark.django_db


def _copy_session_cookie(source: Client) -> Client:
    thief = Client()
    thief.cookies["sessionid"] = source.cookies["sessionid"].value
    return thief


def test_second_browser_with_the_challenge_id_gets_nothing(browser, push_user, password):
    started = start_push(browser)
    challenge_id = started["challenge_id"]
    attacker = new_browser(push_user, password)  # has the password, and somehow the id
    stranger = Client()  # has only the id

    for variant in POLL_VARIANTS:
        assert poll(attacker, challenge_id, variant=variant).json()["code"] == "not_found"
        assert poll(attacker, challenge_id, wait=1, variant=variant).status_code == 404
        assert poll(stranger, challenge_id, variant=variant).json()["code"] == "mfa_not_in_progress"

    assert push_user.phone.approve(challenge_id, started["display_number"]).status_code == 200

    # after the approval: still nothing for the others, and polling did not consume it
    for variant in POLL_VARIANTS:
        assert poll(attacker, challenge_id, variant=variant).status_code == 404
        assert poll(stranger, challenge_id, variant=variant).status_code == 403
    assert not is_logged_in(attacker) and not is_logged_in(stranger)
    answer = poll(browser, challenge_id)
    assert answer.status_code == 200 and answer.json()["status"] == "approved"
    assert is_logged_in(browser)
    assert not is_logged_in(attacker)


def test_a_captured_approval_logs_in_one_browser_once(browser, push_user):
    started = start_push(browser)
    push_user.phone.approve(started["challenge_id"], started["display_number"])
    first = poll(browser, started["challenge_id"])
    assert first.json()["status"] == "approved"
    # the same browser again: consumed, no second login
    again = poll(browser, started["challenge_id"])
    assert again.status_code == 200 and again.json() == {"status": "consumed"}
    # the approved browser's new session cookie copied elsewhere is a stolen *logged-in* session, outside
    # MFA's reach; the pre-login cookie (rotated by login()) is worth nothing:
    assert "redirect_url" not in again.json()


def test_pre_login_cookie_is_worthless_after_the_approval(browser, push_user):
    old_cookie = browser.cookies["sessionid"].value
    started = start_push(browser)
    push_user.phone.approve(started["challenge_id"], started["display_number"])
    assert poll(browser, started["challenge_id"]).json()["status"] == "approved"
    assert browser.cookies["sessionid"].value != old_cookie  # login() rotated the key
    thief = Client()
    thief.cookies["sessionid"] = old_cookie
    assert poll(thief, started["challenge_id"]).status_code == 403
    assert not is_logged_in(thief)
    assert thief.get("/api/whoami/", HTTP_ACCEPT="application/json").status_code == 403


def _expire_step(client: Client) -> None:
    """Move the pending step's start back past PUSHMFA_PENDING_TIMEOUT (as if the time had passed)."""
    store = SessionStore(session_key=client.cookies["sessionid"].value)
    state = store[pending.PENDING_KEY]
    state["started_at"] -= 10_000
    store[pending.PENDING_KEY] = state
    store.save()


def test_stolen_pending_cookie_after_the_step_expired_gets_nothing(browser, push_user):
    started = start_push(browser)
    _expire_step(browser)
    thief = _copy_session_cookie(browser)
    # the phone's owner, fooled, approves the number the thief shows
    push_user.phone.approve(started["challenge_id"], started["display_number"])

    for client in (thief, browser):
        answer = poll(client, started["challenge_id"])
        assert answer.status_code == 403 and answer.json()["code"] == "mfa_not_in_progress"
        assert not is_logged_in(client)
        methods = client.get("/mfa/api/methods/", HTTP_ACCEPT="application/json")
        assert methods.status_code == 403 and methods.json()["code"] == "mfa_not_in_progress"
        assert start_push(client, expect=403)["code"] == "mfa_not_in_progress"
    assert len(push_user.phone.challenges().json()["challenges"]) == 0


def test_stolen_pending_cookie_before_expiry_cannot_be_used_after_the_owner_finished(browser, push_user):
    """The thief copies the cookie mid-step; the owner completes the login; the copy is now stale."""
    thief = _copy_session_cookie(browser)
    started = start_push(browser)
    push_user.phone.approve(started["challenge_id"], started["display_number"])
    assert poll(browser, started["challenge_id"]).json()["status"] == "approved"
    assert poll(thief, started["challenge_id"]).status_code == 403
    assert start_push(thief, expect=403)["code"] == "mfa_not_in_progress"
    assert not is_logged_in(thief)
