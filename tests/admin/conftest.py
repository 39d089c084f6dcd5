"""Fixtures for the admin tests: a user holding one credential of each method, with known secrets."""
from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.contrib.auth.models import Permission
from django.db import transaction

from django_pushmfa import services
from django_pushmfa.adapter import get_adapter
from django_pushmfa.models import BackupCode, MFACredential, PushDevice, TOTPDevice, WebAuthnKey

PUSH_TOKEN = "fcm-token-VERY-SECRET-0123456789abcdefghijklmnopqrstuvwxyz"
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


@dataclass
class Enrolled:
    user: object
    push: MFACredential
    totp: MFACredential
    webauthn: MFACredential
    backup: MFACredential
    secrets: list[str]


def _enroll(user, label_prefix=""):
    key = ec.generate_private_key(ec.SECP256R1())
    der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    encrypted = get_adapter().encrypt_secret(TOTP_SECRET)
    hashes = [hashlib.sha256(f"{user.pk}-code-{i}".encode()).hexdigest() for i in range(10)]
    with transaction.atomic():
        push = services.add_credential(user, MFACredential.Method.PUSH, label=f"{label_prefix}Phone")
        PushDevice.objects.create(
            credential=push,
            platform="fcm",
            push_token=PUSH_TOKEN + str(user.pk),
            public_key=der,
            key_type="p256",
            name=f"{label_prefix}Pixel 8",
        )
        totp = services.add_credential(user, MFACredential.Method.TOTP, label="Authenticator")
        TOTPDevice.objects.create(credential=totp, encrypted_secret=encrypted)
        webauthn = services.add_credential(user, MFACredential.Method.WEBAUTHN, label="YubiKey")
        key_id = b"webauthn-key-id-" + str(user.pk).encode()
        WebAuthnKey.objects.create(
            credential=webauthn,
            key_id=key_id,
            key_id_b64=base64.b64encode(key_id).decode(),
            public_key=b"cose-public-key-bytes",
            transports=["usb"],
        )
        backup = services.add_credential(user, MFACredential.Method.BACKUP_CODES, label="Backup codes")
        BackupCode.objects.bulk_create(BackupCode(user=user, credential=backup, code_hash=h) for h in hashes)
    secrets = [
        PUSH_TOKEN,
        TOTP_SECRET,
        encrypted,
        base64.b64encode(der).decode(),
        base64.b64encode(key_id).decode(),
        *hashes,
    ]
    return Enrolled(user, push, totp, webauthn, backup, secrets)


@pytest.fixture
def enrolled(user_factory):
    """``bob`` with push (FCM), TOTP, a security key and 10 backup codes."""
    return _enroll(user_factory("bob", email="bob@corp.example"))


@pytest.fixture
def other_enrolled(user_factory):
    """``carol``, a second enrolled user who must not show up in searches for bob."""
    return _enroll(user_factory("carol", email="carol@other.example"), label_prefix="Carol's ")


@pytest.fixture
def staff(staff_user):
    """A superuser (``admin``) without MFA, so ``force_login`` is not turned into a pending login."""
    return staff_user


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


@pytest.fixture
def support_factory(django_user_model, password):
    """A non-superuser staff member holding exactly the given ``app_label.codename`` permissions."""

    def make(username, *perms):
        member = django_user_model.objects.create_user(username, f"{username}@example.com", password, is_staff=True)
        for perm in perms:
            app_label, codename = perm.split(".")
            member.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
        return django_user_model.objects.get(pk=member.pk)  # fresh permission cache

    return make
