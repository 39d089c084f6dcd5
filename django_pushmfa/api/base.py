"""Shared base for the app's API views: JSON only, the contract's error shape, the body size limit."""
from __future__ import annotations

from typing import Any

from django.utils.cache import add_never_cache_headers
from rest_framework.parsers import JSONParser
from rest_framework.renderers import JSONRenderer
from rest_framework.views import APIView

from ..app_settings import app_settings
from .exceptions import PayloadTooLarge, exception_handler

try:  # optional: drf-spectacular documents every view (api/schema.py), whatever the site's DRF settings
    from drf_spectacular.openapi import AutoSchema as _SchemaClass
except ImportError:  # pragma: no cover
    _SchemaClass = None


class SizeLimitedJSONParser(JSONParser):
    """JSON parser that refuses bodies over ``PUSHMFA_MAX_BODY_BYTES`` before reading them."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: dict | None = None) -> Any:
        request = (parser_context or {}).get("request")
        length = 0
        if request is not None:
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
        if length > app_settings.MAX_BODY_BYTES:
            raise PayloadTooLarge()
        return super().parse(stream, media_type, parser_context)


class PushMFAAPIView(APIView):
    """Base of every API view of the app. Subclasses set authentication and permissions."""

    parser_classes = [SizeLimitedJSONParser]
    renderer_classes = [JSONRenderer]
    throttle_classes: list = []
    if _SchemaClass is not None:
        schema = _SchemaClass()

    def get_exception_handler(self):  # noqa: ANN201 - DRF signature
        return exception_handler

    def finalize_response(self, request: Any, response: Any, *args: Any, **kwargs: Any) -> Any:
        # Every answer is about one user's login or account (pairing tokens, backup codes): no cache
        # may keep a copy. A view that set its own Cache-Control keeps it.
        response = super().finalize_response(request, response, *args, **kwargs)
        if not response.has_header("Cache-Control"):
            add_never_cache_headers(response)
        return response


class UnknownAPIPathView(PushMFAAPIView):
    """The last route under ``api/``: any other path there is the contract's ``404 not_found``.

    An id that no route can capture (one holding an encoded slash, say) would otherwise get the
    site's HTML 404, and the contract says an id that cannot be an id is ``404 not_found`` (JSON).
    No authentication (so no CSRF check hides the 404) and no schema entry.
    """

    authentication_classes: list = []
    permission_classes: list = []
    schema = None

    def initial(self, request: Any, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        from rest_framework.exceptions import NotFound

        raise NotFound()
