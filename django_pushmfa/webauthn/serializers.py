"""Request and response shapes of the WebAuthn endpoints (OpenAPI document)."""
from __future__ import annotations

from rest_framework import serializers


class WebAuthnOptionsSerializer(serializers.Serializer):
    """Free-form: the WebAuthn options in their JSON form (base64url for binary values)."""

    challenge = serializers.CharField()


class RegistrationBeginSerializer(serializers.Serializer):
    passkey = serializers.BooleanField(
        required=False, default=False, help_text="Extension: a passkey (resident key, user verification required)."
    )


class WebAuthnCredentialSerializer(serializers.Serializer):
    credential = serializers.DictField(help_text="PublicKeyCredential JSON (may also be posted as the body itself).")
    label = serializers.CharField(required=False, max_length=100)
    remember_browser = serializers.BooleanField(required=False, default=False)
