"""Backup-code endpoints (shared/api-contract.md): ``api/backup-codes/verify/`` (login in progress)
and ``api/backup-codes/`` (account: a new set, shown once).
"""
from __future__ import annotations

from rest_framework import status
from rest_framework.authentication import SessionAuthentication
from rest_framework.request import Request
from rest_framework.response import Response

from ..api.base import PushMFAAPIView
from ..api.browser import pending_user
from ..api.permissions import HasPendingLogin, IsFullyAuthenticated
from ..api.schema import error_responses, extend_schema
from ..totp import serializers as ser
from ..totp.api import approved, code_from, remember_from
from .internal import flows


class BackupCodeVerifyView(PushMFAAPIView):
    """``POST api/backup-codes/verify/`` ``{"code"}`` → ``200 {"status": "approved", "redirect_url"}``."""

    authentication_classes: list = []
    permission_classes = [HasPendingLogin]

    @extend_schema(
        operation_id="backup_codes_verify",
        summary="Complete the MFA step with a backup code (each works once)",
        request=ser.CodeSerializer,
        responses={200: ser.ApprovedSerializer, **error_responses(400, 403, 429, 503)},
        tags=["browser"],
    )
    def post(self, request: Request) -> Response:
        code, remember = code_from(request), remember_from(request)
        user = pending_user(request)
        credential = flows.verify_login(request._request, user, code)
        return approved(request, user, "backup_code", credential, remember=remember)


class BackupCodesView(PushMFAAPIView):
    """``POST api/backup-codes/`` → ``201 {"codes": [...]}``: a new set; earlier unused codes stop working."""

    authentication_classes = [SessionAuthentication]
    permission_classes = [IsFullyAuthenticated]

    @extend_schema(
        operation_id="backup_codes_generate",
        summary="A new set of backup codes, shown once; earlier unused codes stop working",
        request=None,
        responses={201: ser.BackupCodesSerializer, **error_responses(403)},
        tags=["account"],
    )
    def post(self, request: Request) -> Response:
        _credential, codes = flows.generate_set(request._request, request.user)
        response = Response({"codes": codes}, status=status.HTTP_201_CREATED)
        response["Cache-Control"] = "no-store"  # shown once: no cache may keep a copy
        return response
