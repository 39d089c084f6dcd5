"""URLs of the JSON API (see shared/api-contract.md). Each method's subpackage adds its own."""
from __future__ import annotations

from django.urls import path  # noqa: F401

urlpatterns: list = [
    # browser endpoints (login in progress)
    # account endpoints (fully logged in)
    # device endpoints (signed)
]
