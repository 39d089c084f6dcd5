"""The API's shared request and response shapes; each method adds its own in ``<method>/serializers.py``.

Request serializers validate what the views read (``PushMFAAPIView.validated``) and document it in
the OpenAPI schema: one input style for every endpoint. What a value means (whether a code is
right) is the flow's business: a code of the wrong type is ``400 invalid``, a wrong code
``400 invalid_code``.
"""
from __future__ import annotations

from typing import Any

from rest_framework import serializers

from ..internal.methods import NAMES
from .fields import CodeField, LabelField, StrictBooleanField, StrictCharField


class MethodSerializer(serializers.Serializer):
    method = serializers.ChoiceField(choices=NAMES)
    # Not Field.label (the stubs' reading): DRF's metaclass takes declared fields off the class.
    label = serializers.CharField(help_text="Generic, never a device's name.")  # type: ignore[assignment]
    is_primary = serializers.BooleanField()


class MethodListSerializer(serializers.Serializer):
    methods = MethodSerializer(many=True, help_text="Primary first, then PUSHMFA_METHOD_PRIORITY.")


class RememberSerializer(serializers.Serializer):
    remember_browser = StrictBooleanField(
        required=False,
        default=False,
        help_text='Extension: set the "trust this browser" cookie when the step completes '
        "(only when PUSHMFA_TRUST_BROWSER_DAYS > 0).",
    )


class PasswordSerializer(serializers.Serializer):
    # As typed (a password may begin or end with a space, as on the HTML page); as long as app login allows.
    password = serializers.CharField(
        trim_whitespace=False,
        max_length=4096,
        help_text="The account's password (users without an MFA credential only).",
    )
class CodeSerializer(RememberSerializer):
    code = CodeField(help_text="The code as typed; spaces (and for backup codes dashes) are ignored.")


class ApprovedSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["approved"])
    redirect_url = serializers.CharField()
    session_token = serializers.CharField(
        required=False, help_text="App clients (X-Session-Token) only: the token to use from now on."
    )
    tokens = serializers.DictField(
        required=False, help_text="App clients only: the site's own tokens (the adapter's get_app_tokens)."
    )


class AppLoginSerializer(serializers.Serializer):
    username = StrictCharField(trim_whitespace=False)
    password = StrictCharField(trim_whitespace=False, style={"input_type": "password"})


class AppLoginResultSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["authenticated", "mfa_required"])
    session_token = serializers.CharField(help_text="Send it as X-Session-Token from now on.")
    methods = MethodSerializer(many=True, required=False, help_text="mfa_required only: as GET api/methods/.")
    enrollment_required = serializers.BooleanField(
        required=False, help_text="authenticated only: the site requires MFA and the user has none yet."
    )
    tokens = serializers.DictField(
        required=False, help_text="authenticated only: the site's own tokens (the adapter's get_app_tokens)."
    )


class CredentialSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    method = serializers.ChoiceField(choices=NAMES)
    # Not Field.label (the stubs' reading): DRF's metaclass takes declared fields off the class.
    label = serializers.CharField()  # type: ignore[assignment]
    is_primary = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    last_used_at = serializers.DateTimeField(allow_null=True)
    remaining_codes = serializers.IntegerField(required=False, help_text="Backup codes only: unused codes left.")


class CredentialListSerializer(serializers.Serializer):
    credentials = CredentialSerializer(many=True)


# --- push: request and response shapes of the browser's push endpoints (OpenAPI document).
class PushStartSerializer(serializers.Serializer):
    challenge_id = serializers.UUIDField()
    display_number = serializers.CharField(help_text="Show it large: the phone asks the user to pick it.")
    expires_at = serializers.DateTimeField()
    poll_url = serializers.CharField(help_text="Absolute path of the poll endpoint for this challenge.")


class PushPollQuerySerializer(serializers.Serializer):
    wait = serializers.IntegerField(
        required=False,
        min_value=0,
        help_text="Seconds to wait for a change (long poll); larger than 30 counts as 30.",
    )


class PushPollSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["pending", "approved", "denied", "expired", "consumed"])
    redirect_url = serializers.CharField(
        required=False, help_text="Only on the first 'approved' answer: where the logged-in browser goes next."
    )


# --- totp: request and response shapes of the TOTP account endpoints (validated and documented).
class TOTPSetupSerializer(serializers.Serializer):
    secret = serializers.CharField(help_text="Base32 seed, shown during setup only.")
    otpauth_uri = serializers.CharField()


class TOTPConfirmSerializer(serializers.Serializer):
    code = CodeField()
    # Not Field.label (the stubs' reading): DRF's metaclass takes declared fields off the class.
    label = LabelField()  # type: ignore[assignment]


# --- backup_codes: response shape of the backup-code account endpoint (OpenAPI document).
class BackupCodesSerializer(serializers.Serializer):
    codes = serializers.ListField(child=serializers.CharField(), help_text="Shown once; 4 groups of 4 characters.")


# --- webauthn: request and response shapes of the WebAuthn endpoints (validated and documented).
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
    # Not Field.label (the stubs' reading): DRF's metaclass takes declared fields off the class.
    label = LabelField()  # type: ignore[assignment]

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        if isinstance(data, dict) and "credential" not in data:
            data = {"credential": data, **{k: data[k] for k in ("label", "remember_browser") if k in data}}
        return super().to_internal_value(data)
