"""``manage.py pushmfa_demo_code [username]``: the demo user's current authenticator-app code.

For trying the TOTP method without an authenticator app. Development only: it decrypts the stored
seed, which a real site never shows anyone.
"""
from __future__ import annotations

import time
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from django_pushmfa.adapter import get_adapter
from django_pushmfa.app_settings import app_settings
from django_pushmfa.models import MFACredential
from django_pushmfa.totp.internal import auth as totp_auth

from .pushmfa_demo import DEMO_USERNAME


class Command(BaseCommand):
    help = "Print the current TOTP code of a demo user (so no authenticator app is needed)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("username", nargs="?", default=DEMO_USERNAME)

    def handle(self, *args: Any, username: str, **options: Any) -> None:
        user = get_user_model()._default_manager.filter(**{get_user_model().USERNAME_FIELD: username}).first()
        credential = (
            MFACredential.objects.active().for_user(user).filter(method=MFACredential.Method.TOTP)
            .select_related("totp_device").first() if user is not None else None
        )
        if credential is None:
            raise CommandError(f"{username!r} has no active authenticator app; run ./demo (or pushmfa_demo) first.")
        secret = get_adapter().decrypt_secret(credential.totp_device.encrypted_secret)
        period = int(app_settings.TOTP_PERIOD)
        left = period - int(time.time()) % period
        code = totp_auth.make_totp(secret).now()
        self.stdout.write(f"{code}  (valid for {left} more seconds; the next one works too)")
