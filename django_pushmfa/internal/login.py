"""Request-level operations of the MFA step: whether a login needs it, and completing it.

Every method's verification (push, TOTP, WebAuthn, backup codes) ends in :func:`complete_login`,
so the HTML pages and the API log users in the same way.
"""
from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.contrib.auth import login
from django.db import router, transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import resolve_url
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from .. import signals
from ..models import MFACredential, SecurityEvent
from ..services import has_active_mfa, record_event
from . import pending, trust

ENROLL_REQUIRED_KEY = "pushmfa_enroll_required"


def needs_mfa_step(request: HttpRequest, user: Any) -> bool:
    """True when this password login must wait for a second factor."""
    from ..auth_backends import ENROLLED_ATTR

    # authenticate() already asked (same request, same user instance): no second query.
    enrolled = getattr(user, ENROLLED_ATTR, None)
    if not (has_active_mfa(user) if enrolled is None else enrolled):
        from ..adapter import get_adapter

        if get_adapter().is_mfa_required(user):
            request.session[ENROLL_REQUIRED_KEY] = True
        return False
    return not trust.is_browser_trusted(request, user)


def safe_next_url(request: HttpRequest, url: str | None) -> str:
    allowed = {request.get_host()}
    if url and url_has_allowed_host_and_scheme(url, allowed_hosts=allowed, require_https=request.is_secure()):
        return url
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def complete_login(
    request: HttpRequest,
    user: Any,
    method: str,
    *,
    credential: MFACredential | None = None,
    credential_id: Any = None,
) -> str:
    """Log ``user`` in for real after a verified second factor; returns where the browser goes next.

    Every method's successful verification ends here. ``login()`` rotates the session key (and the
    CSRF token); the browser binding survives it (see ``pending``). ``method`` is the API method name
    (push, totp, webauthn, backup_code); it is recorded in the session and in the
    ``mfa_completed`` SecurityEvent. Refuses (``PermissionError``) a ``user`` other than the one
    whose password step this session did: a flow bug must never log in the wrong account.

    ``credential`` is the credential that was used; or pass only its ``credential_id`` (the push
    flow knows just the answering device's id): the credential is then looked for among ``user``'s
    own, without a SELECT of its own, and ignored when it is not one of theirs.

    The writes (the session's login with ``last_login``, the credential's ``last_used_at``, the
    ``mfa_completed`` event) are one transaction: one commit instead of one per statement, and no
    event without the login it reports. ``mfa_completed`` is sent after that transaction.
    """
    from ..auth_backends import COMPLETING_ATTR

    state = pending.get(request)
    if state is not None and str(user.pk) != state.user_id:
        raise PermissionError("complete_login() called for a user other than the pending one.")
    next_url = safe_next_url(request, state.next_url if state else None)
    backend = state.backend if state else getattr(user, "backend", None)
    using = router.db_for_write(MFACredential)
    with transaction.atomic(using=using):
        setattr(request, COMPLETING_ATTR, True)
        try:
            login(request, user, backend=backend)
        finally:
            setattr(request, COMPLETING_ATTR, False)
        pending.clear(request)
        request.session[pending.METHOD_KEY] = method
        if credential is not None:
            MFACredential.objects.filter(pk=credential.pk).update(last_used_at=timezone.now())
        elif credential_id is not None:
            credential = _mark_used(using, user, credential_id)
        record_event(
            user, SecurityEvent.Kind.MFA_COMPLETED, request=request, credential=credential, method=method
        )
    signals.mfa_completed.send(sender=MFACredential, user=user, method=method, request=request)
    return next_url


def _mark_used(using: str, user: Any, credential_id: Any) -> MFACredential | None:
    """Set ``last_used_at`` of ``user``'s credential ``credential_id``; the credential, or None when
    it is not one of theirs (or the id is malformed).

    One UPDATE, no SELECT: the returned instance holds only its id and user id, the other fields are
    deferred (read from the database only if someone reads them), which is all the event's foreign
    key needs.
    """
    try:
        pk = uuid.UUID(str(credential_id))
    except ValueError:
        return None
    updated = MFACredential.objects.using(using).filter(pk=pk, user_id=user.pk).update(last_used_at=timezone.now())
    if not updated:
        return None
    return MFACredential.from_db(using, ["id", "user_id"], [pk, user.pk])


def remember_browser_after_login(request: HttpRequest, response: HttpResponse, user: Any, *, method: str) -> bool:
    """Set the "trust this browser" cookie after a completed MFA step (when the feature is on).

    Call only for a user the MFA step just logged in, and only when the user ticked the box.
    """
    if not getattr(user, "is_authenticated", False) or not trust.remember_browser(request, response, user):
        return False
    record_event(
        user, SecurityEvent.Kind.BROWSER_TRUSTED, request=request, method=method, days=trust.max_age() // 86400
    )
    return True
