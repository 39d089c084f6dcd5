"""Request-level operations of the MFA step: whether a login needs it, and finishing it.

Every method's verification (push, TOTP, WebAuthn, backup codes) ends in :func:`finish_step`, so the
HTML pages and the API log users in the same way and apply "remember this browser" in one place.
The ``user_logged_in`` receiver that inserts the MFA step into a password login lives here too
(connected from ``apps.ready``), beside the completion that must not trigger it.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, TypeVar

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, login
from django.db import router, transaction
from django.http import HttpRequest, HttpResponseBase
from django.shortcuts import resolve_url
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.module_loading import import_string

from .. import signals
from ..app_settings import app_settings
from ..exceptions import MFANotInProgress
from ..models import MFACredential, SecurityEvent
from ..services import has_active_mfa, record_event
from . import password_step, pending, sessions, trust

ENROLL_REQUIRED_KEY = "pushmfa_enroll_required"
# Session key: the browser asked to be remembered when its deferred step (a push) completes.
REMEMBER_KEY = "pushmfa_remember_browser"
# Set on a request while the app's own completion of the MFA step calls login().
COMPLETING_ATTR = "_pushmfa_completing"
# Set on a request that loaded its session and then waited (a long poll).
WAITED_ATTR = "_pushmfa_session_read_before_wait"

_ResponseT = TypeVar("_ResponseT", bound=HttpResponseBase)


# --- the password step ------------------------------------------------------------------------------
def backend_requires_mfa(backend_path: str | None) -> bool:
    """Whether logins through ``backend_path`` need the MFA step (see ``auth_backends``)."""
    if not backend_path:
        return False
    try:
        backend_cls = import_string(backend_path)
    except ImportError:
        return True  # fail closed: an unknown backend on a login is not trusted to skip MFA
    return bool(getattr(backend_cls, "pushmfa_requires_mfa", False))


def insert_mfa_step(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    """``user_logged_in`` receiver: turn a password login of an enrolled user into a pending one.

    A login that is complete here (no MFA credential, a remembered browser, a backend that skips
    MFA) is registered under "Your sessions"; the password step of a user without MFA also counts
    as this session's recent authentication (``internal.reauth``), a remembered browser's does not.
    """
    http_request = password_step.http_request_of(request)
    if http_request is not None and getattr(http_request, password_step.PASSWORD_STEP_ATTR, None) == str(user.pk):
        delattr(http_request, password_step.PASSWORD_STEP_ATTR)  # the login() the password step promised
    if request is None or getattr(request, COMPLETING_ATTR, False) or not hasattr(request, "session"):
        return
    backend_path = request.session.get(BACKEND_SESSION_KEY)
    if backend_path and backend_requires_mfa(backend_path) and needs_mfa_step(request, user):
        next_url = request.POST.get("next") or request.GET.get("next") or ""
        pending.begin(request, user, backend_path, next_url=next_url)
        return
    sessions.register(request, user)


def needs_mfa_step(request: HttpRequest, user: Any) -> bool:
    """True when this password login must wait for a second factor.

    Without an MFA credential the password step is this session's recent authentication
    (``internal.reauth``); a remembered browser skips the step (its record's last use is kept) but
    is no recent authentication.
    """
    # authenticate() already asked (same request, same user instance): no second query.
    enrolled = getattr(user, password_step.ENROLLED_ATTR, None)
    if not (has_active_mfa(user) if enrolled is None else enrolled):
        from ..adapter import get_adapter
        from . import reauth

        if get_adapter().is_mfa_required(user):
            request.session[ENROLL_REQUIRED_KEY] = True
        reauth.mark(request)
        return False
    return not trust.use_remembered(request, user)


def safe_next_url(request: HttpRequest, url: str | None) -> str:
    allowed = {request.get_host()}
    if url and url_has_allowed_host_and_scheme(url, allowed_hosts=allowed, require_https=request.is_secure()):
        return url
    return resolve_url(settings.LOGIN_REDIRECT_URL)


# --- the second factor ------------------------------------------------------------------------------
@dataclass(frozen=True)
class StepDone:
    """A completed MFA step: where the browser goes next, and the trust cookie to set (if any).

    The database work is done; :meth:`apply` only writes cookies onto the response the caller builds.
    """

    redirect_url: str
    trust_cookie: trust.Cookie | None = None

    def as_json(self) -> dict[str, Any]:
        return {"status": "approved", "redirect_url": self.redirect_url}

    def apply(self, response: _ResponseT) -> _ResponseT:
        if self.trust_cookie is not None:
            self.trust_cookie.set_on(response)
        return response


def set_remember_choice(request: HttpRequest, remember: bool) -> None:
    """Keep the "trust this browser" choice for a step that completes in a later request (a push)."""
    # Write only a change: an assignment marks the session modified, and the session engine then
    # saves it (a database UPDATE in its own transaction) on every push. A missing key is False.
    if request.session.get(REMEMBER_KEY, False) is not remember:
        request.session[REMEMBER_KEY] = remember


def mark_session_read_before_wait(request: HttpRequest) -> None:
    """Note that this request loaded its session and then waited (a long poll): what the session
    held then may have changed meanwhile (see :func:`remembered_choice`)."""
    setattr(request, WAITED_ATTR, True)


def remembered_choice(request: HttpRequest) -> bool:
    """The "trust this browser" choice kept for a step that completes later; call before the login.

    Kept when the step started, or ticked on the page while a push poll waited: the page then posted
    it to the MFA page, which stored it after this request had loaded the session, so the stored
    session is read again — one read, only where the feature is on, nothing was kept and the request
    waited after loading its session (:func:`mark_session_read_before_wait`); a poll that did not
    wait loaded the session as it is.
    """
    if request.session.get(REMEMBER_KEY, False):
        return True
    key = request.session.session_key
    if int(app_settings.TRUST_BROWSER_DAYS) <= 0 or not key or not getattr(request, WAITED_ATTR, False):
        return False
    from importlib import import_module

    return bool(import_module(settings.SESSION_ENGINE).SessionStore(key).get(REMEMBER_KEY, False))


def finish_step(
    request: HttpRequest,
    user: Any,
    method: str,
    *,
    credential: MFACredential | None = None,
    credential_id: Any = None,
    remember: bool | None = None,
) -> StepDone:
    """Finish the MFA step after a verified factor: log ``user`` in for real, trust the browser if asked.

    Every method's successful verification ends here. ``login()`` rotates the session key (and the
    CSRF token); the browser binding survives it (see ``pending``). ``method`` is the method's name
    (push, totp, webauthn, backup_code); it is recorded in the session and in the ``mfa_completed``
    SecurityEvent. Refuses (``PermissionError``) a ``user`` other than the one whose password step
    this session did: a flow bug must never log in the wrong account.

    ``credential`` is the credential that was used; or pass only its ``credential_id`` (the push
    flow knows just the answering device's id): the credential is then looked for among ``user``'s
    own, without a SELECT of its own, and ignored when it is not one of theirs.

    ``remember`` is the user's "trust this browser" choice; None means the choice kept by
    :func:`set_remember_choice` when the step started (a push). The trust cookie is only made when
    ``PUSHMFA_TRUST_BROWSER_DAYS`` > 0, and recorded as a ``browser_trusted`` event.

    Every write (the session's login with ``last_login``, the credential's ``last_used_at``, the
    events) is one transaction: one commit, no event without the login it reports, and nothing
    committed when any of it fails (so a push poll can give its approval back and be retried).
    ``mfa_completed`` is sent after that transaction.
    """
    state = pending.get(request)
    if state is not None and str(user.pk) != state.user_id:
        raise PermissionError("finish_step() called for a user other than the pending one.")
    if remember is None:
        remember = remembered_choice(request)
    next_url = safe_next_url(request, state.next_url if state else None)
    backend = state.backend if state else getattr(user, "backend", None)
    cookie = None
    using = router.db_for_write(MFACredential)
    with transaction.atomic(using=using):
        if not sessions.activate(request, user):
            pending.clear(request)  # recovery ended this pending login: its password step is void too
            raise MFANotInProgress()
        log_in(request, user, backend, method)
        request.session.pop(REMEMBER_KEY, None)
        credential = mark_used(user, credential=credential, credential_id=credential_id)
        record_event(
            user, SecurityEvent.Kind.MFA_COMPLETED, request=request, credential=credential, method=method
        )
        cookie = trust.cookie_for(request, user) if remember else None
        if cookie is not None:
            record_event(
                user, SecurityEvent.Kind.BROWSER_TRUSTED, request=request, method=method, days=cookie.max_age // 86400
            )
    signals.mfa_completed.send(sender=MFACredential, user=user, method=method, request=request)
    return StepDone(next_url, cookie)


def log_in(request: HttpRequest, user: Any, backend: str | None, method: str) -> None:
    """``login()`` without inserting the MFA step again, and mark the session's step done by ``method``."""
    setattr(request, COMPLETING_ATTR, True)
    try:
        login(request, user, backend=backend)
    finally:
        setattr(request, COMPLETING_ATTR, False)
    from . import reauth

    pending.clear(request)
    request.session[pending.METHOD_KEY] = method
    reauth.mark(request)


class Purpose:
    """What a verified second factor completes, for flows that finish later (a push's poll).

    :data:`LOGIN` finishes the MFA step of a password login. Another purpose (a re-authentication
    of a logged-in user, say) subclasses this with its own owner and completion; the method flows
    stay the same.
    """

    name = "login"

    def owner_id(self, request: HttpRequest) -> str | None:
        """The id of the user the step is for, as a string; None when no such step is in progress."""
        state = pending.get(request)
        return state.user_id if state is not None else None

    def user(self, request: HttpRequest) -> Any:
        """The user the step is for; ``MFANotInProgress`` when there is none (any more)."""
        state = pending.get(request)
        user = state.get_user() if state is not None else None
        if user is None:
            pending.clear(request)
            raise MFANotInProgress()
        return user

    def finish(
        self, request: HttpRequest, user: Any, method: str, *, credential_id: Any = None, remember: bool | None = None
    ) -> StepDone:
        return finish_step(request, user, method, credential_id=credential_id, remember=remember)


LOGIN = Purpose()


def mark_used(
    user: Any, *, credential: MFACredential | None = None, credential_id: Any = None
) -> MFACredential | None:
    """Set ``last_used_at`` of the credential that verified a step of ``user``; returns it.

    ``credential`` is updated by its pk. With only ``credential_id`` (the push flow knows just the
    answering device's id) it is one UPDATE limited to ``user``'s own credentials, no SELECT: the
    returned instance holds only its id and user id, the other fields are deferred, which is all the
    event's foreign key needs; None when it is not one of theirs (or the id is malformed).
    """
    if credential is not None:
        MFACredential.objects.filter(pk=credential.pk).update(last_used_at=timezone.now())
        return credential
    if credential_id is None:
        return None
    try:
        pk = uuid.UUID(str(credential_id))
    except ValueError:
        return None
    using = router.db_for_write(MFACredential)
    updated = MFACredential.objects.using(using).filter(pk=pk, user_id=user.pk).update(last_used_at=timezone.now())
    if not updated:
        return None
    return MFACredential.from_db(using, ["id", "user_id"], [pk, user.pk])
