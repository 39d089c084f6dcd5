from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PushMFAConfig(AppConfig):
    name = "django_pushmfa"
    label = "pushmfa"
    verbose_name = _("Multi-factor authentication")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # checks: registers the system checks. auth_backends: connects the user_logged_in receiver
        # that inserts the MFA step; it must be connected before the first login even when nothing
        # imported the backend module yet (login() with an explicit backend= never imports it).
        from . import auth_backends, checks  # noqa: F401
