"""The support staff's management commands: pushmfa_reset, pushmfa_rotate_secrets, pushmfa_prune_events."""
from datetime import timedelta
from io import StringIO

import pyotp
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings
from django.utils import timezone

from django_pushmfa import services
from django_pushmfa.adapter import get_adapter
from django_pushmfa.models import BackupCode, MFACredential, SecurityEvent, TOTPDevice
from tests.fallbacks.conftest import JSONClient

pytestmark = pytest.mark.django_db
OLD_KEY = "tests-secret-key-not-for-production-0123456789abcdef"
NEW_KEY = "a-brand-new-secret-key-after-rotation-0123456789abcdef"


def command(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=out)
    return out.getvalue()


def totp_credential(user, secret: str) -> MFACredential:
    credential = services.add_credential(user, MFACredential.Method.TOTP, label="App")
    TOTPDevice.objects.create(credential=credential, encrypted_secret=get_adapter().encrypt_secret(secret))
    return credential


# --- pushmfa_reset -----------------------------------------------------------------------------------
def test_reset_revokes_everything_with_the_admins_event(user_factory, staff_user):
    user = user_factory("locked")
    credential = totp_credential(user, pyotp.random_base32())
    BackupCode.objects.create(user=user, code_hash="x" * 64)
    out = command("pushmfa_reset", "locked", "--reason", "lost phone, ticket 42", "--actor", "admin")
    assert "1 credential(s) revoked" in out
    credential.refresh_from_db()
    assert credential.revoked_at is not None and credential.revoked_by == staff_user
    assert not BackupCode.objects.filter(user=user, used_at__isnull=True).exists()
    event = SecurityEvent.objects.get(user=user, kind=SecurityEvent.Kind.MFA_RESET)
    assert event.actor == staff_user and event.detail["revoked"] == [str(credential.pk)]
    assert event.detail["reason"] == "lost phone, ticket 42 (manage.py pushmfa_reset)"


def test_reset_refuses_bad_input_and_changes_nothing(user_factory, staff_user):
    user = user_factory("locked")
    totp_credential(user, pyotp.random_base32())
    with pytest.raises(CommandError, match="No user 'nobody'"):
        command("pushmfa_reset", "nobody", "--reason", "x")
    with pytest.raises(CommandError, match="must not be empty"):
        command("pushmfa_reset", "locked", "--reason", "  ")
    with pytest.raises(CommandError, match="own MFA"):
        command("pushmfa_reset", "admin", "--reason", "x", "--actor", "admin")
    assert MFACredential.objects.active().count() == 1
    assert not SecurityEvent.objects.filter(kind=SecurityEvent.Kind.MFA_RESET).exists()


# --- pushmfa_rotate_secrets --------------------------------------------------------------------------
def test_rotate_secrets_reencrypts_seeds_under_the_new_key(user_factory, password):
    user = user_factory("ada")
    secret = pyotp.random_base32()
    credential = totp_credential(user, secret)  # encrypted under OLD_KEY (the test settings' key)
    revoked = totp_credential(user_factory("old"), pyotp.random_base32())
    services.revoke_credential(revoked, reason="test")
    with override_settings(SECRET_KEY=NEW_KEY, SECRET_KEY_FALLBACKS=[OLD_KEY]):
        assert "1 would be re-encrypted" in command("pushmfa_rotate_secrets", "--dry-run")
        assert "1 re-encrypted, 0 already under the current SECRET_KEY, 0 unreadable" in command(
            "pushmfa_rotate_secrets"
        )
        assert "0 re-encrypted, 1 already" in command("pushmfa_rotate_secrets")
    assert SecurityEvent.objects.filter(user=user, kind="totp_secret_reencrypted", credential=credential).count() == 1
    # The old key is gone from the fallbacks: the seed still decrypts, so the user's app keeps working.
    with override_settings(SECRET_KEY=NEW_KEY, SECRET_KEY_FALLBACKS=[]):
        device = TOTPDevice.objects.get(credential=credential)
        assert get_adapter().decrypt_secret(device.encrypted_secret) == secret
        c = JSONClient()
        assert c.post("/accounts/login/", {"username": "ada", "password": password}).status_code == 302
        code = pyotp.TOTP(secret).now()
        assert c.post_json("api-totp-verify", {"code": code}).status_code == 200


def test_rotate_secrets_reports_unreadable_seeds(user):
    totp_credential(user, pyotp.random_base32())
    with override_settings(SECRET_KEY=NEW_KEY, SECRET_KEY_FALLBACKS=[]):
        with pytest.raises(CommandError, match="1 TOTP seed"):
            command("pushmfa_rotate_secrets")
    assert not SecurityEvent.objects.filter(kind="totp_secret_reencrypted").exists()


# --- pushmfa_prune_events ----------------------------------------------------------------------------
def test_prune_events_deletes_only_old_events(user, monkeypatch):
    old = services.record_event(user, SecurityEvent.Kind.MFA_COMPLETED)
    SecurityEvent.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=400))
    recent = services.record_event(user, SecurityEvent.Kind.MFA_COMPLETED)
    assert "1 security event(s) older than 365 day(s) would be deleted" in command(
        "pushmfa_prune_events", "--older-than", "365", "--dry-run"
    )
    assert SecurityEvent.objects.count() == 2
    monkeypatch.setattr("django_pushmfa.management.commands.pushmfa_prune_events.BATCH", 1)
    assert "Deleted 1 security event(s)" in command("pushmfa_prune_events", "--older-than", "365")
    assert list(SecurityEvent.objects.values_list("pk", flat=True)) == [recent.pk]
    with pytest.raises(CommandError, match="at least 1 day"):
        command("pushmfa_prune_events", "--older-than", "0")
