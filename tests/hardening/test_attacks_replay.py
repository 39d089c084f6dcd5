"""Replay: a captured signed device request is good for exactly the request it was made for, once."""
from __future__ import annotations

import json
import time

import pytest

from .conftest import API, is_logged_in, pair_phone, poll, start_push
from .device import Phone

pytestmark = pytest.mark.django_db


def _unauthorised(response) -> None:
    assert response.status_code == 401, response.content
    assert response.json()["code"] == "invalid_signature"
    assert response["WWW-Authenticate"].startswith("PushMFA-Signature")


def _status(browser, challenge_id: str) -> str:
    return poll(browser, challenge_id).json()["status"]


@pytest.fixture
def started(browser):
    return start_push(browser)


def test_same_nonce_twice_is_refused(push_user, started, browser):
    phone: Phone = push_user.phone
    path = f"{API}device/challenges/{started['challenge_id']}/respond/"
    body = b'{"decision": "deny"}'
    header = phone.header("POST", path, body)
    assert phone.send("POST", path, body, authorization=header).status_code == 200
    _unauthorised(phone.send("POST", path, body, authorization=header))
    assert _status(browser, started["challenge_id"]) == "denied"


def test_captured_deny_cannot_be_replayed_on_the_next_challenge(push_user, browser, settings):
    """A deny of challenge 1, replayed against challenge 2, must not deny (or touch) challenge 2."""
    phone: Phone = push_user.phone
    first = start_push(browser)
    path1 = f"{API}device/challenges/{first['challenge_id']}/respond/"
    body = b'{"decision": "deny"}'
    phone.send("POST", path1, body)
    second = start_push(browser)
    path2 = f"{API}device/challenges/{second['challenge_id']}/respond/"
    # the captured header of a request to path1, sent to path2 (a fresh nonce, so only the path differs)
    _unauthorised(phone.send("POST", path2, body, sign_path=path1))
    assert _status(browser, second["challenge_id"]) == "pending"


# a margin past the 60 s skew: the server reads its clock a moment after the client signs
@pytest.mark.parametrize("skew", [-61, 65, -3600, 10**9])
def test_timestamps_outside_the_skew_are_refused(push_user, started, browser, skew):
    _unauthorised(push_user.phone.respond(started["challenge_id"], "deny", ts=int(time.time()) + skew))
    assert _status(browser, started["challenge_id"]) == "pending"


def test_other_body_is_refused(push_user, started, browser):
    phone: Phone = push_user.phone
    path = f"{API}device/challenges/{started['challenge_id']}/respond/"
    signed = b'{"decision": "deny"}'
    sent = json.dumps({"decision": "approve", "selected_number": started["display_number"]}).encode()
    _unauthorised(phone.send("POST", path, sent, sign_body=signed))
    assert _status(browser, started["challenge_id"]) == "pending"


def test_other_method_is_refused(push_user, started):
    phone: Phone = push_user.phone
    path = f"{API}device/"
    _unauthorised(phone.send("DELETE", path, sign_method="GET"))
    assert phone.challenges().status_code == 200  # still registered


def test_signature_of_another_device_is_refused(push_user, started, browser, account_client):
    victim: Phone = push_user.phone
    other = pair_phone(account_client)  # a second device of the same user, even
    path = f"{API}device/challenges/{started['challenge_id']}/respond/"
    body = b'{"decision": "deny"}'
    # signed with the other device's key, claiming the victim's device id
    header = other.header("POST", path, body, device_id=victim.device_id)
    _unauthorised(victim.send("POST", path, body, authorization=header))
    assert _status(browser, started["challenge_id"]) == "pending"


def test_captured_approval_replayed_after_a_new_login_starts(push_user, browser, password):
    """The approve request of login 1 captured and replayed for login 2 approves nothing."""
    phone: Phone = push_user.phone
    first = start_push(browser)
    path = f"{API}device/challenges/{first['challenge_id']}/respond/"
    body = json.dumps({"decision": "approve", "selected_number": first["display_number"]}).encode()
    header = phone.header("POST", path, body)
    assert phone.send("POST", path, body, authorization=header).status_code == 200
    assert poll(browser, first["challenge_id"]).json()["status"] == "approved"
    assert is_logged_in(browser)

    from .conftest import new_browser

    attacker = new_browser(push_user, password)
    second = start_push(attacker)
    _unauthorised(phone.send("POST", path, body, authorization=header))  # same bytes again
    assert poll(attacker, second["challenge_id"]).json()["status"] == "pending"
    assert poll(attacker, first["challenge_id"]).status_code == 404
    assert not is_logged_in(attacker)


def test_query_string_is_covered(push_user, started):
    phone: Phone = push_user.phone
    path = f"{API}device/challenges/"
    _unauthorised(phone.send("GET", path + "?page=2", sign_path=path))
    _unauthorised(phone.send("GET", path, sign_path=path + "?page=2"))
    assert phone.send("GET", path + "?page=2").status_code == 200  # signed as sent: fine


def test_ed25519_device_replay_is_refused_too(account_client, push_user):
    from .conftest import json_post

    token = json_post(account_client, API + "devices/pairing/").json()["pairing_token"]
    ed = Phone(key_type="ed25519")
    assert ed.register(token).status_code == 201
    path = f"{API}device/challenges/"
    header = ed.header("GET", path)
    assert ed.send("GET", path, authorization=header).status_code == 200
    _unauthorised(ed.send("GET", path, authorization=header))
