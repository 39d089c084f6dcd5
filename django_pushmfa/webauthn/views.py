"""Security key / passkey registration page (``pushmfa:webauthn-register``).

The ceremony runs in ``static/pushmfa/webauthn.js`` against the JSON API; this page only hosts it.
Works for any logged-in user, with or without a phone paired: no push is needed to enroll.
"""
from __future__ import annotations

from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import ensure_csrf_cookie

from ..views.layout import render_page
from .internal import auth


@method_decorator([never_cache, ensure_csrf_cookie], name="dispatch")
class WebAuthnRegisterPageView(LoginRequiredMixin, View):
    template_name = "pushmfa/webauthn/register.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        context = {
            "keys": auth.active_keys(request.user),
            "begin_url": reverse("pushmfa:api-webauthn-register-begin"),
            "complete_url": reverse("pushmfa:api-webauthn-register-complete"),
            "success_url": reverse("pushmfa:account"),
        }
        return render_page(request, self.template_name, context)
