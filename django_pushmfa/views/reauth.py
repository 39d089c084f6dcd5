"""The re-authentication page (``pushmfa:reauthenticate``): the MFA page's methods, for a logged-in
session that must confirm it is the user before a sensitive change; then back to ``next``.

It is the MFA step page with another purpose (``internal.reauth.REAUTHENTICATION``): the same
sections, push start and poll, code forms and WebAuthn ceremony, against the ``api/reauth/…``
endpoints. A user without an active MFA credential confirms with the password instead.
"""
from __future__ import annotations

from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect

from .. import exceptions
from ..internal import login as login_flow
from ..internal import pending, reauth
from ..services import has_active_mfa
from .authenticate import AuthenticateView, finished


@method_decorator([never_cache, csrf_protect], name="dispatch")
class ReauthenticateView(AuthenticateView):
    """GET shows the methods (``next``: where to return); POST as the MFA page, plus ``password``
    (users without MFA only); ``cancel`` returns to ``next`` without the step-up."""

    purpose = reauth.REAUTHENTICATION
    url_name = "pushmfa:reauthenticate"
    api_names = {
        "push_start": "pushmfa:api-reauth-push-start",
        "push_poll": "pushmfa:api-reauth-push-poll",
        "webauthn_begin": "pushmfa:api-reauth-webauthn-begin",
        "webauthn_complete": "pushmfa:api-reauth-webauthn-complete",
    }

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if pending.get(request) is not None:
            return HttpResponseRedirect(reverse("pushmfa:authenticate"))
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        self.state, self.user = None, request.user
        return super(AuthenticateView, self).dispatch(request, *args, **kwargs)

    def keep_next(self, request: HttpRequest, next_url: str) -> None:
        request.session[reauth.NEXT_KEY] = next_url

    def complete(self, request: HttpRequest, method: str, credential: Any, remember: bool) -> login_flow.StepDone:
        return reauth.complete(request, self.user, method, credential=credential)

    def cancel(self, request: HttpRequest) -> HttpResponse:
        return HttpResponseRedirect(login_flow.safe_next_url(request, request.session.pop(reauth.NEXT_KEY, None)))

    def post(self, request: HttpRequest) -> HttpResponse:
        if request.POST.get("action") == "password":
            return self.verify_password(request)
        return super().post(request)

    def verify_password(self, request: HttpRequest) -> HttpResponse:
        try:
            reauth.verify_password(request, self.user, request.POST.get("password", ""))
        except exceptions.MethodNotAvailable:
            return self.render_step(request, status=400)
        except exceptions.RateLimited as exc:
            error = _("Too many attempts. Try again in %(seconds)s seconds.") % {"seconds": exc.retry_after}
            response = self.render_step(request, errors={"password": error}, status=429)
            response["Retry-After"] = str(exc.retry_after)
            return response
        except exceptions.CodesLocked:
            error = _("Too many wrong attempts: confirming with a password is locked. Ask for a reset.")
            return self.render_step(request, errors={"password": error}, status=403)
        except exceptions.InvalidCredentials:
            return self.render_step(request, errors={"password": _("That password is not correct.")}, status=400)
        return finished(self.complete(request, "password", None, False))

    def page_context(self, request: HttpRequest) -> dict[str, Any]:
        password = not has_active_mfa(self.user)
        return {"password_form": password, "no_methods": not password and not self.method_options()}
