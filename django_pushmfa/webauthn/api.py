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

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework.request import Request
from rest_framework.response import Response

from ..api.base import CredentialChangeAPIView, PendingLoginAPIView, PushMFAAPIView
from ..api.exceptions import APIError
from ..api.inputs import body, clean_label, flag_from, remember_from
from ..api.reauth import ReauthAPIView
from ..api.schema import error_responses, extend_schema
from ..api.serializers import ApprovedSerializer, CredentialSerializer
from ..internal import login as login_flow
from . import serializers as ser
from .internal import flows
from .internal.auth import MalformedCredential, WebAuthnFailed

FAILED_CODES = {400: "invalid, webauthn_failed (extension)"}
FAILED_DETAIL = _("The security key or passkey could not be verified.")


def credential_from(request: Request) -> tuple[Any, str]:
    """(the posted credential, the optional label)."""
    data = body(request)
    credential = data.get("credential", data)
    if not isinstance(credential, dict):
        raise APIError("invalid", _("Post the WebAuthn credential as a JSON object."), 400)
    return credential, clean_label(data.get("label", ""))


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
        responses={200: ApprovedSerializer, **error_responses(400, 403, 503, codes=FAILED_CODES)},
        tags=["browser"],
    )
    def post(self, request: Request) -> Response:
        assertion, _label = credential_from(request)
        remember = remember_from(request)
        user = self.pending_user(request)
        credential = flows.verify_login(request._request, user, assertion)
        done = login_flow.finish_step(request._request, user, "webauthn", credential=credential, remember=remember)
        return self.approved(done)


class RegistrationBeginView(WebAuthnErrors, CredentialChangeAPIView):
    """``POST api/webauthn/register/begin/`` ``{"passkey": false}`` → ``200`` creation options (JSON form)."""

    @extend_schema(
        operation_id="webauthn_register_begin",
        summary="WebAuthn creation options for a new security key or passkey",
        request=ser.RegistrationBeginSerializer,
        responses={200: ser.WebAuthnOptionsSerializer, **error_responses(400, 403)},
        tags=["account"],
    )
    def post(self, request: Request) -> Response:
        passkey = flag_from(request, "passkey")
        return Response(flows.begin_registration(request._request, request.user, passkey=passkey))


class RegistrationCompleteView(WebAuthnErrors, CredentialChangeAPIView):
    """``POST api/webauthn/register/complete/`` with the attestation → ``201`` the new credential."""

    @extend_schema(
        operation_id="webauthn_register_complete",
        summary="Register the key from its attestation; active at once",
        request=ser.WebAuthnCredentialSerializer,
        responses={201: CredentialSerializer, **error_responses(400, 403, 503, codes=FAILED_CODES)},
        tags=["account"],
    )
    def post(self, request: Request) -> Response:
        attestation, label = credential_from(request)
        credential = flows.complete_registration(request._request, request.user, attestation, label=label)
        return self.credential_created(credential)


class ReauthWebAuthnBeginView(WebAuthnErrors, ReauthAPIView):
    """``POST api/reauth/webauthn/begin/`` → ``200`` request options for the logged-in user's keys."""

    @extend_schema(
        operation_id="reauth_webauthn_begin",
        summary="WebAuthn request options for a re-authentication",
        request=None,
        responses={200: ser.WebAuthnOptionsSerializer, **error_responses(400, 403, codes=FAILED_CODES)},
        tags=["reauthentication"],
    )
    def post(self, request: Request) -> Response:
        return Response(flows.begin_authentication(request._request, request.user))


class ReauthWebAuthnCompleteView(WebAuthnErrors, ReauthAPIView):
    """``POST api/reauth/webauthn/complete/`` with the assertion → ``200 {"status": "approved"}``."""

    @extend_schema(
        operation_id="reauth_webauthn_complete",
        summary="Re-authenticate with a WebAuthn assertion",
        request=ser.WebAuthnCredentialSerializer,
        responses={200: ApprovedSerializer, **error_responses(400, 403, 503, codes=FAILED_CODES)},
        tags=["reauthentication"],
    )
    def post(self, request: Request) -> Response:
        assertion, _label = credential_from(request)
        credential = flows.verify_login(request._request, request.user, assertion)
        return self.approved(request, "webauthn", credential=credential)
