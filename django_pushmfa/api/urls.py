"""URLs of the JSON API (see shared/api-contract.md). Each method's subpackage adds its own."""
from __future__ import annotations

from django.urls import path, re_path  # noqa: F401

from ..backup_codes.urls import api_urlpatterns as backup_codes_api
from ..totp.urls import api_urlpatterns as totp_api
from ..webauthn.urls import api_urlpatterns as webauthn_api
from . import account, browser, browser_async, device
from .base import UnknownAPIPathView
from .schema import schema_urlpatterns

urlpatterns: list = [
    # browser endpoints (login in progress)
    path("methods/", browser.MethodsView.as_view(), name="api-methods"),
    path("push/", browser.PushStartView.as_view(), name="api-push-start"),
    path("push/<str:challenge_id>/", browser.PushPollView.as_view(), name="api-push-poll"),
    path("push/<str:challenge_id>/async/", browser_async.push_poll, name="api-push-poll-async"),
    # account endpoints (fully logged in)
    path("credentials/", account.CredentialListView.as_view(), name="api-credentials"),
    path("credentials/<str:credential_id>/", account.CredentialDetailView.as_view(), name="api-credential"),
    path(
        "credentials/<str:credential_id>/primary/",
        account.CredentialPrimaryView.as_view(),
        name="api-credential-primary",
    ),
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
    # TOTP, backup codes, WebAuthn (browser + account endpoints of each method)
    *totp_api,
    *backup_codes_api,
    *webauthn_api,
    # OpenAPI document (only with drf-spectacular installed)
    *schema_urlpatterns(),
    # KEEP LAST: every other path under api/ (ending in "/"; APPEND_SLASH still redirects the rest)
    # is the contract's JSON 404 not_found, e.g. an id holding an encoded slash.
    re_path(r"^.*/$", UnknownAPIPathView.as_view(), name="api-unknown"),
]
