"""Backup-code pages. The top ``urls.py`` includes them, in the ``pushmfa`` namespace, when the method is
enabled (``PUSHMFA_METHODS``); the method's JSON endpoints are ``api/backup_codes.py``."""
from __future__ import annotations

from django.urls import path

from . import views

urlpatterns = [
    path("backup-codes/", views.BackupCodesPageView.as_view(), name="backup-codes"),
]
