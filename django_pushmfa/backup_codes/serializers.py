"""Response shape of the backup-code account endpoint (OpenAPI document)."""
from __future__ import annotations

from rest_framework import serializers


class BackupCodesSerializer(serializers.Serializer):
    codes = serializers.ListField(child=serializers.CharField(), help_text="Shown once; 4 groups of 4 characters.")
