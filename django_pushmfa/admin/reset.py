"""The "Reset MFA" admin page: revoke all of a user's credentials, with a reason, by another staff user."""
from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .. import services
from ..models import MFACredential
from . import display
from .forms import ReasonForm

RESET_PERMISSION = "pushmfa.reset_mfa"


def get_user_or_404(user_id: str) -> Any:
    """The user with primary key ``user_id``; 404 for an unknown or malformed id (never a 500)."""
    user_model = get_user_model()
    try:
        pk = user_model._meta.pk.to_python(user_id)
        return user_model._default_manager.get(pk=pk)
    except (user_model.DoesNotExist, ValidationError, ValueError, TypeError):
        raise Http404(_("No such user."))


def reset_mfa_view(model_admin: admin.ModelAdmin, request: HttpRequest, user_id: str) -> HttpResponse:
    """GET: what will be revoked and a reason form. POST: :func:`services.reset_mfa`, then back.

    Needs ``pushmfa.reset_mfa``. A staff member's own MFA is refused (403) — another staff user
    must do it, so one stolen staff session cannot strip its own second factor.
    """
    if not request.user.has_perm(RESET_PERMISSION):
        raise PermissionDenied
    user = get_user_or_404(user_id)
    site = model_admin.admin_site
    is_self = user.pk == request.user.pk
    form = ReasonForm(request.POST if request.method == "POST" and not is_self else None)
    if form.is_valid():
        revoked = services.reset_mfa(user, actor=request.user, reason=form.cleaned_data["reason"], request=request)
        for credential in revoked:
            model_admin.log_change(request, credential, f"MFA reset: {form.cleaned_data['reason']}")
        model_admin.message_user(
            request,
            ngettext(
                "MFA of %(user)s reset: %(n)d credential revoked, backup codes invalidated.",
                "MFA of %(user)s reset: %(n)d credentials revoked, backup codes invalidated.",
                len(revoked),
            )
            % {"user": user.get_username(), "n": len(revoked)},
            messages.SUCCESS,
        )
        return HttpResponseRedirect(_back_url(site, user))
    credentials = list(
        MFACredential.objects.active().for_user(user).select_related("push_device", "webauthn_key")
    )
    unused_codes, _total = display.backup_code_counts(user)
    context = {
        **site.each_context(request),
        "title": _("Reset MFA of %(user)s") % {"user": user.get_username()},
        "opts": model_admin.opts,
        "target_user": user,
        "is_self": is_self,
        "form": form,
        "credentials": [display.credential_line(c) for c in credentials],
        "unused_backup_codes": unused_codes,
        "back_url": _back_url(site, user),
        "media": model_admin.media,
    }
    return TemplateResponse(request, "admin/pushmfa/reset_mfa.html", context, status=403 if is_self else 200)


def _back_url(site: admin.AdminSite, user: Any) -> str:
    meta = user._meta
    if type(user) in site._registry:
        return reverse(f"{site.name}:{meta.app_label}_{meta.model_name}_change", args=[user.pk])
    return reverse(f"{site.name}:pushmfa_mfacredential_changelist") + f"?user__id__exact={user.pk}"
