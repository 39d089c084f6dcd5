"""Request and response shapes of the WebAuthn endpoints (validated and documented)."""
from __future__ import annotations

from typing import Any

from rest_framework import serializers

from ..api.fields import LabelField, StrictBooleanField
from ..api.serializers import RememberSerializer


class WebAuthnOptionsSerializer(serializers.Serializer):
    """Free-form: the WebAuthn options in their JSON form (base64url for binary values)."""

    challenge = serializers.CharField()


class RegistrationBeginSerializer(serializers.Serializer):
    passkey = StrictBooleanField(
        required=False, default=False, help_text="Extension: a passkey (resident key, user verification required)."
    )


class WebAuthnCredentialSerializer(RememberSerializer):
    """``{"credential": {...}, "label"?, "remember_browser"?}``, or the credential posted as the body itself."""

    credential = serializers.DictField(help_text="PublicKeyCredential JSON (may also be posted as the body itself).")
    label = LabelField()

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        if isinstance(data, dict) and "credential" not in data:
            data = {"credential": data, **{k: data[k] for k in ("label", "remember_browser") if k in data}}
        return super().to_internal_value(data)
