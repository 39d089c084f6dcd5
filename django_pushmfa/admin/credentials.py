"""The MFA credential admin: find, inspect (secrets hidden) and revoke — never add, edit or delete."""
from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .. import services
from ..models import MFACredential, SecurityEvent
from . import display
from .forms import ReasonForm
from .readonly import ReadOnlyAdminMixin
from .reset import RESET_PERMISSION, reset_mfa_view

# Query-string lookups the admin's own links use (the user page links here filtered by user).
ALLOWED_LINK_LOOKUPS = {"user__id__exact", "user__pk__exact"}


class CredentialStatusFilter(admin.SimpleListFilter):
    """Active (not revoked) or revoked."""

    title = _("status")
    parameter_name = "status"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("active", _("Active")), ("revoked", _("Revoked"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "active":
            return queryset.filter(revoked_at__isnull=True)
        if self.value() == "revoked":
            return queryset.filter(revoked_at__isnull=False)
        return queryset


class MFACredentialAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-only list and detail of credentials with a "Revoke" action.

    Seeing needs ``pushmfa.view_mfacredential``; revoking needs ``pushmfa.change_mfacredential``;
    resetting a user's MFA needs ``pushmfa.reset_mfa``. Nobody can add or delete credentials here.
    """

    list_display = (
        "credential",
        "user_link",
        "kind",
        "status",
        "last_used",
    )
    list_filter = ("method", "push_device__platform", CredentialStatusFilter)
    list_select_related = ("user", "push_device", "webauthn_key")
    list_per_page = 50
    ordering = ("-created_at",)
    actions = ["revoke_credentials"]
    change_form_template = "admin/pushmfa/mfacredential/change_form.html"

    class Media:
        css = {"all": ("pushmfa/admin.css",)}

    fieldsets = (
        (None, {"fields": ("user_link", "method", "label", "is_primary", "status", "created_at", "last_used_at")}),
        (_("Revocation"), {"fields": ("revoked_at", "revoked_by", "revoke_reason")}),
        (_("Method details"), {"fields": ("details",)}),
        (_("Recent events"), {"fields": ("recent_events",)}),
    )
    readonly_fields = (
        "user_link",
        "method",
        "label",
        "is_primary",
        "status",
        "created_at",
        "last_used_at",
        "revoked_at",
        "revoked_by",
        "revoke_reason",
        "details",
        "recent_events",
    )

    # --- permissions: view (ReadOnlyAdminMixin; credentials are revoked, never deleted: the security
    # log points at them) and revoke, its own permission ------------------------------------------
    def has_revoke_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        opts = self.opts
        return request.user.has_perm(f"{opts.app_label}.change_{opts.model_name}")

    def get_actions(self, request: HttpRequest) -> dict:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def get_search_fields(self, request: HttpRequest) -> list[str]:
        return display.user_search_fields()

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest | None = None) -> bool:
        # ``request`` joined the signature in Django 5.0; 4.2 calls without it.
        args = () if request is None else (request,)
        return lookup in ALLOWED_LINK_LOOKUPS or super().lookup_allowed(lookup, value, *args)

    # --- columns and read-only fields -----------------------------------------------------------------
    @admin.display(description=_("credential"), ordering="label")
    def credential(self, obj: MFACredential) -> str:
        name = obj.label or obj.get_method_display()
        if obj.is_primary:  # a badge rather than a column of its own: the list fits 1280 px
            return format_html('{} <span class="pushmfa-status pushmfa-status-primary">{}</span>', name, _("main"))
        return name

    @admin.display(description=_("user"), ordering="user")
    def user_link(self, obj: MFACredential) -> str:
        user = obj.user
        url = _user_change_url(self.admin_site, user)
        if url is None:
            return user.get_username()
        return format_html('<a href="{}">{}</a>', url, user.get_username())

    @admin.display(description=_("method"), ordering="method")
    def kind(self, obj: MFACredential) -> str:
        """The method and its device in one column ("Push notification (FCM)"): the list fits 1280 px."""
        return display.credential_kind(obj)

    @admin.display(description=_("last used"), ordering="last_used_at")
    def last_used(self, obj: MFACredential) -> str:
        return display.compact_time(obj.last_used_at)

    @admin.display(description=_("status"), ordering="revoked_at")
    def status(self, obj: MFACredential) -> str:
        css = "active" if obj.revoked_at is None else "revoked"
        return format_html('<span class="pushmfa-status pushmfa-status-{}">{}</span>', css, display.status_text(obj))

    @admin.display(description=_("details"))
    def details(self, obj: MFACredential) -> str:
        return display.method_details(obj)

    @admin.display(description=_("recent events"))
    def recent_events(self, obj: MFACredential) -> str:
        events = SecurityEvent.objects.filter(credential=obj).select_related("actor")[:10]
        if not events:
            return "—"
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    display.when(e.created_at),
                    e.get_kind_display(),
                    e.actor.get_username() if e.actor else "",
                    e.ip or "",
                )
                for e in events
            ),
        )
        return format_html('<table class="pushmfa-details">{}</table>', rows)

    # --- revoking ---------------------------------------------------------------------------------------
    @admin.action(description=_("Revoke selected credentials"), permissions=["revoke"])
    def revoke_credentials(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        """Asks for a reason on an intermediate page, then revokes each one through the service."""
        form = ReasonForm(request.POST if request.POST.get("post") == "yes" else None)
        if form.is_valid():
            self._revoke(request, list(queryset.select_related("user")), form.cleaned_data["reason"])
            return None  # back to the list
        context = self._revoke_context(request, queryset, form)
        context["action_name"] = "revoke_credentials"
        return TemplateResponse(request, "admin/pushmfa/revoke_credentials.html", context)

    def revoke_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """The same confirmation for one credential, from its change page's "Revoke" button."""
        obj = self.get_object(request, object_id)
        if obj is None:
            # ModelAdmin's own helper for a missing object (private, so not in django-stubs).
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)  # type: ignore[attr-defined]
        if not self.has_revoke_permission(request, obj):
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied
        form = ReasonForm(request.POST if request.method == "POST" else None)
        if form.is_valid():
            self._revoke(request, [obj], form.cleaned_data["reason"])
            return HttpResponseRedirect(reverse(f"{self.admin_site.name}:pushmfa_mfacredential_change", args=[obj.pk]))
        context = self._revoke_context(request, self.model.objects.filter(pk=obj.pk), form)
        return TemplateResponse(request, "admin/pushmfa/revoke_credentials.html", context)

    def _revoke(self, request: HttpRequest, credentials: list[MFACredential], reason: str) -> None:
        revoked = 0
        for credential in credentials:
            if services.revoke_credential(credential, actor=request.user, reason=reason, request=request):
                revoked += 1
                self.log_change(request, credential, f"Revoked: {reason}")
        skipped = len(credentials) - revoked
        if revoked:
            msg = ngettext("Revoked %(n)d credential.", "Revoked %(n)d credentials.", revoked) % {"n": revoked}
            self.message_user(request, msg, messages.SUCCESS)
        if skipped:
            msg = ngettext(
                "%(n)d credential was already revoked.", "%(n)d credentials were already revoked.", skipped
            ) % {"n": skipped}
            self.message_user(request, msg, messages.WARNING)

    def _revoke_context(self, request: HttpRequest, queryset: QuerySet, form: ReasonForm) -> dict[str, Any]:
        credentials = list(queryset.select_related("user", "push_device", "webauthn_key"))
        return {
            **self.admin_site.each_context(request),
            "title": _("Revoke credentials"),
            "opts": self.opts,
            "form": form,
            "credentials": [(c, display.device_summary(c), c.revoked_at is None) for c in credentials],
            "queryset": credentials,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "media": self.media,
        }

    # --- extra pages ---------------------------------------------------------------------------------
    def get_urls(self) -> list:
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        wrap = self.admin_site.admin_view
        return [
            path(
                "reset/<str:user_id>/",
                wrap(lambda request, user_id: reset_mfa_view(self, request, user_id)),
                name=f"{prefix}_reset",
            ),
            path("<path:object_id>/revoke/", wrap(self.revoke_view), name=f"{prefix}_revoke"),
            *super().get_urls(),
        ]

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict | None = None
    ) -> HttpResponse:
        obj = self.get_object(request, object_id)
        extra_context = {
            **(extra_context or {}),
            "can_revoke": obj is not None and obj.revoked_at is None and self.has_revoke_permission(request, obj),
            "can_reset": (
                obj is not None and request.user.has_perm(RESET_PERMISSION) and obj.user_id != request.user.pk
            ),
        }
        return super().change_view(request, object_id, form_url, extra_context)


def _user_change_url(site: admin.AdminSite, user: Any) -> str | None:
    """The user's change page on ``site``, or None when the user model is not registered there."""
    if type(user) not in site._registry:
        return None
    meta = user._meta
    return reverse(f"{site.name}:{meta.app_label}_{meta.model_name}_change", args=[user.pk])
