"""``manage.py pushmfa_prune_events --older-than DAYS``: delete security events older than DAYS days.

The event log is append-only and grows with every login; keep what your retention policy (and
incident response) needs and prune the rest, e.g. daily from cron. Deletes in batches so a large
backlog does not hold one long transaction. ``--dry-run`` only counts."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from ...models import SecurityEvent

BATCH = 5000


class Command(BaseCommand):
    help = "Delete MFA security events older than --older-than DAYS days."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--older-than", type=int, required=True, metavar="DAYS", help="age in days (at least 1)")
        parser.add_argument("--dry-run", action="store_true", help="count what would be deleted; delete nothing")

    def handle(self, *args: Any, older_than: int, dry_run: bool = False, **options: Any) -> None:
        if older_than < 1:
            raise CommandError("--older-than must be at least 1 day.")
        cutoff = timezone.now() - timedelta(days=older_than)
        old = SecurityEvent.objects.filter(created_at__lt=cutoff)
        if dry_run:
            self.stdout.write(f"{old.count()} security event(s) older than {older_than} day(s) would be deleted.")
            return
        deleted = 0
        while True:
            batch = list(old.order_by("pk").values_list("pk", flat=True)[:BATCH])
            if not batch:
                break
            deleted += SecurityEvent.objects.filter(pk__in=batch).delete()[0]
        self.stdout.write(f"Deleted {deleted} security event(s) older than {older_than} day(s).")
