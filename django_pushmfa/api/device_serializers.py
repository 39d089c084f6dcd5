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

from ..internal.signing import UnsupportedKey, parse_public_key
from ..models import PushDevice

# Push tokens from FCM and APNs are visible ASCII (no spaces); anything else is not a token.
PUSH_TOKEN_RE = re.compile(r"[\x21-\x7e]{1,512}")
NUMBER_RE = re.compile(r"[0-9]{1,6}")


class StrictCharField(serializers.CharField):
    """A CharField that accepts only JSON strings (DRF's also takes numbers)."""

    default_error_messages = {"invalid": _("Not a valid string.")}

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


def validate_push_token(value: str) -> str:
    if not PUSH_TOKEN_RE.fullmatch(value):
        raise serializers.ValidationError(_("Not a valid push token."))
    return value


class RegisterDeviceSerializer(serializers.Serializer):
    pairing_token = StrictCharField(max_length=256, trim_whitespace=False)
    platform = serializers.ChoiceField(choices=PushDevice.Platform.choices)
    push_token = StrictCharField(max_length=512, trim_whitespace=False, validators=[validate_push_token])
    public_key = StrictCharField(
        max_length=1024, trim_whitespace=False, help_text="Standard base64 of a DER SubjectPublicKeyInfo."
    )
    name = StrictCharField(max_length=100, required=False, allow_blank=True, default="")

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
    push_token = StrictCharField(max_length=512, trim_whitespace=False, validators=[validate_push_token])


# --- documentation of the challenge JSON (built by Challenge.to_device_json) -------------------
class ChallengeContextSerializer(serializers.Serializer):
    location = serializers.CharField(allow_null=True, read_only=True)
    ip = serializers.CharField(allow_null=True, read_only=True)
    browser = serializers.CharField(allow_null=True, read_only=True)
    os = serializers.CharField(allow_null=True, read_only=True)
    requested_at = serializers.DateTimeField(read_only=True)
    purpose = serializers.ChoiceField(
        choices=["login", "reauthentication"], read_only=True, help_text='"reauthentication": say "Confirm it\'s you".'
    )


class DeviceChallengeSerializer(serializers.Serializer):
    challenge_id = serializers.UUIDField(read_only=True)
    choices = serializers.ListField(
        child=serializers.CharField(),
        allow_null=True,
        read_only=True,
        help_text="The right number among decoys, shuffled; null when the user must type the number.",
    )
    context = ChallengeContextSerializer(read_only=True)
    expires_at = serializers.DateTimeField(read_only=True)


class ChallengeListSerializer(serializers.Serializer):
    challenges = DeviceChallengeSerializer(many=True, read_only=True)


class PairingTokenSerializer(serializers.Serializer):
    pairing_token = serializers.CharField(read_only=True, help_text="Single use; shown once.")
    expires_at = serializers.DateTimeField(read_only=True)
    pairing_uri = serializers.CharField(read_only=True, help_text="pushmfa://pair?token=...&server=...&v=1")
