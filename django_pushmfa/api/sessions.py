""""Your sessions and browsers" (extension of the contract, v1.1): the logged-in user's sessions and
remembered browsers, each revocable.

- ``GET api/sessions/`` → ``{"sessions": [{"id", "browser", "os", "ip", "location", "created_at",
  "last_seen_at", "is_current"}]}`` (this session first).
- ``DELETE api/sessions/<id>/`` → ``204``: that other session is signed out at its next request.
- ``POST api/sessions/sign-out-others/`` → ``200 {"ended": n}``: a step-up action
  (``403 reauthentication_required`` without a recent authentication).
- ``GET api/browsers/`` → ``{"browsers": [{"id", "browser", "os", "created_at", "last_used_at",
  "expires_at"}]}``; ``DELETE api/browsers/<id>/`` → ``204``: it asks for the MFA step again.
"""
from __future__ import annotations

from django.urls import path
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from ..internal import sessions, trust
from .base import AccountAPIView, CredentialChangeAPIView
from .exceptions import APIError
from .schema import error_responses, extend_schema


class SessionSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    browser = serializers.CharField()
    os = serializers.CharField()
    ip = serializers.IPAddressField(allow_null=True)
    location = serializers.CharField()
    created_at = serializers.DateTimeField()
    last_seen_at = serializers.DateTimeField()
    is_current = serializers.BooleanField()


class SessionListSerializer(serializers.Serializer):
    sessions = SessionSerializer(many=True)


class BrowserSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    browser = serializers.CharField()
    os = serializers.CharField()
    created_at = serializers.DateTimeField()
    last_used_at = serializers.DateTimeField(allow_null=True)
    expires_at = serializers.DateTimeField()


class BrowserListSerializer(serializers.Serializer):
    browsers = BrowserSerializer(many=True)


class EndedSerializer(serializers.Serializer):
    ended = serializers.IntegerField(help_text="How many other sessions were signed out.")


def not_found() -> APIError:
    return APIError("not_found", None, 404)


class SessionListView(AccountAPIView):
    @extend_schema(
        operation_id="sessions_list",
        summary="The user's signed-in sessions (this one first)",
        responses={200: SessionListSerializer, **error_responses(403)},
        tags=["account"],
    )
    def get(self, request: Request) -> Response:
        return Response({"sessions": [s.as_json() for s in sessions.list_for(request._request)]})


class SessionDetailView(AccountAPIView):
    @extend_schema(
        operation_id="sessions_end",
        summary="Sign out one of the user's other sessions",
        responses={204: None, **error_responses(403, 404)},
        tags=["account"],
    )
    def delete(self, request: Request, session_id: str) -> Response:
        if not sessions.end_one(request._request, session_id):
            raise not_found()
        return Response(status=status.HTTP_204_NO_CONTENT)


class SignOutOthersView(CredentialChangeAPIView):
    @extend_schema(
        operation_id="sessions_sign_out_others",
        summary="Sign out every other session (needs a recent authentication)",
        request=None,
        responses={200: EndedSerializer, **error_responses(403)},
        tags=["account"],
    )
    def post(self, request: Request) -> Response:
        return Response({"ended": sessions.sign_out_others(request._request)})


class BrowserListView(AccountAPIView):
    @extend_schema(
        operation_id="browsers_list",
        summary="The user's remembered browsers (they skip the MFA step)",
        responses={200: BrowserListSerializer, **error_responses(403)},
        tags=["account"],
    )
    def get(self, request: Request) -> Response:
        return Response(
            {
                "browsers": [
                    {
                        "id": str(b.pk),
                        "browser": b.browser,
                        "os": b.os,
                        "created_at": b.created_at.isoformat(),
                        "last_used_at": b.last_used_at.isoformat() if b.last_used_at else None,
                        "expires_at": b.expires_at.isoformat(),
                    }
                    for b in trust.remembered(request.user)
                ]
            }
        )


class BrowserDetailView(AccountAPIView):
    @extend_schema(
        operation_id="browsers_forget",
        summary="Forget a remembered browser (it asks for the MFA step again)",
        responses={204: None, **error_responses(403, 404)},
        tags=["account"],
    )
    def delete(self, request: Request, browser_id: str) -> Response:
        if not trust.forget(request._request, request.user, browser_id):
            raise not_found()
        return Response(status=status.HTTP_204_NO_CONTENT)


urlpatterns = [
    path("sessions/", SessionListView.as_view(), name="api-sessions"),
    path("sessions/sign-out-others/", SignOutOthersView.as_view(), name="api-sessions-sign-out-others"),
    path("sessions/<str:session_id>/", SessionDetailView.as_view(), name="api-session"),
    path("browsers/", BrowserListView.as_view(), name="api-browsers"),
    path("browsers/<str:browser_id>/", BrowserDetailView.as_view(), name="api-browser"),
]
