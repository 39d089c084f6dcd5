"""Finding 8 of issue 11: registration checks the pairing token before anything about the key,
and pairing answers are never cached.

Without a valid token, ``device/register/`` must not tell whether a public key is registered
(an oracle linking a captured key to an account); with one, a duplicate key is refused without
burning the token.
"""
from __future__ import annotations

import json

import pytest

from .conftest import API, json_post
from .device import Phone

pytestmark = pytest.mark.django_db


def register(client, token: str, public_key: str):
    body = {"pairing_token": token, "platform": "fcm", "push_token": "tok-x", "public_key": public_key, "name": "P"}
    return client.post(API + "device/register/", json.dumps(body), content_type="application/json")


def test_an_invalid_token_reveals_nothing_about_the_key(client, push_user):
    registered_key = push_user.phone.public_key_b64
    fresh_key = Phone().public_key_b64
    known = register(client, "not-a-real-token", registered_key)
    unknown = register(client, "not-a-real-token", fresh_key)
    assert known.status_code == unknown.status_code == 400
    assert known.json() == unknown.json()
    assert known.json()["code"] == "invalid_pairing_token"


def test_a_duplicate_key_with_a_valid_token_keeps_the_token(client, push_user, account_client):
    token = json_post(account_client, API + "devices/pairing/").json()["pairing_token"]
    duplicate = register(client, token, push_user.phone.public_key_b64)
    assert duplicate.status_code == 400 and duplicate.json()["code"] == "invalid"
    assert "public_key" in duplicate.json()["errors"]
    assert register(client, token, Phone().public_key_b64).status_code == 201  # the token still works


def test_pairing_tokens_are_not_cached(account_client):
    response = json_post(account_client, API + "devices/pairing/")
    assert response.status_code == 201
    assert "no-store" in response["Cache-Control"]


@pytest.mark.parametrize("path", ["backup-codes/", "credentials/"])
def test_account_answers_are_not_cached(account_client, path):
    response = json_post(account_client, API + path) if path == "backup-codes/" else account_client.get(API + path)
    assert response.status_code in (200, 201)
    assert "no-store" in response["Cache-Control"]
