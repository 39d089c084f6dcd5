"""Authentication backends that insert the MFA step into every password login.

``MFAModelBackend`` replaces ``django.contrib.auth.backends.ModelBackend``. For another backend
(LDAP, a custom one), mix :class:`MFABackendMixin` in *first*::

    class MFALDAPBackend(MFABackendMixin, LDAPBackend):
        pass

Any ``login()`` of a user authenticated by such a backend is turned into an "MFA pending" session
when the user holds an active MFA credential (see ``internal.pending``).
"""
from __future__ import annotations

from typing import Any

from django.contrib.auth import BACKEND_SESSION_KEY
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils.module_loading import import_string

from .internal import pending

# Set on a request while the app's own completion of the MFA step calls login().
COMPLETING_ATTR = "_pushmfa_completing"


class MFABackendMixin:
    """Marks a backend whose logins need the MFA step."""

    pushmfa_requires_mfa = True


class MFAModelBackend(MFABackendMixin, ModelBackend):
    """ModelBackend whose password logins go through the MFA step for enrolled users."""


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
    if request is None or getattr(request, COMPLETING_ATTR, False) or not hasattr(request, "session"):
        return
    backend_path = request.session.get(BACKEND_SESSION_KEY)
    if backend_path is None or not backend_requires_mfa(backend_path):
        return
    from .internal.login import needs_mfa_step

    if needs_mfa_step(request, user):
        next_url = request.POST.get("next") or request.GET.get("next") or ""
        pending.begin(request, user, backend_path, next_url=next_url)
