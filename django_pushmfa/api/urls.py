"""URLs of the JSON API that belong to no single method (see docs/api-contract.md).

The top ``urls.py`` composes them with each enabled method's endpoints (``api/<method>.py``, each
with its ``urlpatterns``), then :data:`fallback_urlpatterns` last.
"""
from __future__ import annotations

from django.urls import path, re_path

from . import account, app, login, reauth, sessions
from .base import UnknownAPIPathView
from .schema import schema_urlpatterns

urlpatterns: list = [
    # app clients (SPAs, the site's own mobile apps): X-Session-Token instead of the cookie
    path("app/login/", app.AppLoginView.as_view(), name="api-app-login"),
    path("app/logout/", app.AppLogoutView.as_view(), name="api-app-logout"),
    # browser endpoints (login in progress)
    path("methods/", login.MethodsView.as_view(), name="api-methods"),
    # account endpoints (fully logged in)
    path("credentials/", account.CredentialListView.as_view(), name="api-credentials"),
    path("credentials/<str:credential_id>/", account.CredentialDetailView.as_view(), name="api-credential"),
    path(
        "credentials/<str:credential_id>/primary/",
        account.CredentialPrimaryView.as_view(),
        name="api-credential-primary",
    ),
    # re-authentication (step-up) of a logged-in session, and "Your sessions and browsers"
    *reauth.urlpatterns(),
    *sessions.urlpatterns,
]

fallback_urlpatterns: list = [
    # OpenAPI document (only with drf-spectacular installed)
    *schema_urlpatterns(),
    # KEEP LAST: every other path under api/ (ending in "/"; APPEND_SLASH still redirects the rest)
    # is the contract's JSON 404 not_found, e.g. an id holding an encoded slash.
    re_path(r"^.*/$", UnknownAPIPathView.as_view(), name="api-unknown"),
]
