"""A stand-in host site: its own login views, a page that needs login, and a DRF view."""
from django.contrib.auth import authenticate, login
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, JsonResponse
from django.views import View
from django.views.decorators.csrf import csrf_exempt
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from django_pushmfa.api.authentication import SessionTokenAuthentication
from django_pushmfa.api.permissions import RecentlyAuthenticated
from django_pushmfa.reauth import ReauthenticationRequiredMixin, reauthentication_required


@login_required
def private(request):
    return HttpResponse(f"private page for {request.user.get_username()}")


def home(request):
    return HttpResponse(f"home, authenticated={request.user.is_authenticated}")


@csrf_exempt
def custom_login(request):
    """A site's own login view calling authenticate() and login() directly."""
    user = authenticate(request, username=request.POST.get("username"), password=request.POST.get("password"))
    if user is None:
        return JsonResponse({"ok": False}, status=401)
    login(request, user)
    return JsonResponse({"ok": True, "authenticated": request.user.is_authenticated})


class WhoAmI(APIView):
    permission_classes = [IsAuthenticated]

    def get(self, request):
        return Response({"username": request.user.get_username()})


@reauthentication_required
def sensitive(request):
    """A host site's sensitive page (change e-mail, say), behind the step-up decorator."""
    return HttpResponse(f"sensitive page for {request.user.get_username()}")


class SensitiveView(ReauthenticationRequiredMixin, View):
    reauthentication_methods = ("POST",)

    def get(self, request):
        return HttpResponse("delete account?")

    def post(self, request):
        return HttpResponse("account deleted")


class SensitiveAPI(APIView):
    permission_classes = [RecentlyAuthenticated]

    def post(self, request):
        return Response({"done": True})


class SensitiveTokenAPI(APIView):
    """A host's sensitive DRF view that takes app tokens and JWTs as well as the cookie, behind step-up."""

    permission_classes = [RecentlyAuthenticated]

    def get_authenticators(self):
        from django_pushmfa.contrib.simplejwt import JWTAuthentication

        return [SessionTokenAuthentication(), JWTAuthentication(), SessionAuthentication()]

    def post(self, request):
        return Response({"done_for": request.user.get_username()})


class TokenWhoAmI(APIView):
    """A host DRF view for app clients: the app's X-Session-Token authentication, then the cookie."""

    authentication_classes = [SessionTokenAuthentication, SessionAuthentication]
    permission_classes = [IsAuthenticated]

    def get(self, request):
        return Response({"username": request.user.get_username()})


class JWTWhoAmI(APIView):
    """A host DRF view that takes simplejwt access tokens (docs/integration.md, "API clients")."""

    permission_classes = [IsAuthenticated]

    def get_authenticators(self):
        from django_pushmfa.contrib.simplejwt import JWTAuthentication

        return [JWTAuthentication()]

    def get(self, request):
        return Response({"username": request.user.get_username()})
