"""``django_pushmfa.asgi.LongPollMiddleware`` (issue 16: waiting browsers without a thread each).

Driven as an ASGI server drives it: the site's real ASGI application (Django's ASGIHandler) behind
the middleware, called with a scope, a receive and a send. The answers must be exactly the views'
(the middleware only moves the wait in front of Django), and waiting polls must not cost a thread.
"""
from __future__ import annotations

import asyncio
import json
import threading
import time
from unittest import mock

import pytest
from django.core.asgi import get_asgi_application
from django.urls import reverse

from django_pushmfa.asgi import LongPollMiddleware
from django_pushmfa.push.store import get_store

from .test_poll_retry import completed
from .test_push_flow import browser, phone, start  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db(transaction=True)


class Recorder:
    """The inner application, recording the query string each request reached Django with."""

    def __init__(self) -> None:
        self.app = get_asgi_application()
        self.queries: list[bytes] = []

    async def __call__(self, scope, receive, send):
        self.queries.append(scope.get("query_string", b""))
        await self.app(scope, receive, send)


async def call(app, client, path: str, query: str = "", extra_headers=()) -> tuple[int, dict]:
    status, _headers, body = await call_full(app, client, path, query, extra_headers)
    return status, json.loads(body or b"{}")


async def call_full(app, client, path: str, query: str = "", extra_headers=()) -> tuple[int, list, bytes]:
    """The request as an ASGI server makes it: (status, headers, body)."""
    cookies = "; ".join(f"{name}={morsel.value}" for name, morsel in client.cookies.items())
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
        "path": path, "raw_path": path.encode(), "root_path": "", "query_string": query.encode(),
        "headers": [(b"host", b"testserver"), (b"accept", b"application/json"), (b"cookie", cookies.encode()),
                    *extra_headers],
        "client": ("127.0.0.1", 50000), "server": ("testserver", 80),
    }
    sent: list[dict] = []
    requested = []

    async def receive():
        if not requested:
            requested.append(True)
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.Event().wait()  # the client stays connected

    async def send(message):
        sent.append(message)

    await app(scope, receive, send)
    start_message = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start_message["status"], start_message["headers"], body


def approve_later(phone, body, delay=0.3):  # noqa: F811
    timer = threading.Timer(delay, phone.respond, args=(body["challenge_id"], "approve"),
                            kwargs={"selected_number": body["display_number"]})
    timer.start()
    return timer


@pytest.mark.parametrize("url_name", ["pushmfa:api-push-poll", "pushmfa:api-push-poll-async"])
def test_the_wait_happens_before_django_and_the_answer_is_the_views(browser, phone, user, url_name):  # noqa: F811
    body = start(browser).json()
    path = reverse(url_name, args=[body["challenge_id"]])
    inner = Recorder()
    app = LongPollMiddleware(inner)
    timer = approve_later(phone, body)
    started = time.monotonic()
    status, data = asyncio.run(call(app, browser, path, "wait=10"))
    timer.join()
    assert status == 200 and data == {"status": "approved", "redirect_url": "/private/"}
    assert time.monotonic() - started < 9  # woken by the approval, not by the end of the wait
    assert inner.queries == [b"wait=0"]  # Django saw the poll once, after the change, told not to wait
    assert completed(user) == 1


@pytest.mark.parametrize("url_name", ["pushmfa:api-push-poll", "pushmfa:api-push-poll-async"])
def test_the_answer_after_the_wait_takes_one_hop_to_a_thread(browser, phone, user, url_name):  # noqa: F811
    """Wrapping Django's own handler, the woken poll is answered by it in sync mode in one call to a
    thread: Django's async request path (a sync_to_async hop per middleware hook) is not taken, and the
    answer — the login, its rotated session cookie — is the view's."""
    from asgiref.sync import SyncToAsync
    from django.core.handlers.asgi import ASGIHandler
    from django.test import Client

    body = start(browser).json()
    path = reverse(url_name, args=[body["challenge_id"]])
    app = LongPollMiddleware(get_asgi_application())
    hops = []
    real_hop = SyncToAsync.__call__

    def hop(self, *args, **kwargs):
        hops.append(getattr(self.func, "__qualname__", self.func))
        return real_hop(self, *args, **kwargs)

    timer = approve_later(phone, body)
    with mock.patch.object(ASGIHandler, "__call__", side_effect=AssertionError("went through Django's async path")), \
            mock.patch.object(SyncToAsync, "__call__", hop):
        status, headers, raw = asyncio.run(call_full(app, browser, path, "wait=10"))
    timer.join()
    assert (status, json.loads(raw)) == (200, {"status": "approved", "redirect_url": "/private/"})
    assert hops == []
    assert completed(user) == 1
    # The login's new session reaches the browser, and it is signed in.
    cookies = [value.decode() for name, value in headers if name.lower() == b"set-cookie"]
    session = next(c.split(";")[0].split("=", 1)[1] for c in cookies if c.startswith("sessionid="))
    signed_in = Client()
    signed_in.cookies["sessionid"] = session
    assert signed_in.get("/private/").status_code == 200


