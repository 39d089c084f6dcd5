"""Authentication backends that insert the MFA step into every password login.

``MFAModelBackend`` replaces ``django.contrib.auth.backends.ModelBackend``. For another backend
(LDAP, a custom one), mix :class:`MFABackendMixin` in *first*::

    class MFALDAPBackend(MFABackendMixin, LDAPBackend):
        pass

Any ``login()`` of a user authenticated by such a backend is turned into an "MFA pending" session
when the user holds an active MFA credential (see ``internal.pending``).

``authenticate()`` itself never hands a user with MFA to a caller that would use the user without
``login()`` — DRF's ``BasicAuthentication``, ``obtain_auth_token``, JWT issuers, scripts. For such a
user the backend answers as for a wrong password (``PermissionDenied``, so no later backend tries
either) unless the call can only end in the MFA step (see :func:`gate_password_step`):

- no request, or a request without a session (nothing that ``login()`` could make pending): refused;
- a DRF ``Request`` (every DRF authentication class and token view gets one): refused, unless the
  view runs the call inside :func:`password_login_flow` because it calls ``login()`` next;
- a plain ``HttpRequest`` with a session (Django's ``LoginView``, the admin's login, a site's own
  login view): accepted, and ``login()`` must follow on that request — ``MFAMiddleware`` withholds
  the response of a request where it did not (a view that checked a password by hand);
- a session already fully logged in as that very user (a "confirm your password" form): accepted,
  it grants nothing new.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.contrib.auth import BACKEND_SESSION_KEY
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.signals import user_logged_in
from django.core.exceptions import PermissionDenied
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils.module_loading import import_string

from .internal import pending

# Set on a request while the app's own completion of the MFA step calls login().
COMPLETING_ATTR = "_pushmfa_completing"
# Set on a request by password_login_flow(): its view calls login() after authenticate().
LOGIN_FLOW_ATTR = "_pushmfa_login_flow"
# Set on a request by the backend: the pk of a user with MFA whose password it accepted; login()
# (the receiver below) clears it, MFAMiddleware refuses the response while it is still set.
PASSWORD_STEP_ATTR = "_pushmfa_password_step"
# Set on the user instance authenticate() returns: whether it holds an active MFA credential.
ENROLLED_ATTR = "_pushmfa_enrolled"


class MFABackendMixin:
    """Marks a backend whose logins need the MFA step, and gates its ``authenticate()``."""

    pushmfa_requires_mfa = True

    def authenticate(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        user = super().authenticate(request, *args, **kwargs)  # type: ignore[misc]
        if user is None:
            return None
        return gate_password_step(request, user)


class MFAModelBackend(MFABackendMixin, ModelBackend):
    """ModelBackend whose password logins go through the MFA step for enrolled users."""


def http_request_of(request: Any) -> HttpRequest | None:
    """The Django ``HttpRequest`` behind ``request`` (a DRF ``Request`` wraps one), or None."""
    inner = getattr(request, "_request", request)
    return inner if isinstance(inner, HttpRequest) else None


def gate_password_step(request: Any, user: Any) -> Any:
    """``user`` when this ``authenticate()`` call may hand them out; raises ``PermissionDenied``
    (answered as a wrong password) for a user with MFA on a path that would skip the MFA step."""
    from .services import has_active_mfa

    enrolled = has_active_mfa(user)
    setattr(user, ENROLLED_ATTR, enrolled)
    if not enrolled:
        return user
    http_request = http_request_of(request)
    if http_request is not None and _logged_in_as(http_request, user):
        return user
    is_drf = http_request is not None and http_request is not request
    if (
        http_request is None
        or not hasattr(http_request, "session")
        or (is_drf and not getattr(http_request, LOGIN_FLOW_ATTR, False))
    ):
        refuse_password_only(user, http_request, stage="authenticate")
        raise PermissionDenied
    setattr(http_request, PASSWORD_STEP_ATTR, str(user.pk))
    return user


def refuse_password_only(user: Any, request: HttpRequest | None, *, stage: str) -> None:
    """Record that a password-only path was refused for ``user`` (a ``password_only_refused`` event)."""
    from .models import SecurityEvent
    from .services import record_event

    path = request.path if request is not None else None
    record_event(user, SecurityEvent.Kind.PASSWORD_ONLY_REFUSED, request=request, stage=stage, path=path)


def _logged_in_as(request: HttpRequest, user: Any) -> bool:
    current = getattr(request, "user", None)
    return bool(getattr(current, "is_authenticated", False)) and str(current.pk) == str(user.pk)


@contextmanager
def password_login_flow(request: Any) -> Iterator[None]:
    """Let ``authenticate()`` return a user with MFA to a DRF view that calls ``login()`` next.

    For the site's own DRF login endpoints: the ``login()`` that follows on ``request`` turns the
    session into an "MFA pending" one, and MFAMiddleware refuses the response if it does not follow.
    """
    http_request = http_request_of(request)
    if http_request is None:
        raise TypeError("password_login_flow() needs the view's request.")
    setattr(http_request, LOGIN_FLOW_ATTR, True)
    try:
        yield
    finally:
        setattr(http_request, LOGIN_FLOW_ATTR, False)


def backend_requires_mfa(backend_path: str | None) -> bool:
    if not backend_path:
        return False
    try:
        backend_cls = import_string(backend_path)
    except ImportError:
        return True  # fail closed: an unknown backend on a login is not trusted to skip MFA
    return bool(getattr(backend_cls, "pushmfa_requires_mfa", False))


@receiver(user_logged_in, dispatch_uid="pushmfa_insert_mfa_step")
def insert_mfa_step(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    http_request = http_request_of(request)
    if http_request is not None and getattr(http_request, PASSWORD_STEP_ATTR, None) == str(user.pk):
        delattr(http_request, PASSWORD_STEP_ATTR)  # the login() the password step promised
    if request is None or getattr(request, COMPLETING_ATTR, False) or not hasattr(request, "session"):
        return
    backend_path = request.session.get(BACKEND_SESSION_KEY)
    if not backend_requires_mfa(backend_path):
        return
    from .internal.login import needs_mfa_step

    if needs_mfa_step(request, user):
        next_url = request.POST.get("next") or request.GET.get("next") or ""
        pending.begin(request, user, backend_path, next_url=next_url)
