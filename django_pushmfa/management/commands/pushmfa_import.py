"""``manage.py pushmfa_import --from django-otp|allauth [--user NAME] [--dry-run]``: take over users'
existing second factors from django-otp / django-two-factor-auth or django-allauth's ``mfa`` app, so they
keep signing in with the authenticator app, security keys and backup codes they already have. See
``django_pushmfa.management.importers``. Prints what was imported and what was skipped, and why."""
from __future__ import annotations

from collections import Counter
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ..importers import SOURCES, Imported, already_imported, iter_users, save, source_module


class Command(BaseCommand):
    help = "Import TOTP devices, backup/recovery codes and WebAuthn keys from django-otp or django-allauth."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--from", dest="source", required=True, choices=SOURCES, help="the package to import from")
        parser.add_argument("--user", dest="username", help="import this user only")
        parser.add_argument("--dry-run", action="store_true", help="report what would be imported; change nothing")

    def handle(
        self, *args: Any, source: str, username: str | None = None, dry_run: bool = False, **options: Any
    ) -> None:
        module = source_module(source)
        try:
            users = list(iter_users(source, username))
        except LookupError as exc:
            raise CommandError(str(exc))
        counts: Counter[str] = Counter()
        for user in users:
            for item in module.credentials(user):
                name = user.get_username()
                if not isinstance(item, Imported):
                    counts["skipped"] += 1
                    self.stdout.write(f"  skipped {name}: {item.source_id}: {item.reason}")
                elif already_imported(user, source, item.source_id):
                    counts["already imported"] += 1
                else:
                    counts[item.method] += 1
                    if not dry_run:
                        save(user, source, item)
                    verb = "would import" if dry_run else "imported"
                    self.stdout.write(f"  {verb} {name}: {item.method} ({item.source_id})")
        summary = ", ".join(f"{n} {what}" for what, n in sorted(counts.items())) or "nothing to import"
        self.stdout.write(f"{'Dry run: ' if dry_run else ''}{len(users)} user(s) from {source}: {summary}.")
