"""Backup-code routes: ``urlpatterns`` are the pages (included by ``views_urls``), ``api_urlpatterns``
the JSON endpoints (included by ``api.urls``). Both end up in the ``pushmfa`` namespace."""
from __future__ import annotations

from django.urls import path

from . import api, views

urlpatterns = [
    path("backup-codes/", views.BackupCodesPageView.as_view(), name="backup-codes"),
]

api_urlpatterns = [
    path("backup-codes/verify/", api.BackupCodeVerifyView.as_view(), name="api-backup-codes-verify"),
    path("backup-codes/", api.BackupCodesView.as_view(), name="api-backup-codes"),
]
