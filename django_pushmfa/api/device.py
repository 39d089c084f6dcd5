"""Device endpoints (the phone app) and the account endpoint that issues pairing tokens.

Contract: docs/api-contract.md, "Device endpoints" and ``POST api/devices/pairing/``. Registration
is unauthenticated (the pairing token is the credential); every other device endpoint is signed
(:class:`~django_pushmfa.api.authentication.DeviceSignatureAuthentication`). The views are thin:
challenges go through the same flows as the HTML pages (``push.internal.challenges``), pairing
through ``internal.pairing``, revocation through ``services``.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any, cast

from django.db import transaction
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from .. import services
from ..internal import pairing
from ..internal.signing import UnsupportedKey
from ..models import PushDevice, SecurityEvent
from ..push.internal import challenges as challenge_flows
from . import device_serializers as ser
from .authentication import DeviceSignatureAuthentication, IsSignedDevice
from .base import CredentialChangeAPIView, PushMFAAPIView
from .schema import error_responses, extend_schema

UNREGISTER_REASON = "unregistered by device"


class RegisterDeviceView(PushMFAAPIView):
    """``POST api/device/register/``: redeem a pairing token for a new push device."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="device_register",
        summary="Register a phone with a pairing token",
        request=ser.RegisterDeviceSerializer,
        responses={201: ser.DeviceIdSerializer, **error_responses(400, 413)},
        tags=["device"],
    )
    def post(self, request: Request) -> Response:
        data = self.validated(request, ser.RegisterDeviceSerializer)
        try:
            device = pairing.redeem_pairing_token(
                data["pairing_token"],
                platform=data["platform"],
                push_token=data["push_token"],
                public_key_der=data["public_key"],
                name=data["name"],
                language=data["language"],
                request=request._request,
            )
        except UnsupportedKey:
            raise ValidationError({"public_key": [_("This key is already registered; use a new key.")]})
        return Response({"device_id": device.device_id}, status=status.HTTP_201_CREATED)


class SignedDeviceView(PushMFAAPIView):
    """Base of the signed device endpoints: ``request.auth`` is the calling PushDevice."""

    authentication_classes = [DeviceSignatureAuthentication]
    permission_classes = [IsSignedDevice]

    @staticmethod
    def signed_device(request: Request) -> PushDevice:
        """The calling PushDevice: ``IsSignedDevice`` admitted only a request whose auth is one."""
        return cast(PushDevice, request.auth)

    def finalize_response(self, request: Request, response: Response, *args: Any, **kwargs: Any) -> Response:
        # Only for a request that authenticated: never trigger authentication from here.
        device = getattr(request, "_auth", None)
        if isinstance(device, PushDevice) and device.credential.revoked_at is None:
            device.mark_seen()
        return super().finalize_response(request, response, *args, **kwargs)


class DeviceChallengeListView(SignedDeviceView):
    """``GET api/device/challenges/``: the pending challenges of the device's user, for when a push was lost."""

    @extend_schema(
        operation_id="device_challenges_list",
        summary="Pending challenges of the device's user (poll fallback)",
        responses={200: ser.ChallengeListSerializer, **error_responses(401, 503)},
        tags=["device"],
    )
    def get(self, request: Request) -> Response:
        challenges = challenge_flows.pending_for_device(self.signed_device(request))
        return Response({"challenges": [c.to_device_json() for c in challenges]})


class DeviceChallengeView(SignedDeviceView):
    """``GET api/device/challenges/<id>/``: what the app shows (choices, login context); expired → 410."""

    @extend_schema(
        operation_id="device_challenge_detail",
        summary="One challenge: the number choices and the login context",
        responses={200: ser.DeviceChallengeSerializer, **error_responses(401, 404, 410, 503)},
        tags=["device"],
    )
    def get(self, request: Request, challenge_id: str) -> Response:
        challenge = challenge_flows.get_for_device(self.signed_device(request), challenge_id)
        return Response(challenge.to_device_json())


