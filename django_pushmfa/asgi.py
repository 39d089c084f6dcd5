"""Long polls that wait without a thread, for ASGI deployments: wrap the site's ASGI application.

    # asgi.py
    from django.core.asgi import get_asgi_application
    from django_pushmfa.asgi import LongPollMiddleware

    application = LongPollMiddleware(get_asgi_application())

Django runs each ASGI request in a context of its own, and the first synchronous step of the
request (any middleware that is not natively async, which includes Django's own) starts a thread
that belongs to that request until it ends: a browser long-polling for 25 s holds an idle thread
for 25 s, whatever the view does. This middleware does the *waiting* before Django sees the poll:
for a browser's poll with ``wait`` (the login's and the re-authentication's), it waits for the
challenge to leave "pending" on the event loop (the store's read runs in the shared thread pool,
the wake arrives by the store's notification), and then hands the request to Django with
``wait=0``, which answers at once — with the session, the permission checks, the claim and the
login all done by the usual views. A wait that ends with the challenge still pending is answered
here, ``200 {"status": "pending"}`` as the view would (the re-polls at the end of each window are
most of a waiting browser's requests, and never reach Django). A poll whose challenge changed is
answered by Django's handler in sync mode, in one hop to a thread instead of one per middleware hook
(:mod:`django_pushmfa.internal.asgi_answer`), when this middleware wraps Django's ``ASGIHandler``
itself. Only the session that started the
challenge waits here (its cookie or ``X-Session-Token`` holds the challenge's binding); anything
else — a malformed ``wait``, an unknown or another browser's challenge, a store outage — goes to
Django unchanged, which answers it as always. So does a request with an ``Origin`` header (a
cross-origin app, whose CORS headers the site's middleware adds).

The wait counts as the poll's registration as the browser's newest (see
:func:`django_pushmfa.push.internal.challenges.register_poller`): the ticket travels to the view in
the ASGI scope (never from the client), so a reloaded page's orphaned poll still cannot claim.
"""
from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qsl, urlencode

from django.urls import Resolver404, resolve

from .exceptions import PushMFAError

Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]], Awaitable[None]]

# The browser polls whose wait this middleware takes over (they answer the same with wait=0).
POLL_VIEWS = frozenset({"pushmfa:api-push-poll", "pushmfa:api-push-poll-async", "pushmfa:api-reauth-push-poll"})
SCOPE_TICKET = "pushmfa.poller"  # the scope key that carries the waiting poll's ticket to the view
_UNSET = object()


class LongPollMiddleware:
    """ASGI middleware: the browser's long polls wait here, on the event loop, not in Django."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._one_hop: Any = _UNSET  # the handler that answers a waited-for poll (internal.asgi_answer)

    async def __call__(self, scope: Scope, receive: Callable[[], Awaitable[Any]], send: Any) -> None:
        if scope.get("type") == "http" and scope.get("method") == "GET" and not _header(scope, b"origin"):
            challenge_id, wait = _poll_of(scope)
            if challenge_id is not None and wait > 0:
                waited = await _wait(challenge_id, wait, scope)
                if waited is not None:
                    ticket, still_pending = waited
                    if still_pending:
                        # The same answer the view gives, without the trip through Django: the re-polls
                        # at the end of each window are most of a waiting browser's requests.
                        await _send_pending(send)
                        return
                    scope = _answer_now(scope, ticket)
                    one_hop = self._answerer()
                    if one_hop is not None:
                        await one_hop.answer(scope, receive, send)
                        return
        await self.app(scope, receive, send)

    def _answerer(self) -> Any:
        if self._one_hop is _UNSET:
            from .internal import asgi_answer

            self._one_hop = asgi_answer.for_application(self.app)
        return self._one_hop


def _poll_of(scope: Scope) -> tuple[str | None, float]:
    """(challenge id, wait) when ``scope`` is a browser's poll with a valid ``wait``, else (None, 0)."""
    from .api.push import parse_wait

    path = scope.get("path", "")
    root = scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root):]
    try:
        match = resolve(path)
    except Resolver404:
        return None, 0
    if match.view_name not in POLL_VIEWS:
        return None, 0
    raw = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)).get("wait")
    try:
        wait = parse_wait(raw)
    except Exception:  # malformed: Django answers 400 invalid
        return None, 0
    return str(match.kwargs.get("challenge_id", "")), wait


