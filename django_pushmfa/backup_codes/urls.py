"""Backup-code routes: ``urlpatterns`` are the pages, ``api_urlpatterns`` the JSON endpoints (under
``api/``). The top ``urls.py`` includes both, in the ``pushmfa`` namespace, when backup codes are
enabled."""
from __future__ import annotations

from django.urls import path

from ..api.login import code_verify_view
from . import api, views

urlpatterns = [
    path("backup-codes/", views.BackupCodesPageView.as_view(), name="backup-codes"),
]

api_urlpatterns = [
    path(
        "backup-codes/verify/",
        code_verify_view(
            "backup_code", "backup_codes_verify", "Complete the MFA step with a backup code (each works once)"
        ),
        name="api-backup-codes-verify",
    ),
    path("backup-codes/", api.BackupCodesView.as_view(), name="api-backup-codes"),
]
