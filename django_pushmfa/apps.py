from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PushMFAConfig(AppConfig):
    name = "django_pushmfa"
    label = "pushmfa"
    verbose_name = _("Multi-factor authentication")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the system checks)
        # Connects the user_logged_in receiver that inserts the MFA step. It must be connected before
        # the first login even when no code path imported the backend module yet (login() with an
        # explicit backend= never imports it).
        from . import auth_backends  # noqa: F401
