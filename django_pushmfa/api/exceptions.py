"""Errors on the wire: ``{"detail": "<message>", "code": "<machine code>"}`` with the contract's status.

Set as the exception handler of every view in ``api`` (through ``api.base.PushMFAAPIView``), so a
host site's own ``REST_FRAMEWORK`` settings do not change the app's contract.
"""
from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status
from rest_framework.response import Response

from .. import exceptions as app_exceptions
from ..app_settings import app_settings

logger = logging.getLogger("django_pushmfa")


class APIError(exceptions.APIException):
    """An error with one of the contract's codes."""

    def __init__(self, code: str, detail: Any = None, status_code: int = 400, headers: dict | None = None) -> None:
        super().__init__(detail=detail or code.replace("_", " "), code=code)
        self.status_code = status_code
        self.code = code
        self.headers = headers or {}


class MFARequired(exceptions.PermissionDenied):
    default_detail = _("Complete the MFA step first.")
    default_code = "mfa_required"


class ReauthenticationRequiredError(exceptions.PermissionDenied):
    """``403 reauthentication_required`` with ``reauthenticate_url``, whichever exception handler the
    view has: the detail is the whole answer, so DRF's default handler gives it as is too."""

    default_code = "reauthentication_required"
    detail: dict[str, Any]  # the whole answer (plain strings besides ``detail``), not DRF's normalised form

    def __init__(self, reauthenticate_url: str) -> None:
        super().__init__()
        self.code = self.default_code
        self.detail = {
            "detail": exceptions.ErrorDetail(str(_("Confirm it's you first: re-authenticate.")), self.code),
            "code": self.code,
            "reauthenticate_url": reauthenticate_url,
        }


class InvalidSignature(exceptions.AuthenticationFailed):
    default_detail = _("The request signature does not verify.")
    default_code = "invalid_signature"


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = _("The request body is too large.")
    default_code = "payload_too_large"


def check_body_size(request: Any) -> None:
    """``413 payload_too_large`` for a body declared over ``PUSHMFA_MAX_BODY_BYTES``, before it is read."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > app_settings.MAX_BODY_BYTES:
        raise PayloadTooLarge()


# The app's own exceptions, mapped to (status, human message).
APP_ERRORS: dict[type[app_exceptions.PushMFAError], tuple[int, Any]] = {
    app_exceptions.ChallengeStoreUnavailable: (503, _("The MFA service is temporarily unavailable.")),
    app_exceptions.ChallengeNotFound: (404, _("Not found.")),
    app_exceptions.ChallengeExpired: (410, _("The challenge has expired.")),
    app_exceptions.ChallengeResolved: (409, _("The challenge was already answered.")),
    app_exceptions.WrongNumber: (409, _("That is not the number on the login screen. The request was denied.")),
    app_exceptions.NoPushDevice: (409, _("No push device is registered.")),
    app_exceptions.PushSuspended: (423, _("Push is suspended for this account; use another method.")),
    app_exceptions.RateLimited: (429, _("Too many attempts. Try again later.")),
    app_exceptions.CodesLocked: (
        403, _("Codes are locked after too many wrong ones; use another method or ask for a reset.")
    ),
    app_exceptions.InvalidCode: (400, _("The code is not valid.")),
    app_exceptions.InvalidPairingToken: (400, _("The pairing token is unknown, used or expired.")),
    app_exceptions.MFANotInProgress: (403, _("No login is in progress in this session.")),
    app_exceptions.MethodNotAvailable: (403, _("This method is not available for your account.")),
    app_exceptions.InvalidCredentials: (400, _("The password is not correct.")),
}

DRF_CODES: dict[type[exceptions.APIException], str] = {
    exceptions.ParseError: "parse_error",
    exceptions.ValidationError: "invalid",
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "rate_limited",
}


def to_api_exception(exc: Exception) -> exceptions.APIException | None:
    if isinstance(exc, app_exceptions.PushMFAError):
        for cls in type(exc).__mro__:
            if cls in APP_ERRORS:
                status_code, detail = APP_ERRORS[cls]
                headers = {}
                retry_after = getattr(exc, "retry_after", None)
                if retry_after:
                    headers["Retry-After"] = str(int(retry_after))
                return APIError(exc.code, detail, status_code, headers)
        return None
    if isinstance(exc, Http404):
        return exceptions.NotFound()
    if isinstance(exc, DjangoPermissionDenied):
        return exceptions.PermissionDenied()
    if isinstance(exc, RequestDataTooBig):
        return PayloadTooLarge()
    if isinstance(exc, exceptions.APIException):
        return exc
    return None


def error_code(exc: exceptions.APIException) -> str:
    explicit = getattr(exc, "code", None)
    if isinstance(explicit, str):
        return explicit
    for cls in type(exc).__mro__:
        if cls in DRF_CODES:
            return DRF_CODES[cls]
    if isinstance(exc.detail, dict | list):
        return "invalid"
    codes = exc.get_codes()
    return codes if isinstance(codes, str) else exc.default_code


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    api_exc = to_api_exception(exc)
    if api_exc is None:
        return None  # a real bug: let Django answer 500 and log it
    if isinstance(api_exc, ReauthenticationRequiredError):
        return Response(dict(api_exc.detail), status=api_exc.status_code)
    code = error_code(api_exc)
    data: dict[str, Any] = {"code": code}
    if isinstance(api_exc.detail, dict | list):
        data["detail"] = str(_("Invalid input."))
        data["errors"] = api_exc.detail
    else:
        data["detail"] = str(api_exc.detail)
    headers: dict[str, str] = dict(getattr(api_exc, "headers", None) or {})
    # DRF sets ``Throttled.wait`` (seconds or None); its stubs do not declare it.
    wait = getattr(api_exc, "wait", None) if isinstance(api_exc, exceptions.Throttled) else None
    if wait is not None:
        headers["Retry-After"] = str(max(1, int(wait + 0.999)))
    if isinstance(api_exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        request = context.get("request")
        view = context.get("view")
        if view is not None and hasattr(view, "get_authenticate_header") and request is not None:
            header = view.get_authenticate_header(request)
            if header:
                headers["WWW-Authenticate"] = header
    return Response(data, status=api_exc.status_code, headers=headers)
