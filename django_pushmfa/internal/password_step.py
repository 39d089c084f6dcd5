"""The password step's gate: ``authenticate()`` never hands a user with MFA to a caller that would
use the user without ``login()`` — DRF's ``BasicAuthentication``, ``obtain_auth_token``, JWT
issuers, scripts. For such a user the backend answers as for a wrong password (``PermissionDenied``,
so no later backend tries either) unless the call can only end in the MFA step:

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

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

# Set on a request by password_login_flow(): its view calls login() after authenticate().
LOGIN_FLOW_ATTR = "_pushmfa_login_flow"
# Set on a request by the gate: the pk of a user with MFA whose password it accepted; login()
# (``internal.login.insert_mfa_step``) clears it, MFAMiddleware refuses the response while it is set.
PASSWORD_STEP_ATTR = "_pushmfa_password_step"
# Set on the user instance authenticate() returns: whether it holds an active MFA credential.
ENROLLED_ATTR = "_pushmfa_enrolled"


def http_request_of(request: Any) -> HttpRequest | None:
    """The Django ``HttpRequest`` behind ``request`` (a DRF ``Request`` wraps one), or None."""
    inner = getattr(request, "_request", request)
    return inner if isinstance(inner, HttpRequest) else None


def gate_password_step(request: Any, user: Any) -> Any:
    """``user`` when this ``authenticate()`` call may hand them out; raises ``PermissionDenied``
    (answered as a wrong password) for a user with MFA on a path that would skip the MFA step."""
    from ..services import has_active_mfa

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
    from ..models import SecurityEvent
    from ..services import record_event

    path = request.path if request is not None else None
    record_event(user, SecurityEvent.Kind.PASSWORD_ONLY_REFUSED, request=request, stage=stage, path=path)


def _logged_in_as(request: HttpRequest, user: Any) -> bool:
    current = getattr(request, "user", None)
    return (
        current is not None
        and bool(getattr(current, "is_authenticated", False))
        and str(current.pk) == str(user.pk)
    )


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


