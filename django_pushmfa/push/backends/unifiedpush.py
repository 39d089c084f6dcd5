"""UnifiedPush: push without Google or Apple. The server POSTs the push payload to the endpoint URL the
phone's distributor (ntfy, NextPush, ...) gave it; that URL is the device's push token.

The URL comes from the phone, so every send goes through :mod:`django_pushmfa.push.endpoints`: https
only, the host resolved and every address checked (no private, loopback, link-local...), the
connection made to the checked address (TLS verified against the host name), no redirect followed, the
body at most 4096 bytes (UnifiedPush's limit) and the whole exchange bounded by ``TIMEOUT``. Only the
first few bytes of an answer are read.

The body is the JSON of the push data plus the visible text: ``{"type": "pushmfa.challenge",
"challenge_id": ..., "purpose": ..., "site_name": ..., "title": ..., "body": ...}`` — no secret, no
number (the app fetches the challenge with a signed request, as on every platform). UnifiedPush's
answers: 2xx accepted; 404 / 410 the endpoint is gone (the device is marked dead until the app
``PUT``s a new one); 413 too large; 429 and 5xx temporary. An endpoint the policy refuses is treated as
gone too, so it is not tried again.

``OPTIONS``:

- ``TIMEOUT`` (default ``PUSHMFA_PUSH_TIMEOUT``), ``MAX_WORKERS`` (default 8);
- ``UNSAFE_TESTING``: **for tests only** — ``{"ALLOW_LOOPBACK": True, "CA_FILE": "<PEM path>"}`` lets the
  test suite push to a local HTTPS server with a self-signed certificate. System check
  ``pushmfa.W012`` warns whenever it is set.
"""
from __future__ import annotations

import http.client
import json
import socket
import ssl
import threading
import time
from typing import Any

from django_pushmfa.exceptions import PushConfigurationError, PushError, PushTemporaryError, PushTokenUnregistered
from django_pushmfa.push.backends.base import BasePushBackend, PushMessage
from django_pushmfa.push.endpoints import Endpoint, EndpointRefused, resolve_endpoint

#: UnifiedPush servers accept messages up to 4096 bytes.
MAX_PAYLOAD_BYTES = 4096
#: How much of an answer is read at most (the status line and headers are bounded by http.client).
MAX_ANSWER_BYTES = 4096
_TESTING_KEYS = {"ALLOW_LOOPBACK", "CA_FILE"}


def testing_overrides(options: dict[str, Any]) -> dict[str, Any]:
    """The test-only ``UNSAFE_TESTING`` options (validated); empty in production."""
    testing = options.get("UNSAFE_TESTING") or {}
    if not isinstance(testing, dict) or set(testing) - _TESTING_KEYS:
        raise PushConfigurationError(f"UnifiedPush: OPTIONS['UNSAFE_TESTING'] takes only {sorted(_TESTING_KEYS)}.")
    return testing


class PushBackend(BasePushBackend):
    def __init__(self, options: dict[str, Any] | None = None) -> None:
        super().__init__(options)
        testing = testing_overrides(self.options)
        self.allow_loopback = bool(testing.get("ALLOW_LOOPBACK", False))
        try:
            self.ssl_context = ssl.create_default_context(cafile=testing.get("CA_FILE"))
        except (OSError, ssl.SSLError) as exc:
            raise PushConfigurationError(f"UnifiedPush: unusable UNSAFE_TESTING['CA_FILE'] ({type(exc).__name__}).")

    def build_payload(self, message: PushMessage) -> bytes:
        """The exact body POSTed to the endpoint."""
        data = {**message.data, "title": message.title, "body": message.body}
        return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode("utf-8")

    def send(self, message: PushMessage) -> None:
        body = self.build_payload(message)
        if len(body) > MAX_PAYLOAD_BYTES:
            raise PushError("UnifiedPush: the message is over 4096 bytes", provider_code="payload_too_large")
        try:
            endpoint = resolve_endpoint(message.device_token, allow_loopback=self.allow_loopback)
        except EndpointRefused as exc:
            raise PushTokenUnregistered(f"UnifiedPush: endpoint refused ({exc})", provider_code="endpoint_refused")
        except OSError:
            raise PushTemporaryError("UnifiedPush: the endpoint's host does not resolve", provider_code="dns")
        headers = {
            "Content-Type": "application/json",
            "TTL": str(max(1, int(message.ttl))),
            "Urgency": "high" if message.priority == "high" else "normal",
        }
        if message.collapse_id:
            headers["Topic"] = message.collapse_id[:32]  # RFC 8030: at most 32 base64url characters
        status = self._post(endpoint, body, headers)
        if 200 <= status < 300:
            return
        text = f"UnifiedPush: HTTP {status}"
        if status in (404, 410):
            raise PushTokenUnregistered(text, provider_code=f"HTTP_{status}", status=status)
        if 300 <= status < 400:
            raise PushError(text + " (redirects are not followed)", provider_code="redirect", status=status)
        if status == 429 or status >= 500:
            raise PushTemporaryError(text, provider_code=f"HTTP_{status}", status=status)
        raise PushError(text, provider_code=f"HTTP_{status}", status=status)

    def _post(self, endpoint: Endpoint, body: bytes, headers: dict[str, str]) -> int:
        """POST to the checked address within ``timeout`` seconds in all; the answer's status."""
        deadline = time.monotonic() + self.timeout
        raw = _connect(endpoint, deadline)
        # A server that answers one byte at a time must not hold the push past the deadline: the
        # socket is shut at the deadline, whatever http.client is waiting for. (Wrapping in TLS
        # detaches ``raw``; from then on the TLS socket is the one to shut.)
        live: list[socket.socket] = [raw]
        timer = threading.Timer(max(0.0, deadline - time.monotonic()), lambda: _shut(live[-1]))
        timer.daemon = True
        timer.start()
        try:
            tls = self.ssl_context.wrap_socket(raw, server_hostname=endpoint.host)
            live.append(tls)
            connection = http.client.HTTPSConnection(endpoint.host, endpoint.port, timeout=self.timeout)
            connection.sock = tls  # already connected, to the checked address
            try:
                connection.request("POST", endpoint.target, body=body, headers=headers)
                response = connection.getresponse()
                response.read(MAX_ANSWER_BYTES)
                return response.status
            finally:
                connection.close()
        except ssl.SSLCertVerificationError:
            raise PushError("UnifiedPush: the endpoint's TLS certificate does not verify", provider_code="tls")
        except (OSError, http.client.HTTPException) as exc:
            if time.monotonic() >= deadline - 0.05:
                raise PushTemporaryError("UnifiedPush: request timed out", provider_code="timeout")
            raise PushTemporaryError(f"UnifiedPush: {type(exc).__name__}", provider_code="connection")
        finally:
            timer.cancel()
            for sock in live:
                sock.close()


def _connect(endpoint: Endpoint, deadline: float) -> socket.socket:
    """A TCP connection to the first of the endpoint's checked addresses that accepts one."""
    error: OSError | None = None
    for address in endpoint.addresses:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        try:
            return socket.create_connection((address, endpoint.port), timeout=remaining)
        except OSError as exc:
            error = exc
    name = type(error).__name__ if error is not None else "timeout"
    raise PushTemporaryError(f"UnifiedPush: cannot connect ({name})", provider_code="connection")


def _shut(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
