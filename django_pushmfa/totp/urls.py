"""TOTP routes: ``urlpatterns`` are the pages, ``api_urlpatterns`` the JSON endpoints (under
``api/``). The top ``urls.py`` includes both, in the ``pushmfa`` namespace, when TOTP is enabled."""
from __future__ import annotations

from django.urls import path

from ..api.login import code_verify_view
from . import api, views

urlpatterns = [
    path("totp/setup/", views.TOTPSetupPageView.as_view(), name="totp-setup"),
]

api_urlpatterns = [
    path(
        "totp/verify/",
        code_verify_view("totp", "totp_verify", "Complete the MFA step with a TOTP code"),
        name="api-totp-verify",
    ),
    path("totp/setup/", api.TOTPSetupView.as_view(), name="api-totp-setup"),
    path("totp/confirm/", api.TOTPConfirmView.as_view(), name="api-totp-confirm"),
]
