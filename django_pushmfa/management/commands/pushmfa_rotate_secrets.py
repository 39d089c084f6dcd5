"""``manage.py pushmfa_rotate_secrets``: re-encrypt every stored TOTP seed under the current SECRET_KEY.

After rotating SECRET_KEY (the old key moved to SECRET_KEY_FALLBACKS), run this before dropping the
old key from the fallbacks: seeds still encrypted under it would otherwise become unreadable and
their users locked out of their authenticator app. Reports how many seeds were re-encrypted, were
already current, and could not be read with any key (exit status 1 then). ``--dry-run`` changes nothing.
Each re-encryption records a ``totp_secret_reencrypted`` SecurityEvent."""
from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.test.utils import override_settings

from ... import services
from ...adapter import get_adapter
from ...models import SecurityEvent, TOTPDevice


class Command(BaseCommand):
    help = "Re-encrypt the stored TOTP seeds under the current SECRET_KEY (run after rotating SECRET_KEY)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="count what would change; change nothing")

    def handle(self, *args: Any, dry_run: bool = False, **options: Any) -> None:
        adapter = get_adapter()
        counts = {"reencrypted": 0, "current": 0, "unreadable": 0}
        devices = TOTPDevice.objects.filter(credential__revoked_at__isnull=True).select_related("credential__user")
        for device in devices.iterator(chunk_size=500):
            try:
                with override_settings(SECRET_KEY_FALLBACKS=[]):
                    adapter.decrypt_secret(device.encrypted_secret)
                counts["current"] += 1
                continue
            except ValueError:
                pass
            try:
                secret = adapter.decrypt_secret(device.encrypted_secret)
            except ValueError:
                counts["unreadable"] += 1
                self.stderr.write(f"TOTP credential {device.pk}: not readable with SECRET_KEY or its fallbacks.")
                continue
            counts["reencrypted"] += 1
            if dry_run:
                continue
            with transaction.atomic():
                TOTPDevice.objects.filter(pk=device.pk).update(encrypted_secret=adapter.encrypt_secret(secret))
                services.record_event(
                    device.credential.user,
                    SecurityEvent.Kind.TOTP_SECRET_REENCRYPTED,
                    credential=device.credential,
                    via="manage.py pushmfa_rotate_secrets",
                )
        verb = "would be re-encrypted" if dry_run else "re-encrypted"
        self.stdout.write(
            f"TOTP seeds: {counts['reencrypted']} {verb}, {counts['current']} already under the current "
            f"SECRET_KEY, {counts['unreadable']} unreadable."
        )
        if counts["unreadable"]:
            raise CommandError(
                f"{counts['unreadable']} TOTP seed(s) cannot be decrypted with SECRET_KEY or SECRET_KEY_FALLBACKS; "
                "put the key they were encrypted with back into SECRET_KEY_FALLBACKS and run again."
            )
