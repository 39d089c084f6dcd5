"""The API's shared request and response shapes (OpenAPI document); each method adds its own in
``<method>/serializers.py``."""
from __future__ import annotations

from rest_framework import serializers

from ..internal.methods import NAMES


class MethodSerializer(serializers.Serializer):
    method = serializers.ChoiceField(choices=NAMES)
    label = serializers.CharField(help_text="Generic, never a device's name.")
    is_primary = serializers.BooleanField()


class MethodListSerializer(serializers.Serializer):
    methods = MethodSerializer(many=True, help_text="Primary first, then PUSHMFA_METHOD_PRIORITY.")


class CodeSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="The code as typed; spaces (and for backup codes dashes) are ignored.")
    remember_browser = serializers.BooleanField(
        required=False, default=False, help_text='Extension: set the "trust this browser" cookie (when enabled).'
    )


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
    username = serializers.CharField()
    password = serializers.CharField(style={"input_type": "password"})


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
    label = serializers.CharField()
    is_primary = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    last_used_at = serializers.DateTimeField(allow_null=True)
    remaining_codes = serializers.IntegerField(required=False, help_text="Backup codes only: unused codes left.")


class CredentialListSerializer(serializers.Serializer):
    credentials = CredentialSerializer(many=True)
