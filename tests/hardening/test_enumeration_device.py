"""Device endpoints never tell whether an id exists: unknown, foreign and malformed ids look alike."""
from __future__ import annotations

import uuid

import pytest

from django_pushmfa.services import revoke_credential

from .conftest import API, json_post, logged_in_client, new_browser, pair_phone, start_push
from .device import Phone

pytestmark = pytest.mark.django_db


def _same(responses) -> None:
    first = responses[0]
    for response in responses[1:]:
        assert response.status_code == first.status_code
        assert response.json() == first.json()
        assert response.get("WWW-Authenticate") == first.get("WWW-Authenticate")


@pytest.fixture
def foreign_challenge(user_factory, password):
    """A live challenge of another user (bob)."""
    bob = user_factory("bob")
    bob_phone = pair_phone(logged_in_client(bob, password))
    body = start_push(new_browser(bob, password))
    return body["challenge_id"], bob_phone


def test_challenge_ids_unknown_foreign_and_malformed_look_alike(push_user, foreign_challenge):
    phone: Phone = push_user.phone
    foreign_id, _ = foreign_challenge
    ids = [str(uuid.uuid4()), foreign_id, "not-a-uuid", foreign_id.upper(), foreign_id.replace("-", "")]
    details = [phone.challenge(i) for i in ids]
    responds = [phone.respond(i, "deny") for i in ids]
    for group in (details, responds):
        assert group[0].status_code == 404 and group[0].json()["code"] == "not_found"
        _same(group)


def test_unknown_revoked_and_wrongly_signed_devices_look_alike(push_user, account_client):
    phone: Phone = push_user.phone
    revoked = pair_phone(account_client)
    from django_pushmfa.models import MFACredential

    revoke_credential(MFACredential.objects.get(pk=revoked.device_id), actor=None, reason="lost")
    stranger = Phone()  # never registered
    path = API + "device/challenges/"
    responses = [
        stranger.send("GET", path, device_id=str(uuid.uuid4())),  # unknown id
        revoked.send("GET", path),  # revoked device, right key
        stranger.send("GET", path, device_id=phone.device_id),  # real id, wrong key
        phone.send("GET", path, device_id="not-a-uuid"),
    ]
    assert responses[0].status_code == 401
    assert responses[0].json()["code"] == "invalid_signature"
    _same(responses)
    assert phone.challenges().status_code == 200


def test_pairing_tokens_unknown_and_used_look_alike(account_client):
    response = json_post(account_client, API + "devices/pairing/")
    token = response.json()["pairing_token"]
    assert Phone().register(token).status_code == 201
    answers = [Phone().register(token), Phone().register("x" * len(token)), Phone().register("short")]
    assert answers[0].status_code == 400 and answers[0].json()["code"] == "invalid_pairing_token"
    _same(answers)


def test_pending_browser_answers_reveal_nothing_about_the_account(browser, push_user):
    """The browser mid-login learns the number and its own status, never who or what is behind it."""
    from .conftest import poll

    phone: Phone = push_user.phone
    hidden = [push_user.username, push_user.email, "Pixel 8", phone.device_id, "127.0.0.1", "tok-"]
    answers = [browser.get(API + "methods/", HTTP_ACCEPT="application/json")]
    started = json_post(browser, API + "push/")
    answers.append(started)
    challenge_id = started.json()["challenge_id"]
    answers.append(poll(browser, challenge_id))
    phone.approve(challenge_id, started.json()["display_number"])
    answers.append(poll(browser, challenge_id))
    for response in answers:
        assert response.status_code in (200, 201)
        text = response.content.decode()
        for value in hidden:
            assert value not in text, (value, text)
        assert str(push_user.pk) not in response.json().values()
