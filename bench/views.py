"""The bare DRF endpoint every push login is compared with: session auth, one user, one JSON body."""
from __future__ import annotations

from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView


class Ping(APIView):
    """``GET /bench/ping/`` → ``{"user": <pk>}`` for a logged-in session; what any DRF site serves."""

    authentication_classes = [SessionAuthentication]
    permission_classes = [IsAuthenticated]

    def get(self, request: Request) -> Response:
        return Response({"user": request.user.pk})
