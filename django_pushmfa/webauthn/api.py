"""WebAuthn endpoints (shared/api-contract.md).

Login in progress: ``api/webauthn/begin/`` → request options, ``api/webauthn/complete/`` with the
assertion → ``{"status": "approved", "redirect_url"}``. Account: ``api/webauthn/register/begin/``
(``{"passkey": true}`` for a passkey) → creation options, ``api/webauthn/register/complete/`` with
the attestation → ``201`` the new credential.

The credential may be posted as the body itself (``PublicKeyCredential.toJSON()`` shape) or as
``{"credential": {...}, "label": "..."}``. Extension of the contract's codes: a response that does
not verify is ``400 webauthn_failed``; one that is not a WebAuthn response at all is ``400 invalid``.
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
from ..totp import serializers as ser
from ..totp.api import approved, body, credential_json, remember_from
from .internal import flows
from .internal.auth import MalformedCredential, WebAuthnFailed

FAILED_CODES = {400: "invalid, webauthn_failed (extension)"}
FAILED_DETAIL = _("The security key or passkey could not be verified.")


def credential_from(request: Request) -> tuple[Any, str]:
    """(the posted credential, the optional label)."""
    data = body(request)
    credential = data.get("credential", data)
    label = data.get("label", "")
    if not isinstance(credential, dict) or not isinstance(label, str):
        raise APIError("invalid", _("Post the WebAuthn credential as a JSON object."), 400)
    if "\x00" in label:  # PostgreSQL refuses NUL in text columns (a 500 instead of this answer)
        raise APIError("invalid", {"label": [str(_("Must be a string without NUL characters."))]}, 400)
    return credential, label.strip()[:100]


class WebAuthnAPIView(PushMFAAPIView):
    """Turns the ceremony errors into the wire codes ``webauthn_failed`` / ``invalid``."""

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, WebAuthnFailed):
            exc = APIError("webauthn_failed", FAILED_DETAIL, 400)
        elif isinstance(exc, MalformedCredential):
            exc = APIError("invalid", _("This is not a WebAuthn response."), 400)
        return super().handle_exception(exc)


class AuthenticationBeginView(WebAuthnAPIView):
    """``POST api/webauthn/begin/`` → ``200`` request options (JSON form)."""

    authentication_classes: list = []
    permission_classes = [HasPendingLogin]

    @extend_schema(
        operation_id="webauthn_begin",
        summary="WebAuthn request options for the MFA step (allowCredentials: the user's keys)",
        request=None,
        responses={200: ser.WebAuthnOptionsSerializer, **error_responses(400, 403, codes=FAILED_CODES)},
        tags=["browser"],
    )
    def post(self, request: Request) -> Response:
        return Response(flows.begin_authentication(request._request, pending_user(request)))


class AuthenticationCompleteView(WebAuthnAPIView):
    """``POST api/webauthn/complete/`` with the assertion → ``200 {"status": "approved", "redirect_url"}``."""

    authentication_classes: list = []
    permission_classes = [HasPendingLogin]

    @extend_schema(
        operation_id="webauthn_complete",
        summary="Complete the MFA step with a WebAuthn assertion",
        request=ser.WebAuthnCredentialSerializer,
        responses={200: ser.ApprovedSerializer, **error_responses(400, 403, 503, codes=FAILED_CODES)},
        tags=["browser"],
    )
    def post(self, request: Request) -> Response:
        assertion, _label = credential_from(request)
        remember = remember_from(request)
        user = pending_user(request)
        credential = flows.verify_login(request._request, user, assertion)
        return approved(request, user, "webauthn", credential, remember=remember)


class RegistrationBeginView(WebAuthnAPIView):
    """``POST api/webauthn/register/begin/`` ``{"passkey": false}`` → ``200`` creation options (JSON form)."""

    authentication_classes = [SessionAuthentication]
    permission_classes = [IsFullyAuthenticated]

    @extend_schema(
        operation_id="webauthn_register_begin",
        summary="WebAuthn creation options for a new security key or passkey",
        request=ser.RegistrationBeginSerializer,
        responses={200: ser.WebAuthnOptionsSerializer, **error_responses(400, 403)},
        tags=["account"],
    )
    def post(self, request: Request) -> Response:
        passkey = body(request).get("passkey", False)
        if not isinstance(passkey, bool):
            raise APIError("invalid", {"passkey": [str(_("Must be true or false."))]}, 400)
        return Response(flows.begin_registration(request._request, request.user, passkey=passkey))


class RegistrationCompleteView(WebAuthnAPIView):
    """``POST api/webauthn/register/complete/`` with the attestation → ``201`` the new credential."""

    authentication_classes = [SessionAuthentication]
    permission_classes = [IsFullyAuthenticated]

    @extend_schema(
        operation_id="webauthn_register_complete",
        summary="Register the key from its attestation; active at once",
        request=ser.WebAuthnCredentialSerializer,
        responses={201: ser.CredentialSerializer, **error_responses(400, 403, 503, codes=FAILED_CODES)},
        tags=["account"],
    )
    def post(self, request: Request) -> Response:
        attestation, label = credential_from(request)
        credential = flows.complete_registration(request._request, request.user, attestation, label=label)
        return Response(credential_json(credential), status=status.HTTP_201_CREATED)