async def _wait(challenge_id: str, wait: float, scope: Scope) -> tuple[int | None, bool] | None:
    """Wait up to ``wait`` s (capped, with the poll's jitter) for this browser's challenge to leave
    "pending": (the poll's ticket, whether it is still pending). None when there is nothing to wait
    for — unknown, not pending, another browser's, or the store is down — and Django answers at once."""
    from .push.internal import challenges
    from .push.store import get_store
    from .push.store.base import PENDING, is_challenge_id

    if not is_challenge_id(challenge_id):
        return None
    store = get_store()
    seconds = challenges._wait_seconds(wait)
    try:
        # Registered before the read, so a change between the read and the wait still wakes us.
        with store.watch(challenge_id, prepare=False) as watcher:
            # The loop's shared executor, not sync_to_async: asgiref would copy the thread's context
            # variables back into this task's context, kept for the whole wait (2.7 KB per waiting
            # browser, measured with tracemalloc). _read_own needs no context of the request's.
            current = await asyncio.get_running_loop().run_in_executor(None, _read_own, store, challenge_id, scope)
            if current is None:
                return None
            updated = await watcher.await_change(current, seconds)
    except PushMFAError:
        return None
    return current.poller, updated is not None and updated.status == PENDING and not updated.is_expired()


def _read_own(store: Any, challenge_id: str, scope: Scope) -> Any:
    """The challenge when it is pending and this request's session started it (registered as its
    newest poll), else None. Runs in the shared thread pool (never a thread of the request's own)."""
    from .push.internal import challenges
    from .push.store.base import PENDING

    try:
        store.prepare_watch()
        current = store.get(challenge_id)
        if current is None or current.status != PENDING or not _started_it(scope, current.binding):
            return None
        # Only the status, the window and the ticket matter while waiting: the login context, the
        # choices and the binding are not kept for the whole wait of every browser (bench/README.md,
        # finding 16: memory per waiter).
        return replace(challenges.register_poller(current), context={}, choices=None, binding="")
    finally:
        challenges.release_db_connections()


def _started_it(scope: Scope, binding: str) -> bool:
    """Whether the request's session (its ``X-Session-Token``, else the session cookie) holds ``binding``."""
    from django.conf import settings
    from django.http.cookie import parse_cookie
    from django.utils.crypto import constant_time_compare

    from .internal import app_sessions, pending

    token = _header(scope, b"x-session-token")
    try:
        if token is not None:
            session = app_sessions.load(token.strip())
        else:
            key = parse_cookie(_header(scope, b"cookie") or "").get(settings.SESSION_COOKIE_NAME)
            if not key:
                return False
            session = app_sessions.session_store(key)
        value = session.get(pending.BINDING_KEY)
    except Exception:  # an unknown token, an unreadable session: Django answers (and says why)
        return False
    return bool(value) and constant_time_compare(str(value), binding)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return value.decode("latin-1")
    return None


PENDING_BODY = b'{"status": "pending"}'


async def _send_pending(send: Any) -> None:
    """``200 {"status": "pending"}``, never cached (as the view's ``never_cache``)."""
    await send({
        "type": "http.response.start",
        "status": 200,
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(PENDING_BODY)).encode()),
            (b"cache-control", b"max-age=0, no-cache, no-store, must-revalidate, private"),
            (b"x-content-type-options", b"nosniff"),
            (b"vary", b"Cookie, X-Session-Token"),
        ],
    })
    await send({"type": "http.response.body", "body": PENDING_BODY})


def _answer_now(scope: Scope, ticket: int | None) -> Scope:
    """The same request with ``wait=0`` (and the poll's ticket), for Django to answer at once."""
    query = [(k, v) for k, v in parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
             if k != "wait"]
    query.append(("wait", "0"))
    scope = dict(scope, query_string=urlencode(query).encode("latin-1"))
    scope.pop(SCOPE_TICKET, None)
    if ticket is not None:
        scope[SCOPE_TICKET] = ticket
    return scope


def ticket_of(request: Any) -> int | None:
    """The ticket this middleware gave a poll it waited for (from the ASGI scope; None otherwise)."""
    scope = getattr(request, "scope", None)
    value = scope.get(SCOPE_TICKET) if isinstance(scope, dict) else None
    return value if isinstance(value, int) else None
