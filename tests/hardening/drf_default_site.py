"""A host site that kept DRF's *default* settings: its URLconf and views (finding 1 of issue 11).

Mounted by the ``drf_default_site`` fixture of ``test_attacks_password_only``: besides the test
site's own URLs it has a plain ``IsAuthenticated`` APIView, DRF's ``obtain_auth_token``, simplejwt's
token view, a DRF view behind a home-made password authentication class, and a plain Django view
that checks HTTP Basic credentials itself without ever calling ``login()``.
"""
from __future__ import annotations

import base64

from django.contrib.auth import authenticate
from django.http import HttpResponse, JsonResponse
from django.urls import include, path
from rest_framework import authentication, exceptions
from rest_framework.authtoken.views import obtain_auth_token
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.views import TokenObtainPairView


class Private(APIView):
    """What the README's reader writes: no authentication_classes of its own, DRF's defaults apply."""

    permission_classes = [IsAuthenticated]

    def get(self, request):
        return Response({"username": request.user.get_username()})

    def post(self, request):
        return Response({"changed_by": request.user.get_username()})


class HeaderPasswordAuthentication(authentication.BaseAuthentication):
    """A site's own DRF authentication class: username and password in headers."""

    def authenticate(self, request):
        username = request.headers.get("X-Username")
        if not username:
            return None
        user = authenticate(request=request, username=username, password=request.headers.get("X-Password"))
        if user is None:
            raise exceptions.AuthenticationFailed("Invalid username/password.")
        return user, None


class HeaderPrivate(Private):
    authentication_classes = [HeaderPasswordAuthentication]


def basic_view(request):
    """A plain Django view doing HTTP Basic by hand: authenticate(), never login()."""
    scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return HttpResponse(status=401)
    username, _, password = base64.b64decode(encoded).decode().partition(":")
    user = authenticate(request, username=username, password=password)
    if user is None:
        return HttpResponse(status=401)
    return JsonResponse({"secret_of": user.get_username()})


async def async_basic_view(request):
    """The same, as an async view (the middleware's async path)."""
    from asgiref.sync import sync_to_async

    return await sync_to_async(basic_view)(request)


urlpatterns = [
    path("plain/async-basic/", async_basic_view),
    path("drf/private/", Private.as_view()),
    path("drf/header-private/", HeaderPrivate.as_view()),
    path("drf/token-auth/", obtain_auth_token),
    path("drf/jwt/", TokenObtainPairView.as_view()),
    path("plain/basic/", basic_view),
    path("", include("tests.urls")),
]
