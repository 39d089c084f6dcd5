"""``manage.py pushmfa_reset <username> --reason "..."``: the admin's "Reset MFA" from a shell, for a
locked-out superuser or a site without the admin. The same service (``services.reset_mfa``), so the same
SecurityEvent (``mfa_reset``), signal and revocations."""
from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from ... import services


def get_user(username: str) -> Any:
    """The user whose USERNAME_FIELD is ``username``; CommandError when there is none."""
    user_model = get_user_model()
    try:
        return user_model._default_manager.get_by_natural_key(username)
    except user_model.DoesNotExist:
        raise CommandError(f"No user {username!r}.")

class Command(BaseCommand):
    help = "Revoke every MFA credential of a user and invalidate their backup codes (as the admin's Reset MFA)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", help="the user's username (USERNAME_FIELD)")
        parser.add_argument("--reason", required=True, help="why (kept in the security-event log)")
        parser.add_argument("--actor", help="the staff user doing the reset (recorded as the event's actor)")

    def handle(self, *args: Any, username: str, reason: str, actor: str | None = None, **options: Any) -> None:
        if not reason.strip():
            raise CommandError("--reason must not be empty.")
        user = get_user(username)
        staff = get_user(actor) if actor else None
        try:
            revoked = services.reset_mfa(user, actor=staff, reason=f"{reason.strip()} (manage.py pushmfa_reset)")
        except PermissionError as exc:
            raise CommandError(str(exc))
        self.stdout.write(
            f"MFA of {user.get_username()} reset: {len(revoked)} credential(s) revoked, backup codes invalidated."
        )

