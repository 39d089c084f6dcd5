"""Request and response shapes of the TOTP account endpoints (OpenAPI document)."""
from __future__ import annotations

from rest_framework import serializers


class TOTPSetupSerializer(serializers.Serializer):
    secret = serializers.CharField(help_text="Base32 seed, shown during setup only.")
    otpauth_uri = serializers.CharField()


class TOTPConfirmSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField(required=False, max_length=100, help_text="Extension: a name for the credential.")
