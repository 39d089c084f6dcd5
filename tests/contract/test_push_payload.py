"""Contract, "Push payload": what a push carries (read from the test backend's in-memory outbox; the
live server runs in this process)."""
from __future__ import annotations

import dataclasses
import json
import re

import pytest

from django_pushmfa.push.backends import locmem

pytestmark = pytest.mark.django_db(transaction=True)


def messages_for(challenge_id: str, count: int, timeout: float = 10.0) -> list:
    locmem.wait_for_message(
        lambda _m: sum(1 for m in locmem.outbox if m.data.get("challenge_id") == challenge_id) >= count, timeout
    )
    return [m for m in locmem.outbox if m.data.get("challenge_id") == challenge_id]


def standalone(number: str, text: str) -> bool:
    return re.search(rf"(?<![0-9A-Za-z]){re.escape(number)}(?![0-9A-Za-z])", text) is not None


def test_one_push_per_active_device_carrying_no_answer(make_user, enroll, pending, signed_in):
    user = make_user()
    phones = enroll(user, "p256", "ed25519", names=("Phone One", "Phone Two"))
    locmem.outbox.clear()
    browser = pending(user)
    push = browser.api("POST", "api/push/", {}).json()
    choices = phones[0].challenge(push["challenge_id"]).json()["choices"]
    assert push["display_number"] in choices

    messages = messages_for(push["challenge_id"], 2)
    assert len(messages) == 2
    assert {m.device_token for m in messages} == {p.push_token for p in phones}
    for message in messages:
        # v1's two keys, plus v1.1's "who is asking" (the test site names no service)
        assert message.data == {
            "type": "pushmfa.challenge",
            "challenge_id": push["challenge_id"],
            "purpose": "login",
            "site_name": message.data["site_name"],
        }
        assert message.data["site_name"]
        assert isinstance(message.title, str) and message.title
        assert isinstance(message.body, str) and message.body
        # neither the number nor any choice anywhere in the message
        blob = json.dumps(dataclasses.asdict(message), default=str)
        blob = blob.replace(push["challenge_id"], "<challenge>").replace(message.device_token, "<token>")
        for number in {push["display_number"], *choices}:
            assert not standalone(number, blob), (number, blob)
        assert "choices" not in blob and "display_number" not in blob and "number" not in json.dumps(message.data)


def test_revoked_device_gets_no_push(make_user, signed_in, pair, pending):
    user = make_user()
    account = signed_in(user)
    keep = pair(account)
    gone = pair(account, "ed25519")
    assert account.api("DELETE", f"api/credentials/{gone.device_id}/").status_code == 204
    locmem.outbox.clear()
    push = pending(user).api("POST", "api/push/", {}).json()
    messages = messages_for(push["challenge_id"], 1)
    locmem.wait_for_message(lambda _m: False, 0.5)  # let any (wrong) second message arrive
    messages = [m for m in locmem.outbox if m.data.get("challenge_id") == push["challenge_id"]]
    assert [m.device_token for m in messages] == [keep.push_token]


def test_push_from_payload_to_approval(push_user, pending):
    """The phone's path: push → signed GET of the challenge id from the data → pick the number."""
    user, phone = push_user
    locmem.outbox.clear()
    browser = pending(user)
    push = browser.api("POST", "api/push/", {}).json()
    (message,) = messages_for(push["challenge_id"], 1)
    challenge = phone.challenge(message.data["challenge_id"]).json()
    # the phone learns the right number only from the user, who reads it off the login screen
    assert phone.respond(challenge["challenge_id"], "approve", push["display_number"]).json() == {
        "status": "approved"
    }
    assert browser.api("GET", push["poll_url"]).json()["status"] == "approved"
