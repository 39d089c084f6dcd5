"""The user's change page: their credentials, unused backup codes and a "Reset MFA" link.

:class:`MFAUserAdminMixin` goes in front of any ``UserAdmin`` (the stock one or a site's own); it
only appends an inline and one read-only fieldset, so the host's own fields and forms are untouched.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db.models import F
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from ..app_settings import app_settings
from ..models import MFACredential
from . import display
from .readonly import ReadOnlyAdminMixin

SUMMARY_FIELD = "pushmfa_summary"


class MFACredentialInline(ReadOnlyAdminMixin, admin.TabularInline):
    """The user's credentials, read-only, active ones first (links to each credential's page)."""

    model = MFACredential
    fk_name = "user"
    extra = 0
    can_delete = False
    show_change_link = True
    verbose_name_plural = _("MFA credentials")
    fields = ("method", "label", "device", "is_primary", "status", "created_at", "last_used_at", "revoked_at")
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest):
        return (
            super()
            .get_queryset(request)
            .select_related("push_device", "webauthn_key")
            .order_by(F("revoked_at").desc(nulls_first=True), "-created_at")
        )

    @admin.display(description=_("device"))
    def device(self, obj: MFACredential) -> str:
        return display.device_summary(obj)

    @admin.display(description=_("status"))
    def status(self, obj: MFACredential) -> str:
        return display.status_text(obj)


# The mixin goes in front of a ModelAdmin: type-check it as one (its super() calls reach ModelAdmin).
_UserAdminBase = admin.ModelAdmin if TYPE_CHECKING else object


class MFAUserAdminMixin(_UserAdminBase):  # type: ignore[valid-type,misc]
    """Mix in first: ``class MyUserAdmin(MFAUserAdminMixin, UserAdmin)``.

    Adds :class:`MFACredentialInline` and a "Multi-factor authentication" fieldset (active methods,
    unused backup codes, links to the user's credentials and security events, and "Reset MFA") to
    the change page of an existing user. The add page is left alone.
    """

    pushmfa_fieldset_title = _("Multi-factor authentication")

    @property
    def media(self) -> forms.Media:
        return super().media + forms.Media(css={"all": ("pushmfa/admin.css",)})

    def get_inlines(self, request: HttpRequest, obj: Any) -> list:
        inlines = list(super().get_inlines(request, obj))
        if obj is not None and MFACredentialInline not in inlines:
            inlines.append(MFACredentialInline)
        return inlines

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list:
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and SUMMARY_FIELD not in fields:
            fields.append(SUMMARY_FIELD)
        return fields

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> list:
        fieldsets = list(super().get_fieldsets(request, obj))
        if obj is None:
            return fieldsets
        # A host without explicit fieldsets gets one built from get_fields(), which already
        # holds the summary (it is a read-only field): take it out there, show it in our own.
        cleaned = []
        for name, options in fieldsets:
            fields = [f for f in options.get("fields", ()) if f != SUMMARY_FIELD]
            cleaned.append((name, {**options, "fields": fields}))
        cleaned.append((self.pushmfa_fieldset_title, {"fields": (SUMMARY_FIELD,)}))
        return cleaned

    @admin.display(description=_("Summary"))
    def pushmfa_summary(self, obj: Any) -> str:
        if obj is None or obj.pk is None:
            return "—"
        active = list(MFACredential.objects.active().for_user(obj).values_list("method", flat=True))
        labels = dict(MFACredential.Method.choices)
        methods = ", ".join(str(labels.get(m, m)) for m in active) or _("none")
        unused, _total = display.backup_code_counts(obj)
        site = getattr(self, "admin_site", admin.site)
        links = []
        for name, label, query in (
            ("pushmfa_mfacredential_changelist", _("All credentials"), f"?user__id__exact={obj.pk}"),
            ("pushmfa_securityevent_changelist", _("Security events"), f"?user__id__exact={obj.pk}"),
        ):
            try:
                links.append(format_html('<a href="{}{}">{}</a>', reverse(f"{site.name}:{name}"), query, label))
            except NoReverseMatch:
                continue
        try:
            reset_url = reverse(f"{site.name}:pushmfa_mfacredential_reset", args=[obj.pk])
            links.append(format_html('<a class="button pushmfa-reset" href="{}">{}</a>', reset_url, _("Reset MFA…")))
        except NoReverseMatch:
            pass
        return format_html(
            '<div class="pushmfa-summary"><p>{}: <strong>{}</strong></p><p>{}: <strong>{}</strong></p><p>{}</p></div>',
            _("Active methods"),
            methods,
            _("Unused backup codes"),
            unused,
            format_html(" · ".join(["{}"] * len(links)), *links) if links else "",
        )


def extend_default_user_admin(site: admin.AdminSite) -> bool:
    """Re-register the stock ``UserAdmin`` for ``auth.User`` on ``site`` with the mixin in front.

    Does nothing (returns False) for a custom user model, a site's own user admin class, or with
    ``PUSHMFA_ADMIN_EXTEND_USER_ADMIN = False``: those sites add :class:`MFAUserAdminMixin` themselves.
    """
    if not app_settings.ADMIN_EXTEND_USER_ADMIN:
        return False
    from django.contrib.auth import admin as auth_admin  # registers the stock UserAdmin if not yet
    from django.contrib.auth.models import User

    if get_user_model() is not User:
        return False
    current = site._registry.get(User)
    if current is None or type(current) is not auth_admin.UserAdmin:
        return False
    extended = type("UserAdmin", (MFAUserAdminMixin, auth_admin.UserAdmin), {"__module__": __name__})
    site.unregister(User)
    site.register(User, extended)
    return True
