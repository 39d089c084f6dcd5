"""The answer to a long poll that :class:`django_pushmfa.asgi.LongPollMiddleware` waited for, made in
one hop to a thread.

Django's ASGI handler runs the middleware in async mode. Each middleware built on ``MiddlewareMixin``
— Django's own: security, sessions, CSRF, authentication, messages — then calls each of its hooks
through ``sync_to_async``: a request makes a dozen hops between the event loop and a thread, and
under load every hop waits behind everything else the loop has to do. For the poll that just woke
up (the login's last step, the one the browser is waiting on) that was most of its latency
(bench/README.md, finding 19). :class:`OneHopHandler` answers it with the same handler in sync mode —
the same ``MIDDLEWARE``, URLconf, signals and views, exactly as under WSGI — in one call to the
event loop's executor. The native async poll view is answered by its sync twin
(``pushmfa:api-push-poll``, the same contract) rather than through ``async_to_sync``.

It is used only when the middleware wraps Django's own ``ASGIHandler`` and every middleware of
``MIDDLEWARE`` can run sync (:func:`for_application`); any other application — an ASGI middleware
between the two, a site with an async-only middleware — gets the poll as it gets every request.
"""
from __future__ import annotations

import asyncio
import contextvars
import io
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, cast

from django.conf import settings
from django.core import signals
from django.core.handlers import asgi as django_asgi
from django.core.handlers.asgi import ASGIHandler
from django.core.handlers.base import BaseHandler
from django.http import HttpResponseBase
from django.urls import ResolverMatch, set_script_prefix
from django.utils.module_loading import import_string

Scope = MutableMapping[str, Any]
Message = dict[str, Any]
ASYNC_POLL = "pushmfa:api-push-poll-async"


class OneHopHandler(ASGIHandler):
    """Django's ASGI handler with its middleware loaded in sync mode: :meth:`respond` runs a whole
    request (signals, middleware, view) in the calling thread."""

    def __init__(self) -> None:
        from ..api.push import PushPollView

        BaseHandler.__init__(self)
        self.load_middleware(is_async=False)
        self.sync_poll = PushPollView.as_view()

    def resolve_request(self, request: Any) -> ResolverMatch:
        match = super().resolve_request(request)
        if match.view_name == ASYNC_POLL:
            match.func = self.sync_poll
        return match

    def respond(self, scope: Scope) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        """The response to ``scope`` (a GET: no body) as (status, headers, body). Runs in a thread."""
        set_script_prefix(self.script_prefix(scope))
        signals.request_started.send(sender=ASGIHandler, scope=scope)
        request, error_response = self.create_request(scope, io.BytesIO())
        # create_request gives a request, or the response for a request it could not make
        response = cast(HttpResponseBase, error_response) if request is None else self.get_response(request)
        try:
            body = b"".join(response) if response.streaming else response.content  # type: ignore[attr-defined]
            return response.status_code, _headers(response), body
        finally:
            response.close()  # request_finished: the database connections are handed back in this thread

    def script_prefix(self, scope: Scope) -> str:
        # A function of the module from Django 5.0 on, a method of ASGIHandler before.
        function = getattr(django_asgi, "get_script_prefix", None)
        return str(function(scope) if function is not None else self.get_script_prefix(scope))  # type: ignore[attr-defined]

    async def answer(self, scope: Scope, receive: Callable[[], Awaitable[Message]],
                     send: Callable[[Message], Awaitable[None]]) -> None:
        """Answer ``scope`` as Django would, with one hop to the loop's executor (in a copy of this
        task's context, kept by nobody afterwards)."""
        while True:  # the request's (empty) body; a client that left needs no answer
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            if not message.get("more_body", False):
                break
        context = contextvars.copy_context()
        status, headers, body = await asyncio.get_running_loop().run_in_executor(
            None, context.run, self.respond, scope
        )
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _headers(response: HttpResponseBase) -> list[tuple[bytes, bytes]]:
    """The response's headers and cookies as ASGI headers (as ``ASGIHandler.send_response`` makes them)."""
    headers = [(str(name).encode("ascii"), str(value).encode("latin-1")) for name, value in response.items()]
    headers.extend((b"Set-Cookie", c.output(header="").encode("ascii").strip()) for c in response.cookies.values())
    return headers


def for_application(app: Any) -> OneHopHandler | None:
    """The one-hop handler for ``app`` when ``app`` is Django's own ASGI handler and every middleware
    can run sync; else None (the poll then goes to ``app`` like any request)."""
    if type(app) is not ASGIHandler:
        return None
    for path in settings.MIDDLEWARE:
        if not getattr(import_string(path), "sync_capable", True):
            return None
    return OneHopHandler()
