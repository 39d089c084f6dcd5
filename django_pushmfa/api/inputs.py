"""Reading the JSON body of the API's requests: one place for the fields several endpoints share.

Each helper answers ``400 invalid`` (with the field's error) for a wrong type; what a value means
(whether a code is right, say) is the flow's business, not the input's.
"""
from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework.request import Request

from .exceptions import APIError

# A credential's label is cut to the model's length; longer is not an error.
LABEL_MAX_LENGTH = 100


def body(request: Request) -> dict[str, Any]:
    """The JSON body, which must be an object."""
    data = request.data
    if not isinstance(data, dict):
        raise APIError("invalid", _("The body must be a JSON object."), 400)
    return data


def code_from(request: Request) -> str:
    """The ``code`` field: a missing or non-string one is ``400 invalid``; its content is the flow's business."""
    code = body(request).get("code")
    if not isinstance(code, str):
        raise APIError("invalid", {"code": [str(_("This field is required and must be a string."))]}, 400)
    return code


def flag_from(request: Request, name: str) -> bool:
    """An optional true/false field (missing: False)."""
    value = body(request).get(name, False)
    if not isinstance(value, bool):
        raise APIError("invalid", {name: [str(_("Must be true or false."))]}, 400)
    return value


def remember_from(request: Request) -> bool:
    """Extension: ``"remember_browser": true`` sets the "trust this browser" cookie when the step completes."""
    return flag_from(request, "remember_browser")


def clean_label(label: Any) -> str:
    """An optional credential label: a string without NUL (PostgreSQL refuses NUL in text columns)."""
    if not isinstance(label, str) or "\x00" in label:
        raise APIError("invalid", {"label": [str(_("Must be a string without NUL characters."))]}, 400)
    return label.strip()[:LABEL_MAX_LENGTH]


def label_from(request: Request) -> str:
    return clean_label(body(request).get("label", ""))
