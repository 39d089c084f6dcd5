"""Shared base for the app's API views: JSON only, the contract's error shape, the body size limit.

Two bases carry who may call: :class:`PendingLoginAPIView` (a browser mid-login) and
:class:`AccountAPIView` (a fully logged-in user), with :class:`CredentialChangeAPIView` for the
account changes that need a recent authentication (step-up). A new way to authenticate (an app's session token,
say) is added to their ``authentication_classes`` here, once, for every endpoint of that kind.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext_lazy as _
from rest_framework import status
from rest_framework.authentication import SessionAuthentication
from rest_framework.parsers import JSONParser
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import Serializer
from rest_framework.views import APIView

from ..internal import account, app_sessions
from ..internal.login import finish_step
from ..models import MFACredential
from .authentication import AppSessionAuthentication
from .exceptions import APIError, check_body_size, exception_handler
from .permissions import HasPendingLogin, IsFullyAuthenticated, RecentlyAuthenticated, pending_user

if TYPE_CHECKING:  # pragma: no cover
    from rest_framework.schemas.inspectors import ViewInspector

_SchemaClass: type[ViewInspector] | None
try:  # optional: drf-spectacular documents every view (api/schema.py), whatever the site's DRF settings
    from drf_spectacular.openapi import AutoSchema

    _SchemaClass = AutoSchema
except ImportError:  # pragma: no cover
    _SchemaClass = None


class SizeLimitedJSONParser(JSONParser):
    """JSON parser that refuses bodies over ``PUSHMFA_MAX_BODY_BYTES`` before reading them."""

    def parse(
        self, stream: Any, media_type: str | None = None, parser_context: Mapping[str, Any] | None = None
    ) -> Any:
        request = (parser_context or {}).get("request")
        if request is not None:
            check_body_size(request)
        return super().parse(stream, media_type, parser_context)


class PushMFAAPIView(APIView):
    """Base of every API view of the app. Subclasses set authentication and permissions."""

    parser_classes = [SizeLimitedJSONParser]
    renderer_classes = [JSONRenderer]
    throttle_classes: list = []
    if _SchemaClass is not None:
        schema: ViewInspector | None = _SchemaClass()

    def get_exception_handler(self):  # DRF signature
        return exception_handler

    def validated(
        self, request: Request, serializer_class: type[Serializer], context: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """The body checked by ``serializer_class`` (the one the view documents): ``400 invalid`` else."""
        serializer = serializer_class(data=request.data, context=context or {})
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        """Every answer is about one user's login or account (pairing tokens, backup codes): no cache may
        keep a copy (a view that set its own Cache-Control keeps it).

        An app client's request (``X-Session-Token``): save its session, put the cookie's back, and hand
        a successful answer the new token when the session key changed (the MFA step's login), with the
        site's own tokens when the answer completes the login."""
        django_request = getattr(request, "_request", request)
        new_token = app_sessions.detach(django_request)
        if new_token and 200 <= response.status_code < 300 and isinstance(getattr(response, "data", None), dict):
            app_sessions.expose(django_request, response.data, new_token)
        response = super().finalize_response(request, response, *args, **kwargs)
        if not response.has_header("Cache-Control"):
            add_never_cache_headers(response)
        return response


# Who a session-backed endpoint may be called by: an app client's X-Session-Token (its session in place
# of the cookie's, no CSRF), else the session cookie (CSRF checked).
SESSION_AUTHENTICATION = [AppSessionAuthentication, SessionAuthentication]


class PendingLoginAPIView(PushMFAAPIView):
    """A browser that did the password step (``mfa_not_in_progress`` otherwise; CSRF checked for
    the cookie), or an app client with the ``X-Session-Token`` of such a session.

    The pending login lives in the session; the user is anonymous (the cookie's SessionAuthentication
    only ever authenticates a session that is already logged in, whose call then fails its CSRF check
    or ``mfa_not_in_progress``).
    """

    authentication_classes = SESSION_AUTHENTICATION
    permission_classes = [HasPendingLogin]

    def pending_user(self, request: Request) -> Any:
        """The user whose login awaits its second factor."""
        return pending_user(request)

    def finish(
        self, request: Request, user: Any, method: str, credential: MFACredential, *, remember: bool
    ) -> Response:
        """Finish the step with a verified ``credential`` (``internal.login.finish_step``):
        ``200 {"status": "approved", "redirect_url"}``, with the trust cookie when asked for."""
        done = finish_step(request._request, user, method, credential=credential, remember=remember)
        response = Response(done.as_json())
        done.apply(response)
        return response


class AccountAPIView(PushMFAAPIView):
    """A fully logged-in user: session cookie + CSRF, or ``X-Session-Token``; a pending session gets
    ``mfa_required``."""

    authentication_classes = SESSION_AUTHENTICATION
    permission_classes = [IsFullyAuthenticated]

    def credential_created(self, credential: MFACredential) -> Response:
        """``201`` a new credential exactly as ``GET api/credentials/`` lists it (never a secret)."""
        return Response(self.credential_json(credential), status=status.HTTP_201_CREATED)

    def credential_json(self, credential: MFACredential) -> dict[str, Any]:
        for summary in account.list_credentials(credential.user):
            if summary.id == str(credential.pk):
                return summary.as_json()
        raise APIError("not_found", _("Not found."), 404)  # revoked between creation and answer


class CredentialChangeAPIView(AccountAPIView):
    """An account endpoint that changes what protects the account: it also needs a recent
    authentication of this session (``403 reauthentication_required`` otherwise; contract v1.1)."""

    permission_classes = [RecentlyAuthenticated]


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
