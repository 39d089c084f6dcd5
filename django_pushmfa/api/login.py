"""Endpoints of a login in progress that belong to no single method: the method list, and the
typed-code verify of every code method (TOTP, backup codes), one parametrised view.

Contract: docs/api-contract.md, "Browser endpoints". Nothing here ever tells the browser the
user's id, the requesting IP or anything about the user's devices.
"""
from __future__ import annotations

from typing import Any, cast

from rest_framework.request import Request
from rest_framework.response import Response

from ..internal import methods
from . import serializers as ser
from .base import PendingLoginAPIView
from .schema import error_responses, extend_schema


class MethodsView(PendingLoginAPIView):
    """``GET api/methods/`` → ``{"methods": [{"method", "label", "is_primary"}, ...]}``."""

    @extend_schema(
        operation_id="browser_methods",
        summary="The methods this login can be completed with",
        responses={200: ser.MethodListSerializer, **error_responses(403)},
        tags=["browser"],
    )
    def get(self, request: Request) -> Response:
        user = self.pending_user(request)
        return Response({"methods": [option.as_json() for option in methods.get_mfa_options(user)]})


class CodeVerifyView(PendingLoginAPIView):
    """``POST api/<method>/verify/`` ``{"code"}`` → ``200 {"status": "approved", "redirect_url"}``.

    ``method`` (set with ``as_view(method=...)``) is a typed-code method of the registry.
    """

    method = ""

    def post(self, request: Request) -> Response:
        data = self.validated(request, ser.CodeSerializer)
        user = self.pending_user(request)
        credential = methods.REGISTRY[self.method].verify_code(request._request, user, data["code"])
        return self.finish(request, user, self.method, credential, remember=data["remember_browser"])


def code_verify_view(method: str, operation_id: str, summary: str) -> Any:
    """The verify endpoint of the code method ``method``, documented under ``operation_id``."""
    schema = extend_schema(
        operation_id=operation_id,
        summary=summary,
        request=ser.CodeSerializer,
        responses={200: ser.ApprovedSerializer, **error_responses(400, 403, 429, 503)},
        tags=["browser"],
    )

    def post(self: CodeVerifyView, request: Request) -> Response:  # a function of its own per schema
        return CodeVerifyView.post(self, request)

    name = f"{method.title().replace('_', '')}VerifyView"
    view_class = cast("type[CodeVerifyView]", type(name, (CodeVerifyView,), {"method": method, "post": schema(post)}))
    return view_class.as_view()
