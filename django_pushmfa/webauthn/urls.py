"""WebAuthn pages. The top ``urls.py`` includes them, in the ``pushmfa`` namespace, when the method is
enabled (``PUSHMFA_METHODS``); the method's JSON endpoints are ``api/webauthn.py``."""
from __future__ import annotations

from django.urls import path

from . import views

urlpatterns = [
    path("webauthn/register/", views.WebAuthnRegisterPageView.as_view(), name="webauthn-register"),
]
