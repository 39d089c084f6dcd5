"""TOTP account endpoints (docs/api-contract.md): ``api/totp/setup/`` and ``api/totp/confirm/``.
Thin: each calls a flow in ``internal.flows``. ``api/totp/verify/`` is the shared code-verify view
(``api.login``)."""
from __future__ import annotations

from django.urls import path
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from ..totp.internal import flows
from . import serializers as ser
from .base import AccountAPIView
from .login import code_verify_view
from .schema import error_responses, extend_schema


class TOTPSetupView(AccountAPIView):
    """``POST api/totp/setup/`` → ``201 {"secret", "otpauth_uri"}``; nothing is active until confirmed."""

    @extend_schema(
        operation_id="totp_setup",
        summary="Start a TOTP enrollment (nothing is active until confirmed)",
        request=None,
        responses={201: ser.TOTPSetupSerializer, **error_responses(403)},
        tags=["account"],
    )
    def post(self, request: Request) -> Response:
        setup = flows.begin_setup(request._request, request.user)
        response = Response({"secret": setup.secret, "otpauth_uri": setup.otpauth_uri}, status=status.HTTP_201_CREATED)
        response["Cache-Control"] = "no-store"  # the seed: no cache may keep a copy
        return response


class TOTPConfirmView(AccountAPIView):
    """``POST api/totp/confirm/`` ``{"code", "label"?}`` → ``201`` the new credential."""

    @extend_schema(
        operation_id="totp_confirm",
        summary="Confirm the TOTP enrollment with a code; the credential is active from now on",
        request=ser.TOTPConfirmSerializer,
        responses={201: ser.CredentialSerializer, **error_responses(400, 403, 429, 503)},
        tags=["account"],
    )
    def post(self, request: Request) -> Response:
        data = self.validated(request, ser.TOTPConfirmSerializer)
        credential = flows.confirm_setup(request._request, request.user, data["code"], label=data["label"])
        return self.credential_created(credential)


urlpatterns = [
    path(
        "totp/verify/",
        code_verify_view("totp", "totp_verify", "Complete the MFA step with a TOTP code"),
        name="api-totp-verify",
    ),
    path("totp/setup/", TOTPSetupView.as_view(), name="api-totp-setup"),
    path("totp/confirm/", TOTPConfirmView.as_view(), name="api-totp-confirm"),
]
