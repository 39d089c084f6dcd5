"""Why a push was denied, for the login page: the phone's answer is in the security log.

The challenge record only says "denied"; the event written with the phone's answer says whether the
user denied it, picked a wrong number, or reported it. The page says what happened instead of
guessing ("If you did not deny it, a wrong number may have been picked").
"""
from __future__ import annotations

from typing import Any

from ...models import SecurityEvent

DENIAL_REASONS: dict[str, str] = {
    SecurityEvent.Kind.WRONG_NUMBER: "wrong_number",
    SecurityEvent.Kind.PUSH_DENIED: "denied",
    SecurityEvent.Kind.PUSH_REPORTED: "reported",
}


def denial_reason(challenge: Any) -> str | None:
    """"wrong_number", "denied" or "reported" for a denied challenge (one query); None if unknown."""
    kind = (
        SecurityEvent.objects.filter(
            user_id=challenge.user_id, kind__in=list(DENIAL_REASONS), detail__challenge_id=str(challenge.id)
        )
        .values_list("kind", flat=True)
        .first()
    )
    return DENIAL_REASONS.get(kind) if kind else None
