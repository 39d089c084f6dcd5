"""Strict serializer fields: the JSON type the contract names, nothing DRF would coerce.

DRF's CharField also takes numbers and its BooleanField also takes "yes", 1 or "on"; the API's
inputs are typed, so a value of another type is ``400 invalid`` instead.
"""
from __future__ import annotations

from typing import Any

from django.core.validators import ProhibitNullCharactersValidator
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers


class StrictCharField(serializers.CharField):
    """A CharField that accepts only JSON strings (DRF's also takes numbers). NUL is refused (DRF)."""

    default_error_messages = {"invalid": _("Not a valid string.")}

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    """true or false, nothing else."""

    default_error_messages = {"invalid": _("Must be true or false.")}

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class LabelField(StrictCharField):
    """An optional credential label: trimmed, cut to the model's 100 characters (longer is no error)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_blank", True)
        kwargs.setdefault("default", "")
        kwargs.setdefault("help_text", "Extension: a name for the credential (cut to 100 characters).")
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        return super().to_internal_value(data)[:100]


class CodeField(StrictCharField):
    """A typed code as sent: any string. Its content, NUL included, is the flow's business (a
    malformed code is ``invalid_code`` like a wrong one, and counts as a failed attempt)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("allow_blank", True)
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(**kwargs)
        self.validators = [v for v in self.validators if not isinstance(v, ProhibitNullCharactersValidator)]
