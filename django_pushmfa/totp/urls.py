"""TOTP routes: ``urlpatterns`` are the pages (included by ``views_urls``), ``api_urlpatterns`` the
JSON endpoints (included by ``api.urls``). Both end up in the ``pushmfa`` namespace."""
from __future__ import annotations

from django.urls import path

from . import api, views

urlpatterns = [
    path("totp/setup/", views.TOTPSetupPageView.as_view(), name="totp-setup"),
]

api_urlpatterns = [
    path("totp/verify/", api.TOTPVerifyView.as_view(), name="api-totp-verify"),
    path("totp/setup/", api.TOTPSetupView.as_view(), name="api-totp-setup"),
    path("totp/confirm/", api.TOTPConfirmView.as_view(), name="api-totp-confirm"),
]