class DeviceRespondView(SignedDeviceView):
    """``POST api/device/challenges/<id>/respond/``: approve with the number, deny, or report as fraud."""

    @extend_schema(
        operation_id="device_challenge_respond",
        summary="Approve (with the number), deny or report a challenge",
        request=ser.RespondSerializer,
        responses={
            200: ser.RespondResultSerializer,
            **error_responses(400, 401, 404, 409, 410, 413, 503, codes={409: "wrong_number, challenge_resolved"}),
        },
        tags=["device"],
    )
    def post(self, request: Request, challenge_id: str) -> Response:
        challenge_flows.require_id(challenge_id)  # a malformed id is 404 before the body is looked at
        data = self.validated(request, ser.RespondSerializer)
        device = self.signed_device(request)
        # The flow stamps last_seen_at with its event (see challenges.respond): finalize_response's
        # mark_seen() then finds it fresh and writes nothing.
        challenge = challenge_flows.respond(
            device, challenge_id, data["decision"], data.get("selected_number"), request=request._request
        )
        return Response({"status": "approved" if challenge.status == "approved" else "denied"})


class DevicePushTokenView(SignedDeviceView):
    """``PUT api/device/push-token/``: the provider rotated the token (also revives a token marked dead)."""

    @extend_schema(
        operation_id="device_push_token_rotate",
        summary="Replace the device's push token (the provider rotated it)",
        request=ser.PushTokenSerializer,
        responses={200: ser.DeviceIdSerializer, **error_responses(400, 401, 413)},
        tags=["device"],
    )
    def put(self, request: Request) -> Response:
        device = self.signed_device(request)
        body = self.validated(request, ser.PushTokenSerializer, context={"platform": device.platform})
        new_token = body["push_token"]
        if new_token != device.push_token or device.token_dead_at is not None:
            now = timezone.now()
            was_dead = device.token_dead_at is not None
            with transaction.atomic():
                # One UPDATE also stamps last_seen_at, so finalize_response has nothing left to write.
                PushDevice.objects.filter(pk=device.pk).update(
                    push_token=new_token, token_dead_at=None, last_seen_at=now
                )
                device.push_token, device.token_dead_at, device.last_seen_at = new_token, None, now
                services.record_event(
                    device.credential.user,
                    SecurityEvent.Kind.PUSH_TOKEN_ROTATED,
                    request=request._request,
                    credential=device.credential,
                    platform=device.platform,
                    was_dead=was_dead,
                )
        return Response({"device_id": device.device_id})


class DeviceView(SignedDeviceView):
    """``DELETE api/device/``: the app unregisters itself; its credential is revoked at once."""

    @extend_schema(
        operation_id="device_unregister",
        summary="Unregister this device (revokes its credential)",
        request=None,
        responses={204: None, **error_responses(401)},
        tags=["device"],
    )
    def delete(self, request: Request) -> Response:
        device = self.signed_device(request)
        user = device.credential.user
        services.revoke_credential(device.credential, actor=user, reason=UNREGISTER_REASON, request=request._request)
        services.record_event(
            user,
            SecurityEvent.Kind.DEVICE_UNREGISTERED,
            request=request._request,
            credential=device.credential,
            platform=device.platform,
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class PairingTokenView(CredentialChangeAPIView):
    """``POST api/devices/pairing/``: a fully logged-in, recently authenticated user gets a
    single-use pairing token."""

    @extend_schema(
        operation_id="devices_pairing_create",
        summary="Issue a single-use pairing token for a new phone",
        request=None,
        responses={201: ser.PairingTokenSerializer, **error_responses(403)},
        tags=["account"],
    )
    def post(self, request: Request) -> Response:
        issued = pairing.create_pairing_token(request.user, request._request)
        return Response(
            {
                "pairing_token": issued.token,
                "expires_at": issued.expires_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
                "pairing_uri": issued.pairing_uri,
            },
            status=status.HTTP_201_CREATED,
        )


urlpatterns = [
    # account endpoint: a pairing token for a new phone
    path("devices/pairing/", PairingTokenView.as_view(), name="api-devices-pairing"),
    # device endpoints (registration unauthenticated, the rest signed)
    path("device/register/", RegisterDeviceView.as_view(), name="api-device-register"),
    path("device/challenges/", DeviceChallengeListView.as_view(), name="api-device-challenges"),
    path("device/challenges/<str:challenge_id>/", DeviceChallengeView.as_view(), name="api-device-challenge"),
    path(
        "device/challenges/<str:challenge_id>/respond/",
        DeviceRespondView.as_view(),
        name="api-device-respond",
    ),
    path("device/push-token/", DevicePushTokenView.as_view(), name="api-device-push-token"),
    path("device/", DeviceView.as_view(), name="api-device"),
]
