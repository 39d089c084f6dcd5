"""Account endpoints: credentials list / revoke / primary, for a fully logged-in user only."""
from __future__ import annotations

import uuid

import pytest
from django.test import Client
from django.urls import reverse

from django_pushmfa.models import MFACredential, SecurityEvent
from django_pushmfa.testing.login import force_mfa_login

from .conftest import JSON

pytestmark = pytest.mark.django_db


@pytest.fixture
def logged_in(user, add_totp, add_phone):
    """A client logged in as ``user`` (MFA done), enforcing CSRF like a browser."""
    add_phone(user, name="Alice's Pixel 8")
    add_totp(user)
    client = Client(enforce_csrf_checks=True)
    force_mfa_login(client, user)
    client.get("/mfa/account/")  # sets the CSRF cookie
    return client


def csrf(client):
    return {"HTTP_X_CSRFTOKEN": client.cookies["csrftoken"].value}


def test_list(logged_in, user):
    response = logged_in.get(reverse("pushmfa:api-credentials"), **JSON)
    assert response.status_code == 200
    creds = response.json()["credentials"]
    assert [(c["method"], c["label"], c["is_primary"]) for c in creds] == [
        ("push", "Alice's Pixel 8", True),
        ("totp", "Phone app", False),
    ]
    assert set(creds[0]) == {"id", "method", "label", "is_primary", "created_at", "last_used_at"}
    body = response.content.decode()
    assert "tok-" not in body and "secret" not in body


def test_revoke(logged_in, user):
    totp = MFACredential.objects.get(user=user, method="totp")
    url = reverse("pushmfa:api-credential", args=[totp.pk])
    assert logged_in.delete(url, **JSON).status_code == 403  # CSRF enforced
    response = logged_in.delete(url, **JSON, **csrf(logged_in))
    assert response.status_code == 204
    totp.refresh_from_db()
    assert totp.revoked_at is not None
    assert SecurityEvent.objects.filter(user=user, kind="credential_revoked", credential=totp).count() == 1
    listed = logged_in.get(reverse("pushmfa:api-credentials"), **JSON).json()["credentials"]
    assert [c["method"] for c in listed] == ["push"]
    # Revoking it again: it is gone.
    response = logged_in.delete(url, **JSON, **csrf(logged_in))
    assert response.status_code == 404 and response.json()["code"] == "not_found"


@pytest.mark.parametrize("bad_id", ["not-a-uuid", str(uuid.uuid4()), "1", "%20"])
def test_revoke_unknown_ids(logged_in, bad_id):
    response = logged_in.delete(f"/mfa/api/credentials/{bad_id}/", **JSON, **csrf(logged_in))
    assert response.status_code == 404 and response.json()["code"] == "not_found"


def test_revoke_other_users_credential(logged_in, user_factory, add_totp):
    other = user_factory()
    add_totp(other)
    theirs = MFACredential.objects.get(user=other)
    response = logged_in.delete(reverse("pushmfa:api-credential", args=[theirs.pk]), **JSON, **csrf(logged_in))
    assert response.status_code == 404 and response.json()["code"] == "not_found"
    theirs.refresh_from_db()
    assert theirs.revoked_at is None


def test_set_primary(logged_in, user):
    totp = MFACredential.objects.get(user=user, method="totp")
    url = reverse("pushmfa:api-credential-primary", args=[totp.pk])
    response = logged_in.post(url, {}, content_type="application/json", **JSON, **csrf(logged_in))
    assert response.status_code == 200
    assert response.json()["is_primary"] is True
    assert MFACredential.objects.get(user=user, is_primary=True) == totp
    assert SecurityEvent.objects.filter(user=user, kind="primary_changed").count() == 1


def test_backup_codes_cannot_be_primary(logged_in, user):
    from django_pushmfa.backup_codes.internal.flows import generate_set

    credential, _codes = generate_set(None, user)
    url = reverse("pushmfa:api-credential-primary", args=[credential.pk])
    response = logged_in.post(url, {}, content_type="application/json", **JSON, **csrf(logged_in))
    assert response.status_code == 400 and response.json()["code"] == "invalid"


def test_anonymous(client):
    response = client.get(reverse("pushmfa:api-credentials"), **JSON)
    assert response.status_code in (401, 403)
    assert response.json()["code"] == "not_authenticated"


def test_pending_session_gets_mfa_required(client, user, add_totp, login_with_password):
    add_totp(user)
    login_with_password(client, user)
    cred = MFACredential.objects.get(user=user)
    for method, url in (
        ("get", reverse("pushmfa:api-credentials")),
        ("delete", reverse("pushmfa:api-credential", args=[cred.pk])),
        ("post", reverse("pushmfa:api-credential-primary", args=[cred.pk])),
    ):
        response = getattr(client, method)(url, **JSON)
        assert response.status_code == 403 and response.json()["code"] == "mfa_required", url
    cred.refresh_from_db()
    assert cred.revoked_at is None
