"""Authentication backends that insert the MFA step into every password login.

``MFAModelBackend`` replaces ``django.contrib.auth.backends.ModelBackend``. For another backend
(LDAP, a custom one), mix :class:`MFABackendMixin` in *first*::

    class MFALDAPBackend(MFABackendMixin, LDAPBackend):
        pass

Any ``login()`` of a user authenticated by such a backend is turned into an "MFA pending" session
when the user holds an active MFA credential: the ``user_logged_in`` receiver
(``internal.login.insert_mfa_step``, connected in ``apps.ready``) does it. ``authenticate()`` itself
never hands such a user to a path that would skip that step (``internal.password_step``); a site's
own DRF login view that calls ``login()`` after ``authenticate()`` wraps the call in
:func:`password_login_flow`.
"""
from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend

from .internal.password_step import gate_password_step, password_login_flow

__all__ = ["MFABackendMixin", "MFAModelBackend", "password_login_flow"]


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
