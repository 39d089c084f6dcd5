"""Backup-code account endpoint (docs/api-contract.md): ``api/backup-codes/`` (a new set, shown
once). ``api/backup-codes/verify/`` is the shared code-verify view (``api.login``)."""
from __future__ import annotations

from django.urls import path
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from ..backup_codes.internal import flows
from . import serializers as ser
from .base import AccountAPIView
from .login import code_verify_view
from .schema import error_responses, extend_schema


class BackupCodesView(AccountAPIView):
    """``POST api/backup-codes/`` → ``201 {"codes": [...]}``: a new set; earlier unused codes stop working."""

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


urlpatterns = [
    path(
        "backup-codes/verify/",
        code_verify_view(
            "backup_code", "backup_codes_verify", "Complete the MFA step with a backup code (each works once)"
        ),
        name="api-backup-codes-verify",
    ),
    path("backup-codes/", BackupCodesView.as_view(), name="api-backup-codes"),
]
