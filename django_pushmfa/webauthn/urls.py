"""WebAuthn routes: ``urlpatterns`` are the pages, ``api_urlpatterns`` the JSON endpoints (under
``api/``). The top ``urls.py`` includes both, in the ``pushmfa`` namespace, when WebAuthn is enabled."""
from __future__ import annotations

from django.urls import path

from . import api, views

urlpatterns = [
    path("webauthn/register/", views.WebAuthnRegisterPageView.as_view(), name="webauthn-register"),
]

api_urlpatterns = [
    path("webauthn/begin/", api.AuthenticationBeginView.as_view(), name="api-webauthn-begin"),
    path("webauthn/complete/", api.AuthenticationCompleteView.as_view(), name="api-webauthn-complete"),
    path("webauthn/register/begin/", api.RegistrationBeginView.as_view(), name="api-webauthn-register-begin"),
    path(
        "webauthn/register/complete/", api.RegistrationCompleteView.as_view(), name="api-webauthn-register-complete"
    ),
]
