"""Number matching: the number the login screen shows, and the decoys the phone shows beside it.

Numbers have ``PUSHMFA_NUMBER_DIGITS`` digits (2..6) and never start with 0 (10..99 for two digits:
1 in 90 for a blind guess in "entry" mode), so a typed "07" vs "7" cannot be ambiguous. They come
from ``secrets``; decoys are distinct from each other and from the right number, and the order the
phone shows is a uniform shuffle.
"""
from __future__ import annotations

import secrets

from ...app_settings import app_settings

MODES = ("choices", "entry")
MIN_DIGITS, MAX_DIGITS = 2, 6
# PUSHMFA_NUMBER_MATCHING_PROFILE: what each compliance profile enforces, whatever NUMBER_MODE and
# NUMBER_DIGITS say — (mode, fewest digits). See docs/security.md for what each one is worth.
PROFILES: dict[str, tuple[str, int]] = {
    "cisa": ("entry", 2),  # CISA: the user types the number shown at the login (no picking)
    "nist": ("entry", 6),  # NIST SP 800-63B rev. 4: typed, and as long as an out-of-band secret
}


def effective_policy() -> tuple[str, int, int]:
    """``(mode, digits, choices)`` after ``PUSHMFA_NUMBER_MATCHING_PROFILE`` is applied."""
    mode, digits, count = app_settings.NUMBER_MODE, app_settings.NUMBER_DIGITS, app_settings.NUMBER_CHOICES
    profile = PROFILES.get(app_settings.NUMBER_MATCHING_PROFILE) if app_settings.NUMBER_MATCHING_PROFILE else None
    if profile is not None:
        mode = profile[0]
        digits = max(digits, profile[1]) if isinstance(digits, int) else profile[1]
    return mode, digits, count


def number_space(digits: int) -> tuple[int, int]:
    """(lowest, count) of the numbers with ``digits`` digits."""
    low = 10 ** (digits - 1)
    return low, 10**digits - low


def random_number(digits: int) -> str:
    low, count = number_space(digits)
    return str(low + secrets.randbelow(count)).zfill(digits)


def generate(
    *, digits: int | None = None, mode: str | None = None, choices: int | None = None
) -> tuple[str, list[str] | None]:
    """A fresh (display number, choices) pair; choices is None in "entry" mode.

    Arguments default to the settings, with ``PUSHMFA_NUMBER_MATCHING_PROFILE`` applied (validated by
    system check ``pushmfa.E002``).
    """
    policy_mode, policy_digits, policy_count = effective_policy()
    digits = policy_digits if digits is None else digits
    mode = policy_mode if mode is None else mode
    count = policy_count if choices is None else choices
    if not MIN_DIGITS <= digits <= MAX_DIGITS:
        raise ValueError(f"PUSHMFA_NUMBER_DIGITS must be {MIN_DIGITS}..{MAX_DIGITS}")
    if mode not in MODES:
        raise ValueError(f"PUSHMFA_NUMBER_MODE must be one of {MODES}")
    number = random_number(digits)
    if mode == "entry":
        return number, None
    if not 2 <= count <= number_space(digits)[1]:
        raise ValueError("PUSHMFA_NUMBER_CHOICES must be at least 2 and fit the number of digits")
    shown = {number}
    while len(shown) < count:  # rejection sampling keeps every decoy uniform among the rest
        shown.add(random_number(digits))
    ordered = sorted(shown)
    _shuffle(ordered)
    return number, ordered


def _shuffle(items: list[str]) -> None:
    """Fisher–Yates with ``secrets``: the right number's position is uniform and unpredictable."""
    for i in range(len(items) - 1, 0, -1):
        j = secrets.randbelow(i + 1)
        items[i], items[j] = items[j], items[i]
