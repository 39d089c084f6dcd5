"""The account page (``pushmfa:account``): the user's own credentials, pairing a phone, enrollment links.

Only for a fully logged-in user: a session still in the MFA step is sent back to it. Every change
is a POST with a CSRF token, goes through ``internal.account`` / ``internal.pairing`` (the same
functions the account API calls) and records a SecurityEvent there.
"""
from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import resolve_url
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect

from ..adapter import get_adapter
from ..internal import account, pending, reauth, sessions, trust
from ..internal.qr import qr_svg
from ..services import has_active_mfa
from .common import optional_url
from .layout import render_page


def _flash(request: HttpRequest, level: str, text: str) -> None:
    # The messages framework is optional on the host site.
    from django.contrib import messages

    getattr(messages, level)(request, text, fail_silently=True)


@method_decorator([never_cache, csrf_protect], name="dispatch")
class AccountView(View):
    """GET lists the user's credentials, sessions and remembered browsers; POST ``action`` =
    ``revoke`` | ``primary`` (with ``credential``), ``pair`` (issue a pairing token and show it as a
    QR code, once), ``sign_out_others``, ``end_session`` (with ``session``) or ``forget_browser``
    (with ``browser``). Every action but the last two is a credential change: it needs a recent
    authentication (step-up), else the user goes to the re-authentication page and back here."""

    template_name = "pushmfa/account.html"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if pending.get(request) is not None:
            return HttpResponseRedirect(reverse("pushmfa:authenticate"))
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        return super().dispatch(request, *args, **kwargs)

    def get(self, request: HttpRequest) -> HttpResponse:
        return self.render_page(request)

    def post(self, request: HttpRequest) -> HttpResponse:
        action = request.POST.get("action", "")
        credential_id = request.POST.get("credential", "")
        if action in STEP_UP_ACTIONS and not reauth.is_recent(request):
            return HttpResponseRedirect(reauth.reauthenticate_url(reverse("pushmfa:account")))
        if action == "pair":
            return self.pair(request)
        if action in SESSION_ACTIONS:
            return self.session_action(request, action)
        try:
            if action == "revoke":
                removed = account.revoke_own_credential(request, credential_id)
                _flash(request, "success", _("“%(name)s” was removed.") % {"name": account.display_label(removed)})
            elif action == "primary":
                try:
                    account.make_primary(request, credential_id)
                except ValueError:
                    _flash(request, "error", _("Backup codes cannot be your main method."))
                else:
                    _flash(request, "success", _("Your main method was changed."))
            else:
                return self.render_page(request, status=400)
        except Http404:
            _flash(request, "error", _("That method no longer exists."))
        return HttpResponseRedirect(reverse("pushmfa:account"))

    def session_action(self, request: HttpRequest, action: str) -> HttpResponse:
        if action == "sign_out_others":
            sessions.sign_out_others(request)
            _flash(request, "success", _("You were signed out everywhere else."))
        elif action == "end_session":
            if sessions.end_one(request, request.POST.get("session", "")):
                _flash(request, "success", _("That session was signed out."))
        elif trust.forget(request, request.user, request.POST.get("browser", "")):
            _flash(request, "success", _("That browser will ask for the second step again."))
        return HttpResponseRedirect(reverse("pushmfa:account") + "#pushmfa-sessions")

    def pair(self, request: HttpRequest) -> HttpResponse:
        if not pairing_available():
            return self.render_page(request, status=400)
        from ..internal.pairing import create_pairing_token

        issued = create_pairing_token(request.user, request)
        pairing = {
            "uri": issued.pairing_uri,
            "expires_at": issued.expires_at,
            # qr_svg's output is markup generated by the qrcode library, not user input.
            "qr": mark_safe(qr_svg(issued.pairing_uri)),  # noqa: S308
        }
        return self.render_page(request, pairing=pairing)

    def render_page(self, request: HttpRequest, *, pairing: dict | None = None, status: int = 200) -> HttpResponse:
        user = request.user
        credentials = account.list_credentials(user)
        context = {
            "credentials": credentials,
            "pairing": pairing,
            "pairing_available": pairing_available(),
            "has_mfa": has_active_mfa(user),
            "mfa_required": get_adapter().is_mfa_required(user),
            "enroll_links": enrollment_links(credentials),
            "account_url": reverse("pushmfa:account"),
            "sessions": sessions.list_for(request),
            "browsers": trust.remembered(user),
            "back_url": resolve_url(settings.LOGIN_REDIRECT_URL),
            "credentials_api_url": optional_url("pushmfa:api-credentials"),
        }
        return render_page(request, self.template_name, context, status=status)


# Actions that change what protects the account (contract v1.1): they need a recent authentication.
STEP_UP_ACTIONS = {"revoke", "primary", "pair", "sign_out_others"}
SESSION_ACTIONS = {"sign_out_others", "end_session", "forget_browser"}


def pairing_available() -> bool:
    """Phones can be paired once the device API is routed."""
    return optional_url("pushmfa:api-device-register") is not None


def enrollment_links(credentials: list[account.CredentialSummary]) -> list[dict[str, str]]:
    """Links to the fallback enrollment pages that are installed (any of them works without push)."""
    has_codes = any(c.method == "backup_code" for c in credentials)
    candidates = [
        ("pushmfa:totp-setup", _("Set up an authenticator app")),
        ("pushmfa:webauthn-register", _("Add a security key or passkey")),
        ("pushmfa:backup-codes", _("Get new backup codes") if has_codes else _("Create backup codes")),
    ]
    links = []
    for name, label in candidates:
        url = optional_url(name)
        if url is not None:
            links.append({"url": url, "label": label})
    return links
