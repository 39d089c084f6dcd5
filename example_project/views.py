"""The example site's own pages: a public home page, a page that needs login, and the app-client demo
(a single-page app and the protected DRF view it calls with its X-Session-Token)."""
from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from django_pushmfa.activity import describe
from django_pushmfa.api.authentication import SessionTokenAuthentication
from django_pushmfa.models import MFACredential, SecurityEvent

# How the dashboard says which second step was used (the session keeps the method's code).
METHOD_LABELS = {
    "push": "your phone",
    "totp": "an authenticator app",
    "webauthn": "a security key or passkey",
    "backup_code": "a backup code",
}


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "home.html")


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """What a signed-in user sees: their methods and recent security events (from the app's models)."""
    method = request.session.get("pushmfa_method")
    context = {
        "credentials": MFACredential.objects.active().for_user(request.user),
        "events": [
            (event, describe(event))
            for event in SecurityEvent.objects.filter(user=request.user).select_related(
                "actor", "credential__push_device"
            )[:8]
        ],
        "mfa_method": method,
        "mfa_method_label": METHOD_LABELS.get(method, method),
        "just_now": timezone.now() - timedelta(minutes=1),
    }
    return render(request, "dashboard.html", context)


def spa(request: HttpRequest) -> HttpResponse:
    """The single-page-app demo: signs in over the API with push, then calls :class:`Me`."""
    return render(request, "spa.html")


class Me(APIView):
    """``GET /api/me/``: the site's own protected DRF view, for app clients (``X-Session-Token``).

    A token whose MFA step is not done is refused (403), as is an unknown or ended one (401).
    """

    authentication_classes = [SessionTokenAuthentication]
    permission_classes = [IsAuthenticated]

    def get(self, request: Request) -> Response:
        return Response({"username": request.user.get_username()})
