"""Request and response bodies of the device endpoints (contract: "Device endpoints").

Input fields are strict about types: a number where a string is expected is ``400 invalid``
rather than silently converted.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from ..app_settings import app_settings
from ..internal.signing import UnsupportedKey, parse_public_key
from ..models import PushDevice
from ..push.endpoints import EndpointRefused, check_endpoint_url
from .fields import StrictCharField

# Push tokens from FCM and APNs are visible ASCII (no spaces); anything else is not a token.
PUSH_TOKEN_RE = re.compile(r"[\x21-\x7e]{1,512}")
NUMBER_RE = re.compile(r"[0-9]{1,6}")
LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*")


def clean_push_token(platform: str, value: str) -> str:
    """The push token as ``platform`` needs it: none for ``none``, an endpoint URL the SSRF policy
    accepts for ``unifiedpush`` (``push.endpoints``), a provider token for FCM / APNs."""
    if platform == PushDevice.Platform.NONE:
        if value:
            raise serializers.ValidationError({"push_token": [_("A poll-only device has no push token.")]})
        return ""
    if not value:
        raise serializers.ValidationError({"push_token": [_("This field is required.")]})
    if platform == PushDevice.Platform.UNIFIEDPUSH:
        from ..push.backends import get_backend

        if PushDevice.Platform.UNIFIEDPUSH not in (app_settings.PUSH_BACKENDS or {}):
            raise serializers.ValidationError({"platform": [_("This site does not deliver UnifiedPush.")]})
        try:
            allow_loopback = bool(getattr(get_backend(PushDevice.Platform.UNIFIEDPUSH), "allow_loopback", False))
        except Exception:  # a misconfigured backend is system check E001's to report; the policy still holds
            allow_loopback = False
        try:
            check_endpoint_url(value, allow_loopback=allow_loopback)
        except EndpointRefused as exc:
            raise serializers.ValidationError({"push_token": [str(exc)]})
        return value
    if not PUSH_TOKEN_RE.fullmatch(value):
        raise serializers.ValidationError({"push_token": [_("Not a valid push token.")]})
    return value


class RegisterDeviceSerializer(serializers.Serializer):
    pairing_token = StrictCharField(max_length=256, trim_whitespace=False)
    platform = serializers.ChoiceField(choices=PushDevice.Platform.choices)
    push_token = StrictCharField(
        max_length=512,
        trim_whitespace=False,
        required=False,
        allow_blank=True,
        default="",
        help_text="FCM / APNs token, or the UnifiedPush endpoint URL (https); omitted for platform none.",
    )
    public_key = StrictCharField(
        max_length=1024, trim_whitespace=False, help_text="Standard base64 of a DER SubjectPublicKeyInfo."
    )
    name = StrictCharField(max_length=100, required=False, allow_blank=True, default="")
    language = StrictCharField(
        max_length=35, required=False, allow_blank=True, default="",
        help_text="Optional BCP 47 language tag of the phone (\"de\", \"pt-BR\"): the language of its push titles.",
    )

    def validate_language(self, value: str) -> str:
        if value and not LANGUAGE_TAG.fullmatch(value):
            raise serializers.ValidationError(_("Not a language tag such as “de” or “pt-BR”."))
        return value

    def validate_public_key(self, value: str) -> bytes:
        """Decode and load the key (P-256 or Ed25519). Returns the DER bytes as sent."""
        try:
            der = base64.b64decode(value, validate=True)
            parse_public_key(der)
        except (binascii.Error, ValueError, UnsupportedKey):
            raise serializers.ValidationError(_("Not a base64 DER ECDSA P-256 or Ed25519 public key."))
        return der

    def validate_name(self, value: str) -> str:
        if not value.isprintable():
            raise serializers.ValidationError(_("The name must not contain control characters."))
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs["push_token"] = clean_push_token(attrs["platform"], attrs.get("push_token", ""))
        return attrs


class DeviceIdSerializer(serializers.Serializer):
    device_id = serializers.UUIDField(read_only=True)


class RespondSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=["approve", "deny", "report"])
    selected_number = StrictCharField(
        required=False, allow_null=True, trim_whitespace=False, max_length=6, help_text="Required to approve."
    )

    def validate_selected_number(self, value: str | None) -> str | None:
        if value is not None and not NUMBER_RE.fullmatch(value):
            raise serializers.ValidationError(_("Not a number."))
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["decision"] == "approve" and not attrs.get("selected_number"):
            raise serializers.ValidationError({"selected_number": [_("The number is required to approve.")]})
        return attrs


class RespondResultSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["approved", "denied"], read_only=True)


class PushTokenSerializer(serializers.Serializer):
    """The new push token of the calling device (``context["platform"]``): checked as at registration."""

    push_token = StrictCharField(max_length=512, trim_whitespace=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        platform = self.context["platform"]
        if platform == PushDevice.Platform.NONE:
            raise serializers.ValidationError({"push_token": [_("A poll-only device has no push token.")]})
        attrs["push_token"] = clean_push_token(platform, attrs["push_token"])
        return attrs


# --- documentation of the challenge JSON (built by Challenge.to_device_json) -------------------
class ChallengeContextSerializer(serializers.Serializer):
    location = serializers.CharField(allow_null=True, read_only=True)
    ip = serializers.CharField(allow_null=True, read_only=True)
    browser = serializers.CharField(allow_null=True, read_only=True)
    os = serializers.CharField(allow_null=True, read_only=True)
    requested_at = serializers.DateTimeField(read_only=True)
    site_name = serializers.CharField(allow_null=True, read_only=True, help_text="PUSHMFA_SITE_NAME (v1.1).")
    purpose = serializers.ChoiceField(
        choices=["login", "reauthentication"],
        read_only=True,
        help_text='Why the challenge exists (v1.1); "reauthentication": say "Confirm it\'s you".',
    )
    service = serializers.CharField(
        allow_null=True, read_only=True, help_text="The application the user signs in to, when the site names one."
    )


class DeviceChallengeSerializer(serializers.Serializer):
    challenge_id = serializers.UUIDField(read_only=True)
    choices = serializers.ListField(
        child=serializers.CharField(),
        allow_null=True,
        read_only=True,
        help_text="The right number among decoys, shuffled; null when the user must type the number.",
    )
    # Not Field.context (the stubs' reading): DRF's metaclass takes declared fields off the class.
    context = ChallengeContextSerializer(read_only=True)  # type: ignore[assignment]
    expires_at = serializers.DateTimeField(read_only=True)


class ChallengeListSerializer(serializers.Serializer):
    challenges = DeviceChallengeSerializer(many=True, read_only=True)


class PairingTokenSerializer(serializers.Serializer):
    pairing_token = serializers.CharField(read_only=True, help_text="Single use; shown once.")
    expires_at = serializers.DateTimeField(read_only=True)
    pairing_uri = serializers.CharField(read_only=True, help_text="pushmfa://pair?token=...&server=...&v=1")
