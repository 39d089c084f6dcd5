"""Fixtures for the push delivery tests: paired phones and challenges."""
from __future__ import annotations

import time
import uuid

import pytest
from django.db import transaction

from django_pushmfa import services
from django_pushmfa.models import MFACredential, PushDevice
from django_pushmfa.push.backends import reset_backends


@pytest.fixture(autouse=True)
def _fresh_backends():
    """Each test builds its backends from its own settings (and closes their threads after)."""
    reset_backends()
    yield
    reset_backends()


@pytest.fixture
def push_device_factory(db):
    counter = {"n": 0}

    def make(user, platform="fcm", token=None, **fields):
        counter["n"] += 1
        with transaction.atomic():
            credential = services.add_credential(user, MFACredential.Method.PUSH, label=f"phone {counter['n']}")
            return PushDevice.objects.create(
                credential=credential,
                platform=platform,
                push_token=token or f"{platform}-token-{counter['n']}-{uuid.uuid4().hex}",
                public_key=b"\x30\x59",
                key_type=PushDevice.KeyType.P256,
                name=f"phone {counter['n']}",
                **fields,
            )

    return make


@pytest.fixture
def make_challenge():
    from django_pushmfa.push.store.base import Challenge

    def make(user, *, window=120, location="Lisbon, Portugal", display_number="47"):
        now = time.time()
        return Challenge(
            id=str(uuid.uuid4()),
            user_id=str(user.pk),
            binding="binding-" + uuid.uuid4().hex,
            display_number=display_number,
            choices=["12", display_number, "83"],
            status="pending",
            created_at=now,
            expires_at=now + window,
            context={"ip": "203.0.113.9", "user_agent": "UA", "browser": "Firefox", "os": "Linux",
                     "location": location},
        )

    return make
