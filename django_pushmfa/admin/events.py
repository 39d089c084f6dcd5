"""The security-event log: read-only and filterable. Nobody edits or deletes history here."""
from __future__ import annotations

import json

from django.contrib import admin
from django.http import HttpRequest
from django.urls import path
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from ..models import SecurityEvent
from . import display
from .dashboard import dashboard_view
from .readonly import ReadOnlyAdminMixin

DETAIL_SUMMARY_CHARS = 60


class SecurityEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("created_at", "kind", "user", "actor", "ip", "credential_ref", "detail_summary")
    list_filter = ("kind", "created_at")
    date_hierarchy = "created_at"
    list_select_related = ("user", "actor", "credential")
    list_per_page = 100
    fields = ("created_at", "kind", "user", "actor", "ip", "user_agent", "credential_ref", "detail_pretty")
    readonly_fields = fields

    class Media:
        css = {"all": ("pushmfa/admin.css",)}

    def get_urls(self) -> list:
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        view = self.admin_site.admin_view(lambda request: dashboard_view(self, request))
        return [path("dashboard/", view, name=f"{prefix}_dashboard"), *super().get_urls()]

    def get_actions(self, request: HttpRequest) -> dict:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def get_search_fields(self, request: HttpRequest) -> list[str]:
        return display.user_search_fields()

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest | None = None) -> bool:
        # ``request`` joined the signature in Django 5.0; 4.2 calls without it.
        args = () if request is None else (request,)
        return lookup in {"user__id__exact", "credential__id__exact"} or super().lookup_allowed(lookup, value, *args)

    @admin.display(description=_("credential"))
    def credential_ref(self, obj: SecurityEvent) -> str:
        if obj.credential is None:
            return "—"
        return obj.credential.get_method_display()

    @admin.display(description=_("detail"))
    def detail_summary(self, obj: SecurityEvent) -> str:
        text = json.dumps(obj.detail or {}, ensure_ascii=False, sort_keys=True)
        return text if len(text) <= DETAIL_SUMMARY_CHARS else text[: DETAIL_SUMMARY_CHARS - 1] + "…"

    @admin.display(description=_("detail"))
    def detail_pretty(self, obj: SecurityEvent) -> str:
        return format_html("<pre>{}</pre>", json.dumps(obj.detail or {}, ensure_ascii=False, sort_keys=True, indent=2))
