"""TOTP endpoints (shared/api-contract.md): ``api/totp/verify/`` (login in progress),
``api/totp/setup/`` and ``api/totp/confirm/`` (account). Thin: each calls a flow in ``internal.flows``.
"""
from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import status
from rest_framework.authentication import SessionAuthentication
from rest_framework.request import Request
from rest_framework.response import Response

from ..api.base import PushMFAAPIView
from ..api.browser import pending_user
from ..api.exceptions import APIError
from ..api.permissions import HasPendingLogin, IsFullyAuthenticated
from ..api.schema import error_responses, extend_schema
from ..internal import account
from ..internal import login as login_flow
from ..models import MFACredential
from . import serializers as ser
from .internal import flows

# A typed code longer than this is refused as malformed without any work.
MAX_CODE_LENGTH = 64


def body(request: Request) -> dict[str, Any]:
    data = request.data
    if not isinstance(data, dict):
        raise APIError("invalid", _("The body must be a JSON object."), 400)
    return data


def code_from(request: Request) -> str:
    """The ``code`` field: a missing or non-string one is ``400 invalid``; its content is the flow's business."""
    code = body(request).get("code")
    if not isinstance(code, str):
        raise APIError("invalid", {"code": [str(_("This field is required and must be a string."))]}, 400)
    return code


def label_from(request: Request) -> str:
    label = body(request).get("label", "")
    if not isinstance(label, str) or "\x00" in label:  # PostgreSQL refuses NUL in text columns
        raise APIError("invalid", {"label": [str(_("Must be a string without NUL characters."))]}, 400)
    return label.strip()[:100]


def credential_json(credential: MFACredential) -> dict[str, Any]:
    """A credential exactly as ``GET api/credentials/`` lists it (never a secret)."""
    for summary in account.list_credentials(credential.user):
        if summary.id == str(credential.pk):
            return summary.as_json()
    raise APIError("not_found", _("Not found."), 404)  # revoked between creation and answer


def remember_from(request: Request) -> bool:
    """Extension (as for push): ``"remember_browser": true`` sets the "trust this browser" cookie."""
    remember = body(request).get("remember_browser", False)
    if not isinstance(remember, bool):
        raise APIError("invalid", {"remember_browser": [str(_("Must be true or false."))]}, 400)
    return remember


def approved(
    request: Request, user: Any, method: str, credential: MFACredential, *, remember: bool = False
) -> Response:
    """Finish the MFA step after a verified factor: log in for real, answer with where to go."""
    redirect_url = login_flow.complete_login(request._request, user, method, credential=credential)
    response = Response({"status": "approved", "redirect_url": redirect_url})
    if remember:
        login_flow.remember_browser_after_login(request._request, response, user, method=method)
    return response


class TOTPVerifyView(PushMFAAPIView):
    """``POST api/totp/verify/`` ``{"code"}`` → ``200 {"status": "approved", "redirect_url"}``."""

    authentication_classes: list = []
    permission_classes = [HasPendingLogin]

    @extend_schema(
        operation_id="totp_verify",
        summary="Complete the MFA step with a TOTP code",
        request=ser.CodeSerializer,
        responses={200: ser.ApprovedSerializer, **error_responses(400, 403, 429, 503)},
        tags=["browser"],
    )
    def post(self, request: Request) -> Response:
        code, remember = code_from(request), remember_from(request)
        user = pending_user(request)
        credential = flows.verify_login(request._request, user, code)
        return approved(request, user, "totp", credential, remember=remember)


class TOTPSetupView(PushMFAAPIView):
    """``POST api/totp/setup/`` → ``201 {"secret", "otpauth_uri"}``; nothing is active until confirmed."""

    authentication_classes = [SessionAuthentication]
    permission_classes = [IsFullyAuthenticated]

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


class TOTPConfirmView(PushMFAAPIView):
    """``POST api/totp/confirm/`` ``{"code", "label"?}`` → ``201`` the new credential."""

    authentication_classes = [SessionAuthentication]
    permission_classes = [IsFullyAuthenticated]

    @extend_schema(
        operation_id="totp_confirm",
        summary="Confirm the TOTP enrollment with a code; the credential is active from now on",
        request=ser.TOTPConfirmSerializer,
        responses={201: ser.CredentialSerializer, **error_responses(400, 403, 429, 503)},
        tags=["account"],
    )
    def post(self, request: Request) -> Response:
        code = code_from(request)
        credential = flows.confirm_setup(request._request, request.user, code, label=label_from(request))
        return Response(credential_json(credential), status=status.HTTP_201_CREATED)
