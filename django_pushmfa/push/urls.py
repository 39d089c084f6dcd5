"""Push routes: the browser's push endpoints and the phone's device endpoints (``api_urlpatterns``,
under ``api/``). Push has no page of its own: it is a section of the MFA step and the account page."""
from __future__ import annotations

from django.urls import path

from ..api import device
from . import api, api_async

urlpatterns: list = []

api_urlpatterns = [
    # browser endpoints (login in progress)
    path("push/", api.PushStartView.as_view(), name="api-push-start"),
    path("push/<str:challenge_id>/", api.PushPollView.as_view(), name="api-push-poll"),
    path("push/<str:challenge_id>/async/", api_async.push_poll, name="api-push-poll-async"),
    # account endpoint: a pairing token for a new phone
    path("devices/pairing/", device.PairingTokenView.as_view(), name="api-devices-pairing"),
    # device endpoints (registration unauthenticated, the rest signed)
    path("device/register/", device.RegisterDeviceView.as_view(), name="api-device-register"),
    path("device/challenges/", device.DeviceChallengeListView.as_view(), name="api-device-challenges"),
    path("device/challenges/<str:challenge_id>/", device.DeviceChallengeView.as_view(), name="api-device-challenge"),
    path(
        "device/challenges/<str:challenge_id>/respond/",
        device.DeviceRespondView.as_view(),
        name="api-device-respond",
    ),
    path("device/push-token/", device.DevicePushTokenView.as_view(), name="api-device-push-token"),
    path("device/", device.DeviceView.as_view(), name="api-device"),
]
