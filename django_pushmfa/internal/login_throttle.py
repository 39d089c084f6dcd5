"""Failed password logins of app clients (``POST api/app/login/``), counted per username and per IP.

Fixed windows in the cache named by ``PUSHMFA_CACHE_ALIAS``: ``PUSHMFA_APP_LOGIN_RATE_LIMIT_USER``
failures for one username (known or not, so the limit itself tells nothing about who exists) and
``PUSHMFA_APP_LOGIN_RATE_LIMIT_IP`` failures from one client IP; past either, logins are refused with
``RateLimited`` (its ``retry_after`` is the rest of the window) before a password is even checked. An
attempt is counted before its password is checked and given back when it was right.
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


def reserve(username: str, ip: str | None) -> None:
    """Count this attempt for ``username`` and ``ip`` *before* the password is checked, so parallel
    attempts cannot all pass one reading of the counts; :func:`release` gives it back when the
    password was right (only failures count).

    Raises :class:`RateLimited` when either is past its limit (the refused attempt stays counted), and
    ``ChallengeStoreUnavailable`` when the cache cannot count: it raised, or answered nothing (a
    django-redis cache with ``IGNORE_EXCEPTIONS`` returns None for an outage): the login fails closed.
    """
    cache = caches[app_settings.CACHE_ALIAS]
    retry_after = 0
    try:
        for key, limit, window, left in _buckets(username, ip):
            cache.add(key, 0, window + 1)
            try:
                count = cache.incr(key)
            except ValueError:  # the window's key expired between add() and incr()
                cache.set(key, 1, window + 1)
                count = cache.get(key)
            if not isinstance(count, int):
                raise ChallengeStoreUnavailable()
            if count > limit:
                retry_after = max(retry_after, math.ceil(left))
    except ChallengeStoreUnavailable:
        raise
    except Exception:
        raise ChallengeStoreUnavailable()
    if retry_after:
        raise RateLimited(retry_after, scope="app_login")


def release(username: str, ip: str | None) -> None:
    """The reserved attempt succeeded: it does not count (best effort: a cache error only leaves it counted)."""
    cache = caches[app_settings.CACHE_ALIAS]
    for key, *_rest in _buckets(username, ip):
        try:
            cache.decr(key)
        except Exception:  # noqa: S110 - gone with its window, or the cache is down: nothing to give back
            pass
