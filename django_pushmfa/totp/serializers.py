"""Request/response shapes of the fallback methods' endpoints, for the OpenAPI document.

The views validate by hand (a typed code's content is the flow's business: malformed codes must be
``invalid_code``, not a field error); these serializers describe the wire format.
"""
from __future__ import annotations

from rest_framework import serializers


class CodeSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="The code as typed; spaces (and for backup codes dashes) are ignored.")
    remember_browser = serializers.BooleanField(
        required=False, default=False, help_text='Extension: set the "trust this browser" cookie (when enabled).'
    )


class ApprovedSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["approved"])
    redirect_url = serializers.CharField()


class TOTPSetupSerializer(serializers.Serializer):
    secret = serializers.CharField(help_text="Base32 seed, shown during setup only.")
    otpauth_uri = serializers.CharField()


class TOTPConfirmSerializer(serializers.Serializer):
    code = serializers.CharField()
    # A field named like Field.label: django-stubs types the attribute, DRF does not mind.
    label = serializers.CharField(  # type: ignore[assignment]
        required=False, max_length=100, help_text="Extension: a name for the credential."
    )


class CredentialSerializer(serializers.Serializer):
    id = serializers.CharField()
    method = serializers.ChoiceField(choices=["push", "totp", "webauthn", "backup_code"])
    label = serializers.CharField()  # type: ignore[assignment]  # named like Field.label
    is_primary = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    last_used_at = serializers.DateTimeField(allow_null=True)


class BackupCodesSerializer(serializers.Serializer):
    codes = serializers.ListField(child=serializers.CharField(), help_text="Shown once; 4 groups of 4 characters.")


class WebAuthnOptionsSerializer(serializers.Serializer):
    """Free-form: the WebAuthn options in their JSON form (base64url for binary values)."""

    challenge = serializers.CharField()


class RegistrationBeginSerializer(serializers.Serializer):
    passkey = serializers.BooleanField(
        required=False, default=False, help_text="Extension: a passkey (resident key, user verification required)."
    )


class WebAuthnCredentialSerializer(serializers.Serializer):
    credential = serializers.DictField(help_text="PublicKeyCredential JSON (may also be posted as the body itself).")
    label = serializers.CharField(required=False, max_length=100)  # type: ignore[assignment]  # named like Field.label
    remember_browser = serializers.BooleanField(required=False, default=False)
