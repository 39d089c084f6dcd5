from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PushMFAConfig(AppConfig):
    name = "django_pushmfa"
    label = "pushmfa"
    verbose_name = _("Multi-factor authentication")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.conf import settings
        from django.contrib.auth.signals import user_logged_in, user_logged_out
        from django.db.models.signals import post_save

        from . import checks  # noqa: F401 - registers the system checks
        from .internal import recovery, sessions
        from .internal.login import insert_mfa_step

        # Connected before the first login even when nothing imported the backend module yet
        # (login() with an explicit backend= never imports it).
        user_logged_in.connect(insert_mfa_step, dispatch_uid="pushmfa_insert_mfa_step")
        user_logged_out.connect(sessions.on_logged_out, dispatch_uid="pushmfa_session_logged_out")
        # A changed password ends the user's other sessions (recovery).
        post_save.connect(recovery.on_user_saved, sender=settings.AUTH_USER_MODEL, dispatch_uid="pushmfa_password")

        # The end of a login's MFA step (completed, cancelled, logged out) ends its push challenge.
        from .push.internal.flows import end_on_completion, end_on_logout
        from .signals import mfa_completed

        mfa_completed.connect(end_on_completion, dispatch_uid="pushmfa_end_push_on_completion")
        user_logged_out.connect(end_on_logout, dispatch_uid="pushmfa_end_push_on_logout")
