"""Recent authentication ("step-up"): a credential change needs a second factor proved lately.

A session is *recently authenticated* for ``PUSHMFA_REAUTH_WINDOW`` seconds after its login's MFA
step (or the password step of a user who had no active MFA credential at that login), or after a
re-authentication. A login whose MFA step a remembered browser skipped does not count. The time
lives in the session (:data:`AUTHENTICATED_AT_KEY`), so it ends with the session.

A re-authentication is the login's own method flows with another :class:`~.login.Purpose`
(:data:`REAUTHENTICATION`): the push, TOTP, backup-code and WebAuthn verifications are the same,
only the completion differs — the user stays logged in as themself and the session is stamped.
"""
from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth import SESSION_KEY
from django.db import router, transaction
from django.http import HttpRequest
from django.urls import reverse

from .. import signals
from ..app_settings import app_settings
from ..exceptions import InvalidCredentials, MethodNotAvailable, MFANotInProgress
from ..models import MFACredential, SecurityEvent
from ..services import has_active_mfa, record_event
from . import login, pending, throttle

AUTHENTICATED_AT_KEY = "pushmfa_authenticated_at"
# Where the HTML re-authentication page returns to once it is done (a safe URL, checked again on use).
NEXT_KEY = "pushmfa_reauth_next"


def mark(request: HttpRequest) -> None:
    """This session authenticated just now (its login's step, or a re-authentication)."""
    request.session[AUTHENTICATED_AT_KEY] = time.time()


def is_recent(request: HttpRequest, session: Any = None) -> bool:
    """Whether this fully logged-in session (``session``, else the request's) authenticated within
    ``PUSHMFA_REAUTH_WINDOW``."""
    session = session if session is not None else getattr(request, "session", None)
    user = getattr(request, "user", None)
    if session is None or user is None or not user.is_authenticated or pending.get(request) is not None:
        return False
    # The stamp is the session's, and counts only for the user that session is logged in as: a view
    # authenticated some other way (a bearer token, a JWT) must not borrow another session's stamp.
    if str(session.get(SESSION_KEY, "")) != str(user.pk):
        return False
    try:
        at = float(session.get(AUTHENTICATED_AT_KEY))
    except (TypeError, ValueError):
        return False
    return 0 <= time.time() - at <= float(app_settings.REAUTH_WINDOW)


def reauthenticate_url(next_url: str = "") -> str:
    """The HTML re-authentication page, returning to ``next_url`` when given."""
    url = reverse("pushmfa:reauthenticate")
    return f"{url}?{urlencode({'next': next_url})}" if next_url else url


def complete(
    request: HttpRequest,
    user: Any,
    method: str,
    *,
    credential: MFACredential | None = None,
    credential_id: Any = None,
) -> login.StepDone:
    """A re-authentication verified with ``method``: stamp the session, record ``reauthenticated``.

    The counterpart of :func:`~.login.finish_step` for a session that is already logged in as
    ``user`` (``PermissionError`` for anyone else: a flow bug must never stamp another session).
    """
    if not (request.user.is_authenticated and str(request.user.pk) == str(user.pk)):
        raise PermissionError("Re-authentication completed for a user other than the session's.")
    with transaction.atomic(using=router.db_for_write(MFACredential)):
        credential = login.mark_used(user, credential=credential, credential_id=credential_id)
        mark(request)
        record_event(user, SecurityEvent.Kind.REAUTHENTICATED, request=request, credential=credential, method=method)
    signals.reauthenticated.send(sender=MFACredential, user=user, method=method, request=request)
    return login.StepDone(login.safe_next_url(request, request.session.pop(NEXT_KEY, None)))


def verify_password(request: Any, user: Any, password: str) -> None:
    """Check ``user``'s password for a re-authentication: only for a user without an active MFA
    credential (``MethodNotAvailable``). A wrong one is ``InvalidCredentials`` and counts in the
    typed-code back-off (``RateLimited`` meanwhile), so a stolen session guesses no faster than codes."""
    if has_active_mfa(user):
        raise MethodNotAvailable()
    throttle.check(user)
    if not user.check_password(password):
        # One mfa_failed event, counted in the streak (also when the cache is down: the database
        # fallback counts the typed methods, "password" among them) and towards the lock.
        throttle.record_failure(user, request, method="password", stage="reauthentication")
        raise InvalidCredentials()
    throttle.reset(user)


class Reauthentication(login.Purpose):
    """The re-authentication of the fully logged-in session's own user."""

    name = "reauthentication"

    def owner_id(self, request: HttpRequest) -> str | None:
        if pending.get(request) is not None or not request.user.is_authenticated:
            return None
        return str(request.user.pk)

    def user(self, request: HttpRequest) -> Any:
        if self.owner_id(request) is None:
            raise MFANotInProgress()
        return request.user

    def finish(
        self, request: HttpRequest, user: Any, method: str, *, credential_id: Any = None, remember: bool | None = None
    ) -> login.StepDone:
        return complete(request, user, method, credential_id=credential_id)


REAUTHENTICATION = Reauthentication()
