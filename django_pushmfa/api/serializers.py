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


class PasswordSerializer(serializers.Serializer):
    password = serializers.CharField(help_text="The account's password (users without an MFA credential only).")


class ApprovedSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["approved"])
    redirect_url = serializers.CharField()


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
