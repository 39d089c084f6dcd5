"""Request and response shapes of the browser's push endpoints (OpenAPI document)."""
from __future__ import annotations

from rest_framework import serializers


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
