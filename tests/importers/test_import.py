"""``pushmfa_import`` against the real django-otp, django-two-factor-auth and django-allauth, with their
own models: after the import a user signs in here with the authenticator app, the backup codes and the
security key they enrolled there — the codes computed from the secret the app holds, the assertion
signed by the same key."""
import base64
import time
from io import StringIO
from unittest import mock

import pyotp
import pytest
from django.core.management import call_command

from django_pushmfa.models import MFACredential, SecurityEvent, TOTPDevice
from tests.fallbacks.authenticator import SoftwareAuthenticator
from tests.fallbacks.conftest import JSONClient

pytestmark = pytest.mark.django_db


def run_import(*args: str) -> str:
    out = StringIO()
    call_command("pushmfa_import", *args, stdout=out)
    return out.getvalue()


def code_at(secret_b32: str, step: int, digits: int = 6) -> str:
    return pyotp.TOTP(secret_b32, digits=digits).generate_otp(step)


def signs_in_with_totp(c: JSONClient, password_step, user, code: str) -> int:
    password_step(c, user)
    return c.post_json("api-totp-verify", {"code": code}).status_code


# --- django-otp / django-two-factor-auth --------------------------------------------------------------
def test_django_otp_totp_and_static_tokens_keep_working(user, password_step):
    from django_otp.plugins.otp_static.models import StaticDevice
    from django_otp.plugins.otp_totp.models import TOTPDevice as OTPTOTPDevice

    device = OTPTOTPDevice.objects.create(user=user, name="My phone", confirmed=True)
    app_secret = pyotp.TOTP(base64.b32encode(device.bin_key).decode())  # what the authenticator app holds
    step = int(time.time()) // 30
    # The user signed in with django-otp once: that time step is used up there.
    assert device.verify_token(code_at(app_secret.secret, step))
    static = StaticDevice.objects.create(user=user, name="backup", confirmed=True)
    tokens = [static.token_set.create(token=t).token for t in ("abcd2345", "efgh6723", "k2m3n4p5")]
    assert static.verify_token(tokens[0])  # used (django-otp deletes a used token)

    out = run_import("--from", "django-otp")
    assert "1 user(s) from django-otp: 1 backup_codes, 1 totp." in out

    imported = TOTPDevice.objects.get(credential__user=user)
    assert imported.credential.label == "My phone" and imported.last_used_step == device.last_t == step
    event = SecurityEvent.objects.get(user=user, kind="credential_imported", detail__method="totp")
    assert event.detail["source"] == "django-otp" and event.detail["source_id"] == device.persistent_id
    assert str(imported.encrypted_secret) != app_secret.secret  # encrypted at rest

    # The code django-otp already accepted is refused (no replay); the app's next code signs in once its
    # step has come (the default window takes the current step and the one before, never a future one).
    c = JSONClient()
    assert signs_in_with_totp(c, password_step, user, code_at(app_secret.secret, step)) == 400
    next_step_now = mock.patch("django_pushmfa.totp.internal.auth.current_step", return_value=step + 1)
    with next_step_now:
        assert c.post_json("api-totp-verify", {"code": code_at(app_secret.secret, step + 1)}).status_code == 200

    backup = JSONClient()
    password_step(backup, user)
    assert backup.post_json("api-backup-codes-verify", {"code": tokens[0]}).status_code == 400  # used there
    assert backup.post_json("api-backup-codes-verify", {"code": tokens[1].upper()}).status_code == 200

    # A second run imports nothing twice.
    assert "2 already imported" in run_import("--from", "django-otp")
    assert MFACredential.objects.filter(user=user).count() == 2


def test_two_factor_auth_phone_less_setup(user_factory, password_step):
    """django-two-factor-auth's setup wizard without a phone stores a django-otp TOTP device named
    "default" and a static device named "backup"; two_factor's own lookup finds them before the import."""
    from django_otp.plugins.otp_static.models import StaticDevice
    from django_otp.plugins.otp_totp.models import TOTPDevice as OTPTOTPDevice
    from two_factor.utils import default_device

    user = user_factory("bob")
    device = OTPTOTPDevice.objects.create(user=user, name="default", confirmed=True, digits=8)
    assert default_device(user) == device
    StaticDevice.objects.create(user=user, name="backup", confirmed=True).token_set.create(token="q7r8s9t2")
    other = user_factory("carol")
    OTPTOTPDevice.objects.create(user=other, name="default", confirmed=False)  # never confirmed: ignored

    out = run_import("--from", "django-otp", "--user", "bob")
    assert "1 user(s) from django-otp: 1 backup_codes, 1 totp." in out
    assert not MFACredential.objects.filter(user=other).exists()

    secret = base64.b32encode(device.bin_key).decode()
    c = JSONClient()
    step = int(time.time()) // 30
    assert signs_in_with_totp(c, password_step, user, code_at(secret, step, digits=8)) == 200


def test_unsupported_devices_are_reported_not_imported(user):
    from django_otp.plugins.otp_totp.models import TOTPDevice as OTPTOTPDevice

    OTPTOTPDevice.objects.create(user=user, name="odd", confirmed=True, t0=15)
    out = run_import("--from", "django-otp")
    assert "skipped alice: otp_totp.totpdevice/" in out and "t0=15" in out and "1 skipped" in out
    assert not MFACredential.objects.filter(user=user).exists()


def test_dry_run_changes_nothing(user):
    from django_otp.plugins.otp_totp.models import TOTPDevice as OTPTOTPDevice

    OTPTOTPDevice.objects.create(user=user, name="default", confirmed=True)
    assert "Dry run: 1 user(s) from django-otp: 1 totp." in run_import("--from", "django-otp", "--dry-run")
    assert not MFACredential.objects.exists() and not SecurityEvent.objects.exists()


# --- django-allauth -----------------------------------------------------------------------------------
def test_allauth_totp_recovery_codes_and_security_key(user, password_step, settings):
    from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
    from allauth.mfa.webauthn.internal.auth import WebAuthn

    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    recovery = RecoveryCodes.activate(user)
    codes = recovery.get_unused_codes()
    assert recovery.validate_code(codes[0])  # used with allauth
    key = SoftwareAuthenticator()
    registration = key.create(
        {"rp": {"id": "testserver"}, "challenge": "AAAA", "user": {"id": "dQ", "name": "alice"}}
    )
    stored = WebAuthn.add(user, "YubiKey 5", registration)
    assert stored.authenticator_data.credential_data.credential_id == key.credential_id  # allauth reads it

    out = run_import("--from", "allauth")
    assert "1 user(s) from allauth: 1 backup_codes, 1 totp, 1 webauthn." in out

    c = JSONClient()
    step = int(time.time()) // 30
    assert signs_in_with_totp(c, password_step, user, code_at(secret, step)) == 200

    backup = JSONClient()
    password_step(backup, user)
    assert backup.post_json("api-backup-codes-verify", {"code": codes[0]}).status_code == 400
    assert backup.post_json("api-backup-codes-verify", {"code": codes[1]}).status_code == 200

    webauthn = JSONClient()
    password_step(webauthn, user)
    options = webauthn.post_json("api-webauthn-begin").json()
    assert webauthn.post_json("api-webauthn-complete", {"credential": key.get(options)}).status_code == 200
    credential = MFACredential.objects.get(user=user, method="webauthn")
    assert credential.label == "YubiKey 5" and credential.webauthn_key.transports == ["usb"]
