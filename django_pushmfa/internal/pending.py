"""The "MFA pending" state: what the session holds between the password step and the MFA step.

How the step is inserted into every login: :class:`~django_pushmfa.auth_backends.MFABackendMixin`
marks the backend, and a ``user_logged_in`` receiver (``internal.login.insert_mfa_step``) undoes the login
that ``django.contrib.auth.login()`` just made whenever the user holds an active MFA credential: the
auth keys leave the session, ``request.user`` becomes anonymous again, and the session keeps only
this pending state. Every view therefore sees an anonymous user until ``internal.login.finish_step`` runs
``login()`` again (rotating the session key) once a second factor verified. The state is bound to
the user's password hash: a password change ends a step in progress.
"""
from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.http import HttpRequest
from django.utils.crypto import constant_time_compare, salted_hmac

from ..app_settings import app_settings

PENDING_KEY = "pushmfa_pending"
# A random value bound to this browser's session; it survives the key rotation of login().
BINDING_KEY = "pushmfa_binding"
METHOD_KEY = "pushmfa_method"
# Set once the "second step failed" alert went out for the login in progress (one email per login).
ALERTED_KEY = "pushmfa_second_step_alerted"


PASSWORD_SALT = "django_pushmfa.pending.password"


@dataclass(frozen=True)
class PendingLogin:
    user_id: str
    backend: str
    started_at: float
    next_url: str
    password_binding: str = ""

    @property
    def expires_at(self) -> float:
        return self.started_at + app_settings.PENDING_TIMEOUT

    def get_user(self) -> Any:
        User = get_user_model()  # noqa: N806
        try:
            user = User._default_manager.get(pk=User._meta.pk.to_python(self.user_id))
        except (User.DoesNotExist, ValueError, TypeError):
            return None
        if not getattr(user, "is_active", True):
            return None
        # Bound to the password hash, as Django binds sessions: a password change ends the step.
        if not constant_time_compare(self.password_binding, password_binding(user)):
            return None
        user.backend = self.backend
        return user


def password_binding(user: Any) -> str:
    """A keyed digest of ``user``'s password hash (never the hash itself in the session)."""
    return salted_hmac(PASSWORD_SALT, getattr(user, "password", "") or "", algorithm="sha256").hexdigest()


def session_binding(request: HttpRequest) -> str:
    """The random token that binds challenges to this browser (created on first use)."""
    binding = request.session.get(BINDING_KEY)
    if not binding:
        binding = secrets.token_urlsafe(24)
        request.session[BINDING_KEY] = binding
    return binding


def begin(request: HttpRequest, user: Any, backend: str, next_url: str = "") -> PendingLogin:
    """Turn the session the password step just logged in into an "MFA pending" one."""
    for key in (SESSION_KEY, BACKEND_SESSION_KEY, HASH_SESSION_KEY):
        request.session.pop(key, None)
    request.session[BINDING_KEY] = secrets.token_urlsafe(24)
    request.session.pop(ALERTED_KEY, None)
    state: dict[str, Any] = {
        "user_id": str(user.pk),
        "backend": backend,
        "started_at": time.time(),
        "next": next_url,
        "pw": password_binding(user),
    }
    request.session[PENDING_KEY] = state
    from django.contrib.auth.models import AnonymousUser

    from . import sessions

    # Registered as MFA-pending: recovery ends it with the user's other sessions (the step is void).
    sessions.register(request, user, mfa_pending=True)
    request.user = AnonymousUser()
    return PendingLogin(state["user_id"], backend, state["started_at"], next_url, state["pw"])


def get(request: HttpRequest) -> PendingLogin | None:
    """The session's pending login, or None (none, malformed, or expired — expired ones are dropped)."""
    session = getattr(request, "session", None)
    if session is None:
        return None
    state = session.get(PENDING_KEY)
    if not isinstance(state, dict):
        return None
    try:
        pending = PendingLogin(
            str(state["user_id"]),
            str(state["backend"]),
            float(state["started_at"]),
            str(state.get("next") or ""),
            str(state.get("pw") or ""),
        )
    except (KeyError, TypeError, ValueError):
        clear(request)
        return None
    if time.time() >= pending.expires_at:
        clear(request)
        return None
    return pending


def set_next(request: HttpRequest, next_url: str) -> None:
    state = request.session.get(PENDING_KEY)
    if isinstance(state, dict) and next_url:
        state["next"] = next_url
        request.session[PENDING_KEY] = state


def clear(request: HttpRequest) -> None:
    request.session.pop(PENDING_KEY, None)
