"""Backup-code domain logic: generation, normalisation, keyed hashing and the single-use UPDATE.

- A code is 16 characters from a 32-letter alphabet without look-alikes (80 bits), shown as four
  groups of four ("abcd-efgh-jkmn-pqrs") so it can be read aloud.
- Only an HMAC-SHA256 of the normalised code is stored, keyed with a key derived from SECRET_KEY
  (``salted_hmac`` with a fixed salt) and bound to the user. Verification also tries every key in
  SECRET_KEY_FALLBACKS, so rotating SECRET_KEY does not lock anybody out.
- Use is the seed's one atomic statement:
  ``UPDATE ... SET used_at = now WHERE user = ... AND code_hash IN (...) AND used_at IS NULL``;
  of any number of concurrent uses of one code exactly one updates a row.
"""
from __future__ import annotations

import re
import secrets
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.crypto import salted_hmac

from ...internal import throttle
from ...models import BackupCode

ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"  # 32 symbols: no l, o, 0, 1
GROUPS = 4
GROUP_LENGTH = 4
CODE_LENGTH = GROUPS * GROUP_LENGTH
HASH_SALT = "django_pushmfa.backup_codes.code_hash"
# Separators people type or paste: white space, ASCII and typographic dashes.
_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212]+")
_VALID = re.compile(f"[{ALPHABET}]{{{CODE_LENGTH}}}")
# Codes carried over by ``manage.py pushmfa_import``: django-otp static tokens (8 base32 letters, or up
# to 16 set by staff) and allauth recovery codes (8 digits). They stay usable until the set is replaced.
_IMPORTED = re.compile(r"[a-z0-9]{6,16}")

assert len(set(ALPHABET)) == 32


def generate_code() -> str:
    """One fresh code, formatted for display ("abcd-efgh-jkmn-pqrs")."""
    raw = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    return "-".join(raw[i : i + GROUP_LENGTH] for i in range(0, CODE_LENGTH, GROUP_LENGTH))


def normalize(code: Any) -> str | None:
    """Trim, lower-case, drop inner spaces and dashes; None when the result cannot be a code."""
    if not isinstance(code, str) or len(code) > throttle.MAX_CODE_LENGTH:
        return None
    cleaned = _SEPARATORS.sub("", code.strip().lower())
    if not (_VALID.fullmatch(cleaned) or _IMPORTED.fullmatch(cleaned)):
        return None
    return cleaned


def _keys() -> list[str]:
    return [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]


def code_hash(user: Any, normalized: str, secret: str | None = None) -> str:
    """The stored form of a normalised code: hex HMAC-SHA256, bound to the user, keyed by ``secret``."""
    return salted_hmac(
        HASH_SALT, f"{user.pk}:{normalized}", secret=secret or settings.SECRET_KEY, algorithm="sha256"
    ).hexdigest()


def candidate_hashes(user: Any, normalized: str) -> list[str]:
    """The code's hash under SECRET_KEY and under each of SECRET_KEY_FALLBACKS."""
    return list(dict.fromkeys(code_hash(user, normalized, key) for key in _keys()))


def consume(user: Any, normalized: str) -> BackupCode | None:
    """Mark the unused code as used, atomically; the used row, or None when none matched.

    The UPDATE alone decides (no read-then-write), so a code is accepted at most once however many
    requests race for it. Codes of a revoked set were marked used when it was revoked.
    """
    candidates = candidate_hashes(user, normalized)
    now = timezone.now()
    updated = BackupCode.objects.filter(user=user, code_hash__in=candidates, used_at__isnull=True).update(used_at=now)
    if not updated:
        return None
    return BackupCode.objects.filter(user=user, code_hash__in=candidates, used_at=now).first()


def remaining(user: Any) -> int:
    return BackupCode.objects.filter(user=user, used_at__isnull=True).count()
