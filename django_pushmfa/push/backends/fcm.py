"""Firebase Cloud Messaging (HTTP v1) through pyfcm 2.x. Install with ``pip install "django-pushmfa[fcm]"``.

``OPTIONS``:

- ``SERVICE_ACCOUNT_FILE``: path to the service account JSON, or
- ``CREDENTIALS``: the service account JSON as a dict (e.g. loaded from a secret store), or a
  ``google.auth`` credentials object (e.g. from ``google.auth.default()``);
- ``PROJECT_ID``: the Firebase project, needed only when the credentials do not name one (pyfcm
  prefers the credentials' own project);
- ``TIMEOUT`` (default ``PUSHMFA_PUSH_TIMEOUT``), ``MAX_WORKERS`` (default 8).

pyfcm builds the request (payload, endpoint, per-thread ``requests`` session, OAuth credentials).
Two of its steps are replaced, on purpose: ``send_request`` sleeps for whatever ``Retry-After`` the
server asks and then retries without bound (a login must not hang on a throttled provider), and
``parse_response`` drops FCM's error code (``UNREGISTERED``, ``QUOTA_EXCEEDED``...) that the app
needs to tell a dead token from an outage. The OAuth token is shared by all threads and refreshed
only when it expires (pyfcm would fetch one per new thread).
"""
from __future__ import annotations

import json
import threading
import time
from typing import Any

from ...exceptions import (
    MissingProviderLibrary,
    PushConfigurationError,
    PushError,
    PushTemporaryError,
    PushTokenUnregistered,
)
from .base import BasePushBackend, PushMessage

FCM_SCOPE = "https://www.googleapis.com/auth/firebase.messaging"

# FCM v1 error codes (google.firebase.fcm.v1.FcmError) and Google RPC statuses.
_TEMPORARY = {"UNAVAILABLE", "INTERNAL", "QUOTA_EXCEEDED", "RESOURCE_EXHAUSTED", "DEADLINE_EXCEEDED"}
_CONFIGURATION = {"THIRD_PARTY_AUTH_ERROR", "SENDER_ID_MISMATCH", "PERMISSION_DENIED", "UNAUTHENTICATED"}


def _now() -> float:
    return time.time()


def _import_pyfcm() -> Any:
    try:
        from pyfcm import FCMNotification
    except ImportError:
        raise MissingProviderLibrary("pyfcm", "fcm")
    return FCMNotification


