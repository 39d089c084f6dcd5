"""The API's shared request and response shapes; each method adds its own in ``<method>/serializers.py``.

Request serializers validate what the views read (``PushMFAAPIView.validated``) and document it in
the OpenAPI schema: one input style for every endpoint. What a value means (whether a code is
right) is the flow's business: a code of the wrong type is ``400 invalid``, a wrong code
``400 invalid_code``.
"""
from __future__ import annotations

from rest_framework import serializers

from ..internal.methods import NAMES
from .fields import CodeField, StrictBooleanField


class MethodSerializer(serializers.Serializer):
    method = serializers.ChoiceField(choices=NAMES)
    label = serializers.CharField(help_text="Generic, never a device's name.")
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


class CodeSerializer(RememberSerializer):
    code = CodeField(help_text="The code as typed; spaces (and for backup codes dashes) are ignored.")


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