class AsyncOnlyMiddleware:
    sync_capable, async_capable = False, True

    def __init__(self, get_response):
        self.get_response = get_response

    async def __call__(self, request):
        return await self.get_response(request)


def test_the_poll_goes_through_the_wrapped_application_otherwise(settings):
    """An ASGI middleware between this one and Django's handler, or an async-only middleware in the
    site's MIDDLEWARE: the woken poll goes to the wrapped application like every request."""
    from django_pushmfa.internal import asgi_answer

    assert asgi_answer.for_application(get_asgi_application()) is not None
    assert asgi_answer.for_application(Recorder()) is None
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, "tests.login.test_asgi_long_poll.AsyncOnlyMiddleware"]
    assert asgi_answer.for_application(get_asgi_application()) is None


def test_a_poll_that_times_out_answers_pending_without_django(browser, phone, settings):  # noqa: F811
    """The view's own answer, made here: the re-polls at the end of each window never reach Django."""
    settings.PUSHMFA_LONG_POLL_JITTER = 0
    body = start(browser).json()
    inner = Recorder()
    status, data = asyncio.run(call(LongPollMiddleware(inner), browser, body["poll_url"], "wait=1"))
    assert (status, data) == (200, {"status": "pending"})
    assert inner.queries == []
    # the view answers the same
    assert browser.get(body["poll_url"] + "?wait=0", HTTP_ACCEPT="application/json").json() == {"status": "pending"}


def test_what_django_refuses_is_passed_on_unchanged(browser, phone):  # noqa: F811
    body = start(browser).json()
    inner = Recorder()
    app = LongPollMiddleware(inner)
    status, data = asyncio.run(call(app, browser, body["poll_url"], "wait=-1"))
    assert status == 400 and data["code"] == "invalid"
    unknown = reverse("pushmfa:api-push-poll", args=["7f1e2d3c-0000-4000-8000-000000000000"])
    status, data = asyncio.run(call(app, browser, unknown, "wait=10"))
    assert status == 404 and data["code"] == "not_found"
    status, _ = asyncio.run(call(app, browser, "/private/", "wait=10"))
    assert inner.queries == [b"wait=-1", b"wait=10", b"wait=10"]  # only a poll's wait is taken over


def test_another_browsers_poll_is_not_waited_for(browser, phone, user):  # noqa: F811
    """Only the session that started the challenge waits (and registers as its newest poll); anyone
    else gets the view's 404 at once."""
    from django.test import Client

    body = start(browser).json()
    inner = Recorder()
    started = time.monotonic()
    status, data = asyncio.run(call(LongPollMiddleware(inner), Client(), body["poll_url"], "wait=10"))
    assert time.monotonic() - started < 5
    assert status in (403, 404), data
    assert get_store().hits(f"poller:{body['challenge_id']}") == 0


def test_cross_origin_polls_go_to_django_unchanged(browser, phone, settings):  # noqa: F811
    """A request with an Origin (a cross-origin SPA, whose CORS headers the site's middleware adds) is
    left to Django entirely."""
    settings.PUSHMFA_LONG_POLL_JITTER = 0
    body = start(browser).json()
    inner = Recorder()
    status, data = asyncio.run(call(LongPollMiddleware(inner), browser, body["poll_url"], "wait=1",
                                    extra_headers=[(b"origin", b"https://app.example")]))
    assert (status, data) == (200, {"status": "pending"})
    assert inner.queries == [b"wait=1"]


def test_the_newest_poll_claims_through_the_middleware_too(browser, phone, user):  # noqa: F811
    body = start(browser).json()
    key = f"poller:{body['challenge_id']}"
    app = LongPollMiddleware(get_asgi_application())

    async def both():
        orphan = asyncio.ensure_future(call(app, browser, body["poll_url"], "wait=10"))
        while get_store().hits(key) < 1:
            await asyncio.sleep(0.02)
        newest = asyncio.ensure_future(call(app, browser, body["poll_url"], "wait=10"))
        while get_store().hits(key) < 2:
            await asyncio.sleep(0.02)
        await asyncio.to_thread(phone.respond, body["challenge_id"], "approve", selected_number=body["display_number"])
        return await orphan, await newest

    (old_status, old), (_, new) = asyncio.run(both())
    # The orphan never claims. What it answers depends on which of the two Django serves first:
    # before the newest's login, "pending" (or "consumed"); after it, its session key was rotated
    # away by that login, so no login is in progress for it any more.
    assert (old_status, old) in (
        (200, {"status": "pending"}),
        (200, {"status": "consumed"}),
        (403, {"code": "mfa_not_in_progress", "detail": "No login is in progress in this session."}),
    )
    assert new == {"status": "approved", "redirect_url": "/private/"}
    assert completed(user) == 1


