"""Mount with ``path("mfa/", include("django_pushmfa.urls"))``. The namespace is ``pushmfa``."""
from __future__ import annotations

from django.urls import include, path

app_name = "pushmfa"

urlpatterns = [
    path("api/", include("django_pushmfa.api.urls")),
    path("", include("django_pushmfa.views_urls")),
]
