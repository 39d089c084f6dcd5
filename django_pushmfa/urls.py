"""Mount with ``path("mfa/", include("django_pushmfa.urls"))``. The namespace is ``pushmfa``.

Composed here, once: the pages and the API that belong to no method, then each method of
``PUSHMFA_METHODS`` (its ``<package>/urls.py``: ``urlpatterns`` pages, ``api_urlpatterns`` under
``api/``), then the API's fallbacks (the schema and the JSON 404 for every other ``api/`` path).
"""
from __future__ import annotations

from importlib import import_module

from django.urls import URLPattern, URLResolver, include, path

from . import views
from .api import urls as api_urls
from .internal.methods import enabled

app_name = "pushmfa"


def method_urlpatterns(kind: str) -> list[URLPattern | URLResolver]:
    """The enabled methods' routes of one ``kind`` ("urlpatterns" or "api_urlpatterns")."""
    return [route for method in enabled() for route in getattr(import_module(f"{method.package}.urls"), kind)]


def build_urlpatterns() -> list[URLPattern | URLResolver]:
    api_routes = [*api_urls.urlpatterns, *method_urlpatterns("api_urlpatterns"), *api_urls.fallback_urlpatterns]
    return [
        path("api/", include(api_routes)),
        path("authenticate/", views.AuthenticateView.as_view(), name="authenticate"),
        path("reauthenticate/", views.ReauthenticateView.as_view(), name="reauthenticate"),
        path("account/", views.AccountView.as_view(), name="account"),
        *method_urlpatterns("urlpatterns"),
    ]


urlpatterns = build_urlpatterns()
