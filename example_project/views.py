"""The example site's own pages: a public home page and a page that needs login."""
from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from django_pushmfa.models import MFACredential, SecurityEvent


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "home.html")


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """What a signed-in user sees: their methods and recent security events (from the app's models)."""
    context = {
        "credentials": MFACredential.objects.active().for_user(request.user),
        "events": SecurityEvent.objects.filter(user=request.user).select_related("actor")[:8],
        "mfa_method": request.session.get("pushmfa_method"),
    }
    return render(request, "dashboard.html", context)