def _make_client_class(fcm_notification: type) -> type:
    """pyfcm's ``FCMNotification`` with a shared, lazily refreshed OAuth token."""

    class PushMFAFCMClient(fcm_notification):
        def __init__(self, *args: Any, token_timeout: float = 10, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._token_lock = threading.Lock()
            self._token_timeout = token_timeout

        def _get_access_token(self, force: bool = False) -> str:
            # pyfcm refreshes on every call (and calls once per thread); one valid token serves all.
            with self._token_lock:
                if force or not self.credentials.valid:
                    import google.auth.transport.requests

                    base = google.auth.transport.requests.Request()
                    timeout = self._token_timeout

                    def request(*args: Any, **kwargs: Any) -> Any:
                        # google-auth would wait up to 120 s for the token endpoint otherwise.
                        kwargs.setdefault("timeout", timeout)
                        return base(*args, **kwargs)

                    self.credentials.refresh(request)
                return self.credentials.token

    return PushMFAFCMClient


class PushBackend(BasePushBackend):
    required_library = ("pyfcm", "fcm")

    def __init__(self, options: dict[str, Any] | None = None) -> None:
        super().__init__(options)
        fcm_notification = _import_pyfcm()
        from requests.adapters import HTTPAdapter
        from urllib3 import Retry

        credentials = self._load_credentials()
        # Retry only a failed connection (the request never left); a challenge lives two minutes,
        # so an answered error is reported at once instead of retried with back-off.
        adapter = HTTPAdapter(max_retries=Retry(total=1, connect=1, read=0, redirect=0, status=0, other=0))
        self.client = _make_client_class(fcm_notification)(
            credentials=credentials,
            project_id=self.options.get("PROJECT_ID"),
            adapter=adapter,
            token_timeout=self.timeout,
        )
        if not (getattr(credentials, "project_id", None) or self.options.get("PROJECT_ID")):
            raise PushConfigurationError("FCM: set OPTIONS['PROJECT_ID'] (the credentials do not name a project).")

    def _load_credentials(self) -> Any:
        from google.oauth2 import service_account

        path = self.options.get("SERVICE_ACCOUNT_FILE")
        info = self.options.get("CREDENTIALS")
        if bool(path) == bool(info):
            raise PushConfigurationError("FCM: set exactly one of OPTIONS['SERVICE_ACCOUNT_FILE'] or ['CREDENTIALS'].")
        if info is not None and not isinstance(info, dict):
            return info  # a google.auth credentials object
        try:
            if path:
                return service_account.Credentials.from_service_account_file(path, scopes=[FCM_SCOPE])
            return service_account.Credentials.from_service_account_info(info, scopes=[FCM_SCOPE])
        except (OSError, ValueError) as exc:
            # The message names the problem (missing file, missing field) but never holds the key.
            raise PushConfigurationError(f"FCM: unusable service account credentials ({type(exc).__name__}).")

    # --- sending ------------------------------------------------------------------------------
    def build_payload(self, message: PushMessage) -> bytes:
        """The exact JSON body POSTed to ``.../messages:send`` (built by pyfcm)."""
        ttl = max(1, int(message.ttl))
        android: dict[str, Any] = {"priority": "high" if message.priority == "high" else "normal", "ttl": f"{ttl}s"}
        apns_headers = {
            "apns-push-type": "alert",
            "apns-priority": "10" if message.priority == "high" else "5",
            "apns-expiration": str(int(_now()) + ttl),
        }
        if message.collapse_id:
            # collapse_key replaces a push FCM still holds; the tag replaces the one shown in the tray.
            android["collapse_key"] = message.collapse_id
            android["notification"] = {"tag": message.collapse_id}
            apns_headers["apns-collapse-id"] = message.collapse_id
        return self.client.parse_payload(
            fcm_token=message.device_token,
            notification_title=message.title,
            notification_body=message.body,
            data_payload={key: str(value) for key, value in message.data.items()},
            android_config=android,
            apns_config={"headers": apns_headers, "payload": {"aps": {"sound": "default"}}},
        )

    def send(self, message: PushMessage) -> None:
        import requests
        from google.auth import exceptions as auth_exceptions

        payload = self.build_payload(message)
        try:
            response = self._post(payload)
            if response.status_code == 401 and _is_access_token_expired(response):
                response = self._post(payload, force_refresh=True)
        except auth_exceptions.TransportError:
            raise PushTemporaryError("FCM: could not reach the Google token endpoint", provider_code="oauth_transport")
        except auth_exceptions.GoogleAuthError as exc:
            raise PushConfigurationError(f"FCM: OAuth token refused ({type(exc).__name__})", provider_code="oauth")
        except requests.Timeout:
            raise PushTemporaryError("FCM: request timed out", provider_code="timeout")
        except requests.RequestException as exc:
            raise PushTemporaryError(f"FCM: {type(exc).__name__}", provider_code="connection")
        if response.status_code == 200:
            return
        raise _error_for(response)

    def _post(self, payload: bytes, *, force_refresh: bool = False) -> Any:
        client = self.client
        token = client._get_access_token(force=force_refresh)
        return client.requests_session.post(
            client.fcm_end_point,
            data=payload,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            timeout=self.timeout,
        )


def _error_body(response: Any) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, dict) else {}


def _is_access_token_expired(response: Any) -> bool:
    details = _error_body(response).get("details") or []
    return any(isinstance(d, dict) and d.get("reason") == "ACCESS_TOKEN_EXPIRED" for d in details)


def _error_for(response: Any) -> PushError:
    """Map an FCM v1 error answer to the app's exception, keeping FCM's own code."""
    status = response.status_code
    error = _error_body(response)
    details = [d for d in error.get("details") or [] if isinstance(d, dict)]
    fcm_code = next((d["errorCode"] for d in details if d.get("errorCode")), None)
    code = fcm_code or error.get("status") or f"HTTP_{status}"
    text = f"FCM: HTTP {status} {code}"
    if code == "UNREGISTERED" or (status == 404 and code == "NOT_FOUND"):
        return PushTokenUnregistered(text, provider_code=code, status=status)
    if code == "INVALID_ARGUMENT" and _blames_the_token(error, details):
        return PushTokenUnregistered(text, provider_code=code, status=status)
    if status in (401, 403) or code in _CONFIGURATION:
        return PushConfigurationError(text, provider_code=code, status=status)
    if status == 429 or status >= 500 or code in _TEMPORARY:
        return PushTemporaryError(text, provider_code=code, status=status)
    return PushError(text, provider_code=code, status=status)


def _blames_the_token(error: dict[str, Any], details: list[dict[str, Any]]) -> bool:
    """INVALID_ARGUMENT is about the token (a malformed / foreign one) rather than our payload."""
    for detail in details:
        for violation in detail.get("fieldViolations") or []:
            if isinstance(violation, dict) and violation.get("field") == "message.token":
                return True
    return "registration token" in json.dumps(error.get("message", "")).lower()
