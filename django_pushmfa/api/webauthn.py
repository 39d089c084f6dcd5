"""WebAuthn endpoints (docs/api-contract.md).

Login in progress: ``api/webauthn/begin/`` → request options, ``api/webauthn/complete/`` with the
assertion → ``{"status": "approved", "redirect_url"}``. Account: ``api/webauthn/register/begin/``
(``{"passkey": true}`` for a passkey) → creation options, ``api/webauthn/register/complete/`` with
the attestation → ``201`` the new credential.

The credential may be posted as the body itself (``PublicKeyCredential.toJSON()`` shape) or as
``{"credential": {...}, "label": "..."}``. Extension of the contract's codes: a response that does
not verify is ``400 webauthn_failed``; one that is not a WebAuthn response at all is ``400 invalid``.
"""
from __future__ import annotations

from django.urls import path
from django.utils.translation import gettext_lazy as _
from rest_framework.request import Request
from rest_framework.response import Response

from ..webauthn.internal import flows
from ..webauthn.internal.auth import MalformedCredential, WebAuthnFailed
from . import serializers as ser
from .base import AccountAPIView, PendingLoginAPIView, PushMFAAPIView
from .exceptions import APIError
from .schema import error_responses, extend_schema

FAILED_CODES = {400: "invalid, webauthn_failed (extension)"}
FAILED_DETAIL = _("The security key or passkey could not be verified.")


class WebAuthnErrors(PushMFAAPIView):
    """Turns the ceremony errors into the wire codes ``webauthn_failed`` / ``invalid``."""

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, WebAuthnFailed):
            exc = APIError("webauthn_failed", FAILED_DETAIL, 400)
        elif isinstance(exc, MalformedCredential):
            exc = APIError("invalid", _("This is not a WebAuthn response."), 400)
        return super().handle_exception(exc)


class AuthenticationBeginView(WebAuthnErrors, PendingLoginAPIView):
    """``POST api/webauthn/begin/`` → ``200`` request options (JSON form)."""

    @extend_schema(
        operation_id="webauthn_begin",
        summary="WebAuthn request options for the MFA step (allowCredentials: the user's keys)",
        request=None,
        responses={200: ser.WebAuthnOptionsSerializer, **error_responses(400, 403, codes=FAILED_CODES)},
        tags=["browser"],
    )
    def post(self, request: Request) -> Response:
        return Response(flows.begin_authentication(request._request, self.pending_user(request)))


class AuthenticationCompleteView(WebAuthnErrors, PendingLoginAPIView):
    """``POST api/webauthn/complete/`` with the assertion → ``200 {"status": "approved", "redirect_url"}``."""

    @extend_schema(
        operation_id="webauthn_complete",
        summary="Complete the MFA step with a WebAuthn assertion",
        request=ser.WebAuthnCredentialSerializer,
        responses={200: ser.ApprovedSerializer, **error_responses(400, 403, 503, codes=FAILED_CODES)},
        tags=["browser"],
    )
    def post(self, request: Request) -> Response:
        data = self.validated(request, ser.WebAuthnCredentialSerializer)
        user = self.pending_user(request)
        credential = flows.verify_login(request._request, user, data["credential"])
        return self.finish(request, user, "webauthn", credential, remember=data["remember_browser"])


class RegistrationBeginView(WebAuthnErrors, AccountAPIView):
    """``POST api/webauthn/register/begin/`` ``{"passkey": false}`` → ``200`` creation options (JSON form)."""

    @extend_schema(
        operation_id="webauthn_register_begin",
        summary="WebAuthn creation options for a new security key or passkey",
        request=ser.RegistrationBeginSerializer,
        responses={200: ser.WebAuthnOptionsSerializer, **error_responses(400, 403)},
        tags=["account"],
    )
    def post(self, request: Request) -> Response:
        passkey = self.validated(request, ser.RegistrationBeginSerializer)["passkey"]
        return Response(flows.begin_registration(request._request, request.user, passkey=passkey))


class RegistrationCompleteView(WebAuthnErrors, AccountAPIView):
    """``POST api/webauthn/register/complete/`` with the attestation → ``201`` the new credential."""

    @extend_schema(
        operation_id="webauthn_register_complete",
        summary="Register the key from its attestation; active at once",
        request=ser.WebAuthnCredentialSerializer,
        responses={201: ser.CredentialSerializer, **error_responses(400, 403, 503, codes=FAILED_CODES)},
        tags=["account"],
    )
    def post(self, request: Request) -> Response:
        data = self.validated(request, ser.WebAuthnCredentialSerializer)
        user = request.user
        credential = flows.complete_registration(request._request, user, data["credential"], label=data["label"])
        return self.credential_created(credential)


urlpatterns = [
    path("webauthn/begin/", AuthenticationBeginView.as_view(), name="api-webauthn-begin"),
    path("webauthn/complete/", AuthenticationCompleteView.as_view(), name="api-webauthn-complete"),
    path("webauthn/register/begin/", RegistrationBeginView.as_view(), name="api-webauthn-register-begin"),
    path(
        "webauthn/register/complete/", RegistrationCompleteView.as_view(), name="api-webauthn-register-complete"
    ),
]
