"""Fixtures for the device API tests: pairing tokens and registered reference phones."""

from __future__ import annotations

import pytest
from django.test import Client, RequestFactory

from django_pushmfa.internal.pairing import create_pairing_token
from django_pushmfa.testing.phone import DjangoClientTransport, PhoneClient, PhoneKey


@pytest.fixture
def issue_token():
    """``issue_token(user)`` → a fresh pairing token string."""

    def issue(user):
        return create_pairing_token(user, RequestFactory().get("/")).token

    return issue


@pytest.fixture
def make_phone(db, issue_token):
    """``make_phone(user, key_type="p256")`` → a registered PhoneClient on the Django test client."""

    def make(user, key_type="p256", platform="fcm", name="Pixel 8"):
        phone = PhoneClient(DjangoClientTransport(Client()), PhoneKey.generate(key_type))
        phone.register(issue_token(user), platform=platform, push_token=f"tok-{user.pk}-{key_type}", name=name)
        return phone

    return make


@pytest.fixture(params=["p256", "ed25519"])
def key_type(request):
    return request.param


@pytest.fixture
def phone(make_phone, user, key_type):
    return make_phone(user, key_type)


@pytest.fixture
def assert_max_statements():
    """Like ``django_assert_max_num_queries``, but not counting SAVEPOINT/RELEASE statements.

    Those come from ``transaction.atomic()`` nested in the test's own transaction; in production
    (autocommit) an atomic block costs BEGIN/COMMIT, which are not statements of the request.
    """
    from contextlib import contextmanager

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    @contextmanager
    def check(limit):
        with CaptureQueriesContext(connection) as ctx:
            yield ctx
        statements = [
            q["sql"]
            for q in ctx.captured_queries
            if not q["sql"].upper().startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))
        ]
        assert len(statements) <= limit, f"{len(statements)} statements > {limit}:\n" + "\n".join(statements)

    return check
