"""Account endpoints (user fully logged in): list, revoke and choose the primary credential.

Contract: docs/api-contract.md, "Account endpoints". ``POST api/credentials/<id>/primary/`` is an
extension of the contract (v1 additions are allowed): it makes that credential the primary method.
"""
from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from ..internal import account
from . import serializers as ser
from .base import AccountAPIView, CredentialChangeAPIView
from .exceptions import APIError
from .schema import error_responses, extend_schema


class CredentialListView(AccountAPIView):
    """``GET api/credentials/`` → ``{"credentials": [{"id", "method", "label", "is_primary", ...}]}``."""

    @extend_schema(
        operation_id="account_credentials_list",
        summary="The user's active credentials (no secrets)",
        responses={200: ser.CredentialListSerializer, **error_responses(403)},
        tags=["account"],
    )
    def get(self, request: Request) -> Response:
        return Response({"credentials": [c.as_json() for c in account.list_credentials(request.user)]})


class CredentialDetailView(CredentialChangeAPIView):
    """``DELETE api/credentials/<id>/`` → ``204``: revoked (never deleted), a security event recorded."""

    @extend_schema(
        operation_id="account_credential_revoke",
        summary="Revoke one of the user's credentials",
        responses={204: None, **error_responses(403, 404)},
        tags=["account"],
    )
    def delete(self, request: Request, credential_id: str) -> Response:
        account.revoke_own_credential(request._request, credential_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class CredentialPrimaryView(CredentialChangeAPIView):
    """``POST api/credentials/<id>/primary/`` → ``200`` the credential as listed (extension)."""

    @extend_schema(
        operation_id="account_credential_make_primary",
        summary="Make a credential the primary method (extension)",
        request=None,
        responses={200: ser.CredentialSerializer, **error_responses(400, 403, 404)},
        tags=["account"],
    )
    def post(self, request: Request, credential_id: str) -> Response:
        try:
            credential = account.make_primary(request._request, credential_id)
        except ValueError:
            raise APIError("invalid", _("Backup codes cannot be the primary method."), 400)
        return Response(self.credential_json(credential))
