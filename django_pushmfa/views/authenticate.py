"""The MFA step page (``pushmfa:authenticate``): the method chooser and one section per method.

Works without JavaScript: the TOTP and backup-code forms POST here, and push can be started by a
form and followed with page refreshes. With ``static/pushmfa/pushmfa.js`` the push section starts
the challenge itself, long-polls and moves on when the phone approves.
"""
from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import resolve_url
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect

from .. import exceptions
from ..app_settings import app_settings
from ..internal import login as login_flow
from ..internal import methods, pending
from ..internal.methods import MethodOption, get_mfa_options
from ..push.internal import challenges as push_challenges
from ..push.internal import flows as push_flows
from ..push.internal.outcome import denial_reason
from ..push.store import Challenge
from ..push.store.base import APPROVED, PENDING, iso
from .common import optional_url
from .layout import render_page


@method_decorator([never_cache, csrf_protect], name="dispatch")
class AuthenticateView(View):
    """GET shows the step; POST ``action`` = ``totp`` | ``backup_code`` (with ``code``), ``push``
    (start a push without JavaScript) or ``cancel`` (end the login attempt)."""

    template_name = "pushmfa/authenticate.html"
    # What a verified factor completes (the re-authentication page, ``views.reauth``, overrides these).
    purpose: login_flow.Purpose = login_flow.LOGIN
    url_name = "pushmfa:authenticate"
    api_names = {
        "push_start": "pushmfa:api-push-start",
        "push_poll": "pushmfa:api-push-poll",
        "webauthn_begin": "pushmfa:api-webauthn-begin",
        "webauthn_complete": "pushmfa:api-webauthn-complete",
    }

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        self.state = pending.get(request)
        self.user = self.state.get_user() if self.state is not None else None
        if self.user is None:
            if self.state is not None:
                pending.clear(request)
            elif request.user.is_authenticated:
                # The step is done (in another tab, say): on to where the login was going.
                return HttpResponseRedirect(login_flow.safe_next_url(request, request.GET.get("next")))
            return HttpResponseRedirect(resolve_url(settings.LOGIN_URL))
        return super().dispatch(request, *args, **kwargs)

    def keep_next(self, request: HttpRequest, next_url: str) -> None:
        """Remember where to go once the step is done (``next_url`` is already checked to be safe)."""
        pending.set_next(request, next_url)

    def complete(
        self, request: HttpRequest, method: str, credential: Any, remember: bool
    ) -> login_flow.StepDone:
        """Finish the step after ``method`` verified."""
        return login_flow.finish_step(request, self.user, method, credential=credential, remember=remember)

    # --- GET -------------------------------------------------------------------------------------
    def get(self, request: HttpRequest) -> HttpResponse:
        next_url = request.GET.get("next", "")
        if next_url and url_has_allowed_host_and_scheme(
            next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            self.keep_next(request, next_url)
        challenge_id = request.GET.get("challenge")
        if challenge_id:
            return self.follow_push(request, challenge_id)
        live = self.live_push(request)
        if live is not None:
            # A reload or a second tab shows the push already on its way (a new one only on "Send again").
            return self.follow_push(request, live.id)
        return self.render_step(request)

    def live_push(self, request: HttpRequest) -> Challenge | None:
        """This browser's push for this step that is still to be answered (or claimed), when the page
        would show the push section; None otherwise, and when the store cannot say."""
        if self.chosen_method(request) != "push":
            return None
        try:
            challenge = push_challenges.latest_for_browser(request, self.user)
        except exceptions.ChallengeStoreUnavailable:
            return None  # the page's own start reports the outage
        if challenge is None or challenge.status not in (PENDING, APPROVED):
            return None
        if (challenge.context or {}).get("purpose", login_flow.LOGIN.name) != self.purpose.name:
            return None
        return challenge

    # --- POST ------------------------------------------------------------------------------------
    def post(self, request: HttpRequest) -> HttpResponse:
        action = request.POST.get("action", "")
        if action == "cancel":
            return self.cancel(request)
        method = methods.get(action)
        if method is not None and method.code_flow:
            return self.verify_code(request, method)
        if action == "push":
            return self.start_push(request)
        if action == "remember":
            return self.set_remember(request)
        if action == "leave":
            return self.leave_push(request)
        return self.render_step(request, status=400)

    def cancel(self, request: HttpRequest) -> HttpResponse:
        logout(request)  # flushes the session: the pending state and the binding go with it
        return HttpResponseRedirect(resolve_url(settings.LOGIN_URL))

    def verify_code(self, request: HttpRequest, code_method: methods.Method) -> HttpResponse:
        method = code_method.name
        if not any(option.method == method for option in self.method_options()):
            return self.render_step(request, method=method, status=400)
        code = request.POST.get("code", "")
        try:
            credential = code_method.verify_code(request, self.user, code)
        except exceptions.RateLimited as exc:
            error = _("Too many attempts. Try again in %(seconds)s seconds.") % {"seconds": exc.retry_after}
            response = self.render_step(request, method=method, errors={method: error}, status=429)
            response["Retry-After"] = str(exc.retry_after)
            return response
        except exceptions.CodesLocked:
            error = _("Codes are locked after too many wrong ones. Use another method, or ask for a reset.")
            return self.render_step(request, method=method, errors={method: error}, status=403)
        except exceptions.InvalidCode:
            error = _("That code is not valid. Check it and try again.")
            # The mistyped code stays in the field, selected, to be corrected rather than retyped.
            return self.render_step(
                request, method=method, errors={method: error}, status=400, submitted_code=code.strip()[:64]
            )
        remember = request.POST.get("remember") == "on"
        return finished(self.complete(request, method, credential, remember))

    def set_remember(self, request: HttpRequest) -> HttpResponse:
        """"Trust this browser" ticked or unticked while a push waits (the page's script posts it):
        the poll that sees the approval reads it from the session."""
        login_flow.set_remember_choice(
            request, request.POST.get("remember") == "on" and int(app_settings.TRUST_BROWSER_DAYS) > 0
        )
        return HttpResponse(status=204)

    def leave_push(self, request: HttpRequest) -> HttpResponse:
        """The page is going away (reloaded, closed, navigated off: pushmfa.js's ``pagehide`` beacon)
        while its long poll waits on the server: that poll must not claim the approval, whose login
        would go to a page that is gone. Registering a newer poll turns it away; a page of this
        browser still open polls again, becomes the newest, and signs in."""
        try:
            challenge = push_challenges.get_for_browser(request, request.POST.get("challenge", ""))
            if challenge.status in (PENDING, APPROVED):
                push_challenges.register_poller(challenge)
        except exceptions.PushMFAError:
            pass  # unknown, another browser's, or the store is down: nothing to turn away
        return HttpResponse(status=204)

    # --- push without JavaScript ---------------------------------------------------------------
    def start_push(self, request: HttpRequest) -> HttpResponse:
        try:
            challenge = push_flows.start(
                request, self.user, remember=request.POST.get("remember") == "on", purpose=self.purpose
            )
        except exceptions.PushMFAError as exc:
            # Rate limited: the page says when, and its button stays disabled until then.
            retry_after = exc.retry_after if isinstance(exc, exceptions.RateLimited) else 0
            response = self.render_step(
                request, method="push", errors={"push": push_error_message(exc)}, retry_after=retry_after
            )
            if retry_after:
                response["Retry-After"] = str(retry_after)
            return response
        return HttpResponseRedirect(f"{reverse(self.url_name)}?challenge={challenge.id}")

    def follow_push(self, request: HttpRequest, challenge_id: str) -> HttpResponse:
        """The no-JavaScript push page: shows the number and refreshes until the phone answers."""
        try:
            result = push_flows.poll(request, challenge_id, purpose=self.purpose)
        except exceptions.MFANotInProgress:
            return HttpResponseRedirect(resolve_url(settings.LOGIN_URL))
        except exceptions.PushMFAError as exc:
            return self.render_step(request, method="push", errors={"push": push_error_message(exc)})
        if result.done is not None:
            return finished(result.done)
        if result.status == PENDING:
            try:
                # Newer than any long poll of a page this one replaces (see register_poller).
                push_challenges.register_poller(result.challenge)
            except exceptions.ChallengeStoreUnavailable:
                pass  # the page's own poll reports the outage
        return self.render_step(request, method="push", challenge=result.challenge)

    # --- rendering -------------------------------------------------------------------------------
    def method_options(self) -> list[MethodOption]:
        if not hasattr(self, "_options"):
            self._options = get_mfa_options(self.user)
        return self._options

    def chosen_method(self, request: HttpRequest, method: str | None = None) -> str:
        """The method the page shows: ``method``, else ``?method=``, else the first available one."""
        available = [o.method for o in self.method_options()]
        chosen = method or request.GET.get("method") or ""
        if chosen not in available:
            chosen = available[0] if available else ""
        return chosen

    def render_step(
        self,
        request: HttpRequest,
        *,
        method: str | None = None,
        errors: dict[str, str] | None = None,
        challenge: Any = None,
        status: int = 200,
        submitted_code: str = "",
        retry_after: int = 0,
    ) -> HttpResponse:
        options = self.method_options()
        chosen = self.chosen_method(request, method)
        names = self.api_names
        context = {
            "reauthentication": self.purpose is not login_flow.LOGIN,
            "options": options,
            "current": chosen,
            "others": [o for o in options if o.method != chosen],
            "errors": errors or {},
            "challenge": challenge,
            "challenge_expires_at": iso(challenge.expires_at) if challenge is not None else "",
            "denial_reason": denial_reason(challenge) if getattr(challenge, "status", "") == "denied" else None,
            "submitted_code": submitted_code,
            "remember": request.GET.get("remember") == "1",
            "refresh_seconds": 3,
            "push_retry_after": retry_after,
            "trust_days": int(app_settings.TRUST_BROWSER_DAYS) if self.purpose is login_flow.LOGIN else 0,
            "authenticate_url": reverse(self.url_name),
            "push_start_url": optional_url(names["push_start"]),
            "push_poll_url": optional_url(names["push_poll"], challenge.id) if challenge is not None else "",
            "webauthn_begin_url": optional_url(names["webauthn_begin"]),
            "webauthn_complete_url": optional_url(names["webauthn_complete"]),
            "no_methods": not options,
            "password_form": False,
            "push_polls_only": chosen == "push" and push_challenges.polls_only(self.user),
            **self.page_context(request),
        }
        return render_page(request, self.template_name, context, status=status)

    def page_context(self, request: HttpRequest) -> dict[str, Any]:
        """More template context (a subclass's own)."""
        return {}


def finished(done: login_flow.StepDone) -> HttpResponse:
    """The page's answer to a completed step: on to where the login was going."""
    return done.apply(HttpResponseRedirect(done.redirect_url))


def push_error_message(exc: Exception) -> str:
    """A user-facing sentence for a push failure (the same situations pushmfa.js explains)."""
    if isinstance(exc, exceptions.NoPushDevice):
        return _("No phone can receive a push right now. Use another method.")
    if isinstance(exc, exceptions.PushSuspended):
        return _("Push is paused for your account after requests you did not approve. Use another method.")
    if isinstance(exc, exceptions.RateLimited):
        return _("Too many push requests. Try again in %(seconds)s seconds or use another method.") % {
            "seconds": exc.retry_after
        }
    if isinstance(exc, exceptions.ChallengeStoreUnavailable):
        return _("The verification service is temporarily unavailable. Try again shortly.")
    if isinstance(exc, exceptions.ChallengeNotFound):
        return _("That request is no longer valid. Send a new one.")
    return _("The push could not be sent. Use another method.")

