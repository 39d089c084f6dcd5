"""Failed password logins of app clients (``POST api/app/login/``), counted per username and per IP.

Fixed windows in the cache named by ``PUSHMFA_CACHE_ALIAS``: ``PUSHMFA_APP_LOGIN_RATE_LIMIT_USER``
failures for one username (known or not, so the limit itself tells nothing about who exists) and
``PUSHMFA_APP_LOGIN_RATE_LIMIT_IP`` failures from one client IP; past either, logins are refused with
``RateLimited`` (its ``retry_after`` is the rest of the window) before a password is even checked.
Usernames are hashed before they become cache keys. Without the cache the login fails closed.
"""
from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Iterator

from django.core.cache import caches

from ..app_settings import app_settings
from ..exceptions import ChallengeStoreUnavailable, RateLimited

PREFIX = "pushmfa:applogin:"


def _buckets(username: str, ip: str | None) -> Iterator[tuple[str, int, int, float]]:
    """``(cache key, limit, window, seconds left in the window)`` of each limit that applies."""
    now = time.time()
    user_key = hashlib.sha256(username.casefold().encode()).hexdigest()
    for scope, ident, setting in (
        ("user", user_key, app_settings.APP_LOGIN_RATE_LIMIT_USER),
        ("ip", ip, app_settings.APP_LOGIN_RATE_LIMIT_IP),
    ):
        if not setting or not ident:
            continue
        limit, window = int(setting[0]), int(setting[1])
        yield f"{PREFIX}{scope}:{ident}:{int(now // window)}", limit, window, window - now % window


def check(username: str, ip: str | None) -> None:
    """Raise :class:`RateLimited` while ``username`` or ``ip`` is past its limit (one cache read)."""
    buckets = list(_buckets(username, ip))
    try:
        counts = caches[app_settings.CACHE_ALIAS].get_many([key for key, *_rest in buckets])
    except Exception:
        raise ChallengeStoreUnavailable()
    for key, limit, _window, left in buckets:
        if int(counts.get(key) or 0) >= limit:
            raise RateLimited(math.ceil(left), scope="app_login")


def record_failure(username: str, ip: str | None) -> None:
    """Count one failed password for ``username`` and ``ip``."""
    cache = caches[app_settings.CACHE_ALIAS]
    try:
        for key, _limit, window, _left in _buckets(username, ip):
            cache.add(key, 0, window + 1)
            try:
                cache.incr(key)
            except ValueError:  # the window's key expired between add() and incr()
                cache.set(key, 1, window + 1)
    except Exception:
        raise ChallengeStoreUnavailable()