@pytest.fixture
def pending_browsers(user_factory, add_phone, login_with_password, settings):  # noqa: F811
    """``make(n)``: n browsers of n users with a phone, each past its password step with a push started:
    [(client, start's body)]."""
    from django.test import Client

    settings.PUSHMFA_PUSH_RATE_LIMIT_IP = (1000, 900)  # every browser here is 127.0.0.1

    def make(count: int) -> list:
        polls = []
        for i in range(count):
            someone = user_factory(username=f"waiter{i}")
            add_phone(someone)
            client = Client()
            login_with_password(client, someone, next="/private/")
            polls.append((client, start(client).json()))
        return polls

    return make


def wait_all(app, polls, wait: int) -> list:
    """One waiting poll task per browser of ``polls``."""
    return [asyncio.ensure_future(call(app, client, body["poll_url"], f"wait={wait}")) for client, body in polls]


async def until_waiting(polls) -> None:
    """Until every poll of ``polls`` registered as its browser's newest, i.e. waits in the middleware."""
    deadline = time.monotonic() + 10
    while sum(get_store().hits(f"poller:{body['challenge_id']}") for _, body in polls) < len(polls):
        assert time.monotonic() < deadline, "the polls did not all start waiting"
        await asyncio.sleep(0.05)


async def cancel(tasks) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def test_waiting_polls_hold_no_thread(pending_browsers):
    """40 browsers waiting at once: the thread count stays where it was (Django's handler would start
    one per request for its synchronous steps, and keep it for the whole wait)."""
    polls = pending_browsers(40)
    app = LongPollMiddleware(get_asgi_application())

    async def all_wait():
        tasks = wait_all(app, polls, 5)
        await until_waiting(polls)
        during = threading.active_count()
        await cancel(tasks)
        return during

    before = threading.active_count()
    during = asyncio.run(all_wait())
    # The shared pool that ran their reads (a handful of threads) and the store's listener, not 40.
    assert during - before < 15, (before, during)


def test_a_waiting_poll_keeps_little_memory(pending_browsers):
    """What a waiting browser keeps allocated in Python while it waits here (tracemalloc, 60 waiters
    after 8 that start the shared executor's threads; this test's own scope and callables included;
    60 rather than 30, so that a one-time allocation of another thread in the window — up to 40 KB
    seen in full-suite runs — cannot pass for a per-waiter cost):
    6.8 KB each, on either store. Before the fixes of bench/README.md finding 16 — asgiref copying
    context variables back into every waiting task (2.7 KB), a threading.Event per waiter that only
    sync waiters use, the whole challenge kept for the wait — 12.0 KB. The server adds its own per
    connection (uvicorn: 10.5 KB measured with a bare waiting application)."""
    import gc
    import tracemalloc

    waiting, warm = 60, 8
    polls = pending_browsers(warm + waiting)
    app = LongPollMiddleware(get_asgi_application())

    async def measure() -> float:
        # Some polls first: what the first waiters make once (the shared executor's threads, each with
        # its database and Redis connections) is not per waiter.
        first = wait_all(app, polls[:warm], 20)
        await until_waiting(polls[:warm])
        await asyncio.sleep(0.2)
        gc.collect()
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            tasks = wait_all(app, polls[warm:], 20)
            await until_waiting(polls[warm:])
            await asyncio.sleep(0.2)
            gc.collect()
            during = tracemalloc.get_traced_memory()[0]
        finally:
            tracemalloc.stop()
        await cancel(first + tasks)
        return (during - before) / waiting

    per_waiter = asyncio.run(measure())
    assert per_waiter < 8 * 1024, per_waiter


def test_an_app_clients_poll_waits_here_too(user, password, add_phone):  # noqa: F811
    """An app client (X-Session-Token, no cookie) waits in the middleware; the approving answer, made by
    Django, carries its new session token."""
    from django.test import Client

    from tests.app_clients.conftest import AppClient

    app_phone = add_phone(user)
    app = AppClient()
    app.login(user.username, password)
    body = app.post("api-push-start").json()
    inner = Recorder()
    timer = approve_later(app_phone, body)
    header = [(b"x-session-token", app.token.encode())]
    status, data = asyncio.run(call(LongPollMiddleware(inner), Client(), body["poll_url"], "wait=10", header))
    timer.join()
    assert status == 200 and data["status"] == "approved" and data["session_token"] != app.token, data
    assert inner.queries == [b"wait=0"]
