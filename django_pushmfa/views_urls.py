"""URLs of the server-rendered pages (MFA step, account, phone simulator)."""
from __future__ import annotations

from django.urls import path  # noqa: F401

from . import views
from .backup_codes.urls import urlpatterns as backup_codes_pages
from .totp.urls import urlpatterns as totp_pages
from .webauthn.urls import urlpatterns as webauthn_pages

urlpatterns: list = [
    path("authenticate/", views.AuthenticateView.as_view(), name="authenticate"),
    path("account/", views.AccountView.as_view(), name="account"),
    *totp_pages,
    *backup_codes_pages,
    *webauthn_pages,
]
