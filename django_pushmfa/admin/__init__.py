"""Admin screens for support staff.

- **MFA credentials**: find a user's credentials (search by username or email; filter by method,
  push platform, active/revoked), look at them with every secret hidden, and revoke them through
  :func:`django_pushmfa.services.revoke_credential` (the "Revoke" action asks for a reason). Nothing
  can be added, edited or deleted here: a credential is only ever revoked.
- **Reset MFA** for a user (``admin:pushmfa_mfacredential_reset``): revokes every credential and
  invalidates the backup codes through :func:`django_pushmfa.services.reset_mfa`; needs the
  ``pushmfa.reset_mfa`` permission and refuses a staff member resetting themself.
- **Security events**: the read-only, filterable event log.
- **The user's change page**: :class:`MFAUserAdminMixin` adds the user's credentials, the count of
  unused backup codes and the "Reset MFA" link. With the stock ``auth.User`` and ``UserAdmin`` the
  app re-registers an extended ``UserAdmin`` on ``admin.site`` by itself
  (``PUSHMFA_ADMIN_EXTEND_USER_ADMIN = False`` turns that off); a site with its own user admin mixes
  :class:`MFAUserAdminMixin` in first::

      @admin.register(MyUser)
      class MyUserAdmin(MFAUserAdminMixin, UserAdmin):
          ...
"""
from __future__ import annotations

from django.contrib import admin

from ..models import MFACredential, SecurityEvent
from .credentials import CredentialStatusFilter, MFACredentialAdmin
from .events import SecurityEventAdmin
from .users import MFACredentialInline, MFAUserAdminMixin, extend_default_user_admin

__all__ = [
    "CredentialStatusFilter",
    "MFACredentialAdmin",
    "MFACredentialInline",
    "MFAUserAdminMixin",
    "SecurityEventAdmin",
    "extend_default_user_admin",
]

admin.site.register(MFACredential, MFACredentialAdmin)
admin.site.register(SecurityEvent, SecurityEventAdmin)
extend_default_user_admin(admin.site)
