"""Mount with ``path("mfa/", include("django_pushmfa.urls"))``. The namespace is ``pushmfa``.

Composed here, once: the pages and the API that belong to no method, then each method of
``PUSHMFA_METHODS`` (its pages, and its endpoints under ``api/``, as the registry in
``internal.methods`` names them), then the API's fallbacks (the schema and the JSON 404 for every
other ``api/`` path).
"""
from __future__ import annotations

from importlib import import_module

from django.urls import URLPattern, URLResolver, include, path

from . import views
from .api import urls as api_urls
from .internal.methods import enabled

app_name = "pushmfa"


def method_urlpatterns(kind: str) -> list[URLPattern | URLResolver]:
    """The enabled methods' routes: ``kind`` "api" (their endpoints) or "pages"."""
    modules = [getattr(method, kind) for method in enabled()]
    return [route for module in modules if module for route in import_module(module).urlpatterns]


def build_urlpatterns() -> list[URLPattern | URLResolver]:
    api_routes = [*api_urls.urlpatterns, *method_urlpatterns("api"), *api_urls.fallback_urlpatterns]
    return [
        path("api/", include(api_routes)),
        path("authenticate/", views.AuthenticateView.as_view(), name="authenticate"),
        path("account/", views.AccountView.as_view(), name="account"),
        *method_urlpatterns("pages"),
    ]


urlpatterns = build_urlpatterns()
