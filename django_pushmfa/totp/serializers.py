"""Request and response shapes of the TOTP account endpoints (validated and documented)."""
from __future__ import annotations

from rest_framework import serializers

from ..api.fields import CodeField, LabelField


class TOTPSetupSerializer(serializers.Serializer):
    secret = serializers.CharField(help_text="Base32 seed, shown during setup only.")
    otpauth_uri = serializers.CharField()


class TOTPConfirmSerializer(serializers.Serializer):
    code = CodeField()
    label = LabelField()
