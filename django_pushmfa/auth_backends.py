"""Authentication backends that insert the MFA step into every password login.

``MFAModelBackend`` replaces ``django.contrib.auth.backends.ModelBackend``. For another backend
(LDAP, a custom one), mix :class:`MFABackendMixin` in *first*::

    class MFALDAPBackend(MFABackendMixin, LDAPBackend):
        pass

Any ``login()`` of a user authenticated by such a backend is turned into an "MFA pending" session
when the user holds an active MFA credential: the ``user_logged_in`` receiver
(``internal.login.insert_mfa_step``, connected in ``apps.ready``) does it.
"""
from __future__ import annotations

from django.contrib.auth.backends import ModelBackend


class MFABackendMixin:
    """Marks a backend whose logins need the MFA step."""

    pushmfa_requires_mfa = True


class MFAModelBackend(MFABackendMixin, ModelBackend):
    """ModelBackend whose password logins go through the MFA step for enrolled users."""
