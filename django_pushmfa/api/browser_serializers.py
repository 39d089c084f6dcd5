"""Serializers that document (in the OpenAPI schema) and validate the browser and account endpoints."""
from __future__ import annotations

from rest_framework import serializers

METHODS = ["push", "totp", "webauthn", "backup_code"]


class MethodSerializer(serializers.Serializer):
    method = serializers.ChoiceField(choices=METHODS)
    label = serializers.CharField(help_text="Generic, never a device's name.")
    is_primary = serializers.BooleanField()


class MethodListSerializer(serializers.Serializer):
    methods = MethodSerializer(many=True, help_text="Primary first, then PUSHMFA_METHOD_PRIORITY.")


class PushStartRequestSerializer(serializers.Serializer):
    remember_browser = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Extension: set the 'trust this browser' cookie when this push is approved "
        "(only when PUSHMFA_TRUST_BROWSER_DAYS > 0).",
    )


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


class ListedCredentialSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    method = serializers.ChoiceField(choices=METHODS)
    label = serializers.CharField()
    is_primary = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    last_used_at = serializers.DateTimeField(allow_null=True)
    remaining_codes = serializers.IntegerField(required=False, help_text="Backup codes only: unused codes left.")


class CredentialListSerializer(serializers.Serializer):
    credentials = ListedCredentialSerializer(many=True)
