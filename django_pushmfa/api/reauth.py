"""Re-authentication endpoints (docs/api-contract.md, v1.1 "Recent authentication"): ``api/reauth/…``.

For a fully logged-in session (pending: ``403 mfa_required``; anonymous: ``403 not_authenticated``).
Each is the login's own method flow — the same verification, rate limits, events and fatigue
defences — completed with the :data:`~django_pushmfa.internal.reauth.REAUTHENTICATION` purpose: the
user stays logged in and the session becomes recently authenticated. A password re-authenticates
only a user without an active MFA credential (``403 method_not_available`` otherwise).
"""
from __future__ import annotations

from typing import Any, cast

from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from ..internal import methods, reauth
from ..services import has_active_mfa
from . import serializers as ser
from .base import AccountAPIView
from .schema import error_responses, extend_schema

PASSWORD_LABEL = _("Password")


def reauth_options(user: Any) -> list[dict[str, Any]]:
    """The methods ``user`` can re-authenticate with: their MFA methods, or the password without one."""
    if has_active_mfa(user):
        return [option.as_json() for option in methods.get_mfa_options(user)]
    return [{"method": "password", "label": str(PASSWORD_LABEL), "is_primary": True}]


class ReauthAPIView(AccountAPIView):
    """Base of the re-authentication endpoints: a fully logged-in session; answers ``approved``."""

    def approved(self, request: Request, method: str, **credential: Any) -> Response:
        done = reauth.complete(request._request, request.user, method, **credential)
        return Response(done.as_json())


class ReauthMethodsView(ReauthAPIView):
    """``GET api/reauth/methods/`` → ``{"methods": [...]}`` (``password`` only for a user without MFA)."""

    @extend_schema(
        operation_id="reauth_methods",
        summary="The methods this session can re-authenticate with",
        responses={200: ser.MethodListSerializer, **error_responses(403)},
        tags=["reauthentication"],
    )
    def get(self, request: Request) -> Response:
        return Response({"methods": reauth_options(request.user)})


class ReauthCodeView(ReauthAPIView):
    """``POST api/reauth/<method>/`` ``{"code"}`` → ``200 {"status": "approved"}`` (TOTP, backup codes)."""

    method = ""

    def post(self, request: Request) -> Response:
        code = self.validated(request, ser.CodeSerializer)["code"]
        credential = methods.REGISTRY[self.method].verify_code(request._request, request.user, code)
        return self.approved(request, self.method, credential=credential)


def reauth_code_view(method: str, operation_id: str) -> Any:
    schema = extend_schema(
        operation_id=operation_id,
        summary=f"Re-authenticate with a {methods.REGISTRY[method].label}",
        request=ser.CodeSerializer,
        responses={200: ser.ApprovedSerializer, **error_responses(400, 403, 429, 503)},
        tags=["reauthentication"],
    )

    def post(self: ReauthCodeView, request: Request) -> Response:
        return ReauthCodeView.post(self, request)

    name = f"Reauth{method.title().replace('_', '')}View"
    view_class = cast("type[ReauthCodeView]", type(name, (ReauthCodeView,), {"method": method, "post": schema(post)}))
    return view_class.as_view()


class ReauthPasswordView(ReauthAPIView):
    """``POST api/reauth/password/`` ``{"password"}``: only for a user without an active MFA credential.

    Wrong password: ``400 invalid_credentials``, counted in the typed-code back-off (so a stolen
    session cannot guess the password faster than a code); ``429 rate_limited`` during a back-off.
    """

    @extend_schema(
        operation_id="reauth_password",
        summary="Re-authenticate with the password (users without MFA only)",
        request=ser.PasswordSerializer,
        responses={200: ser.ApprovedSerializer, **error_responses(400, 403, 429)},
        tags=["reauthentication"],
    )
    def post(self, request: Request) -> Response:
        password = self.validated(request, ser.PasswordSerializer)["password"]
        reauth.verify_password(request._request, request.user, password)
        return self.approved(request, "password")


def push_poll_url(challenge_id: str) -> str:
    return reverse("pushmfa:api-reauth-push-poll", args=[challenge_id])


class ReauthPushStartView(ReauthAPIView):
    """``POST api/reauth/push/`` → ``201`` as ``api/push/``; the push says "Confirm it's you"."""

    @extend_schema(
        operation_id="reauth_push_start",
        summary="Send a re-authentication push (purpose: reauthentication)",
        request=None,
        responses={201: ser.PushStartSerializer, **error_responses(403, 409, 423, 429, 503)},
        tags=["reauthentication"],
    )
    def post(self, request: Request) -> Response:
        from ..push.internal import flows
        from .push import challenge_json

        challenge = flows.start(request._request, request.user, purpose=reauth.REAUTHENTICATION)
        return Response(challenge_json(challenge, push_poll_url(challenge.id)), status=status.HTTP_201_CREATED)


class ReauthPushPollView(ReauthAPIView):
    """``GET api/reauth/push/<id>/?wait=`` → as the login's poll; the first ``approved`` stamps the
    session (consumed once; a challenge of another session is ``404``)."""

    @extend_schema(
        operation_id="reauth_push_poll",
        summary="The re-authentication push's status (long poll with wait)",
        responses={200: ser.PushPollSerializer, **error_responses(400, 403, 404, 503)},
        tags=["reauthentication"],
    )
    def get(self, request: Request, challenge_id: str) -> Response:
        from ..push.internal import flows
        from .push import parse_wait

        wait = parse_wait(request.query_params.get("wait"))
        result = flows.poll(request._request, challenge_id, wait, purpose=reauth.REAUTHENTICATION)
        return Response(result.as_json())


def urlpatterns() -> list:
    """The re-authentication routes of the enabled methods (under ``api/``)."""
    routes: list = [
        path("reauth/methods/", ReauthMethodsView.as_view(), name="api-reauth-methods"),
        path("reauth/password/", ReauthPasswordView.as_view(), name="api-reauth-password"),
    ]
    if methods.get("push"):
        routes += [
            path("reauth/push/", ReauthPushStartView.as_view(), name="api-reauth-push-start"),
            path("reauth/push/<str:challenge_id>/", ReauthPushPollView.as_view(), name="api-reauth-push-poll"),
        ]
    if methods.get("totp"):
        routes.append(path("reauth/totp/", reauth_code_view("totp", "reauth_totp"), name="api-reauth-totp"))
    if methods.get("backup_code"):
        routes.append(
            path(
                "reauth/backup-codes/",
                reauth_code_view("backup_code", "reauth_backup_codes"),
                name="api-reauth-backup-codes",
            )
        )
    if methods.get("webauthn"):
        from .webauthn import ReauthWebAuthnBeginView, ReauthWebAuthnCompleteView

        routes += [
            path("reauth/webauthn/begin/", ReauthWebAuthnBeginView.as_view(), name="api-reauth-webauthn-begin"),
            path(
                "reauth/webauthn/complete/",
                ReauthWebAuthnCompleteView.as_view(),
                name="api-reauth-webauthn-complete",
            ),
        ]
    return routes
