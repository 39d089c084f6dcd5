"""Sessions of app clients (SPAs, the site's own mobile apps): the session key in ``X-Session-Token``.

An app client's session is an ordinary server-side Django session, created by ``POST api/app/login/``
and marked as an app session there; the client carries its key in the ``X-Session-Token`` header
instead of a cookie (see docs/api-contract.md, "App clients"). While a request carries the header,
:func:`attach` puts that session on the request in place of the cookie's, the views and flows run
exactly as for a browser, and :func:`detach` saves it and puts the cookie's session back, so the
session middleware never sets a cookie for it.

Header and cookie never mix: a request with the header uses the header's session only (the cookie's
is ignored, unknown or ended tokens are refused, not "fallen back" from), and only sessions created by
the app login are accepted in the header, so a browser's cookie session cannot be driven through it.
Because a cross-site page cannot set a custom header, a header-authenticated request needs no CSRF
token; every other request keeps the CSRF check.
"""
from __future__ import annotations

from importlib import import_module
from types import SimpleNamespace
from typing import Any, cast

from django.conf import settings
from django.contrib.auth import get_user
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.backends.base import SessionBase, UpdateError
from django.http import HttpRequest

from . import sessions

HEADER = "X-Session-Token"
# Session key: set on every session api/app/login/ creates; the header accepts only those.
APP_KEY = "pushmfa_app"
# Request attributes of an app request: its session token as it came in, the cookie's session and CSRF flag.
_STATE_ATTR = "_pushmfa_app_session"
# The app session of a request after detach(): expose() and the adapter's get_app_tokens() read it.
DETACHED_ATTR = "pushmfa_app_session"
# Longest token looked up (Django's session keys are 32 characters; anything far longer is refused unread).
MAX_TOKEN_LENGTH = 64


class InvalidSessionToken(Exception):
    """The ``X-Session-Token`` is unknown, ended, or not an app session."""


def session_store(session_key: str | None = None) -> SessionBase:
    engine = import_module(settings.SESSION_ENGINE)
    return engine.SessionStore(session_key=session_key)


def token_from(request: HttpRequest) -> str | None:
    """The request's ``X-Session-Token`` (None when absent; an empty header counts as present)."""
    value = request.META.get("HTTP_X_SESSION_TOKEN")
    return None if value is None else value.strip()


def load(token: str) -> SessionBase:
    """The app session ``token`` names; :class:`InvalidSessionToken` when there is none (one read)."""
    if not token or len(token) > MAX_TOKEN_LENGTH or not token.isascii() or not token.isalnum():
        raise InvalidSessionToken()
    session = session_store(token)
    # load() of an unknown or expired key answers {} (and forgets the key): no APP_KEY then.
    if session.get(APP_KEY) is not True or session.session_key != token:
        raise InvalidSessionToken()
    # Ended from elsewhere ("Your sessions", sign out everywhere else, an MFA reset): MFAMiddleware
    # checks only the cookie's session, so the token's is checked here, on every request it makes.
    if not sessions.is_open(session):
        session.flush()
        raise InvalidSessionToken()
    return session


def user_of(session: SessionBase) -> Any:
    """The session's logged-in user as Django's ``get_user`` decides it (backend, password hash,
    ``is_active``); AnonymousUser for a session whose MFA step is not done."""
    # get_user reads only ``request.session``: a stand-in request that carries the app session.
    return get_user(cast(HttpRequest, SimpleNamespace(session=session)))


def new_session() -> SessionBase:
    """A fresh, empty app session (its key is made when it is first saved)."""
    session = session_store()
    session[APP_KEY] = True
    return session


def attach(request: HttpRequest, session: SessionBase, token: str | None) -> None:
    """Make ``session`` the request's session for the rest of the request (see :func:`detach`)."""
    cookie_session = getattr(request, "session", None)
    csrf = request.META.get("CSRF_COOKIE_NEEDS_UPDATE")
    setattr(request, _STATE_ATTR, SimpleNamespace(token=token, cookie_session=cookie_session, csrf=csrf))
    request.session = session
    request.user = user_of(session) if token else AnonymousUser()


def authenticate_request(request: HttpRequest) -> bool:
    """Attach the header's session when the request carries ``X-Session-Token``; False without the
    header. Raises :class:`InvalidSessionToken` for a token that names no app session. Idempotent."""
    if is_app_request(request):
        return True
    token = token_from(request)
    if token is None:
        return False
    attach(request, load(token), token)
    return True


def is_app_request(request: HttpRequest) -> bool:
    """True for a request whose session came from ``X-Session-Token`` (or the app login)."""
    return getattr(request, _STATE_ATTR, None) is not None


# The answers that complete a login (docs/api-contract.md): the site's own tokens go with them.
COMPLETED = ("approved", "authenticated")


def app_session(request: HttpRequest) -> SessionBase:
    """The request's app session: the one :func:`detach` took off, else the request's own."""
    return getattr(request, DETACHED_ATTR, None) or request.session


def expose(request: HttpRequest, data: dict[str, Any], new_token: str) -> None:
    """Add the app client's new ``session_token`` to a successful answer, and, when the answer
    completes its login, the adapter's :meth:`~django_pushmfa.adapter.DefaultMFAAdapter.get_app_tokens`."""
    data["session_token"] = new_token
    user = getattr(request, "user", None)
    if data.get("status") in COMPLETED and user is not None and user.is_authenticated:
        from ..adapter import get_adapter

        tokens = get_adapter().get_app_tokens(request, user)
        if tokens:
            data["tokens"] = tokens


def detach(request: HttpRequest, *, save: bool = True) -> str | None:
    """Save the app session (when changed and ``save``), put the cookie's session back, and answer
    the token the client must use from now on when it changed (a login rotates the key), else None."""
    state = getattr(request, _STATE_ATTR, None)
    if state is None:
        return None
    session = request.session
    if save and session.modified and not session.is_empty():
        try:
            session.save()
        except UpdateError:
            # Logged out (deleted) by another request meanwhile: nothing to keep; the token is refused
            # from its next request on. Django's session middleware answers this case with a 400.
            session.clear()
    new_token = session.session_key if not session.is_empty() else None
    request.session = state.cookie_session
    setattr(request, DETACHED_ATTR, session)  # for expose(): the answer's tokens belong to this session
    # login() rotates the CSRF token of the cookie's session; this request never used that session.
    if state.csrf is None:
        request.META.pop("CSRF_COOKIE_NEEDS_UPDATE", None)
    else:
        request.META["CSRF_COOKIE_NEEDS_UPDATE"] = state.csrf
    delattr(request, _STATE_ATTR)
    return new_token if new_token and new_token != state.token else None
