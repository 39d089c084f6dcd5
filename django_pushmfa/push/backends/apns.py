"""Apple Push Notification service through aioapns 4.x. Install with ``pip install "django-pushmfa[apns]"``.

``OPTIONS`` — token auth (recommended):

- ``KEY``: the ``.p8`` signing key, as PEM text or a path to the file;
- ``KEY_ID``: the key's id (10 characters, from the Apple developer account);
- ``TEAM_ID``: the team id;
- ``TOPIC``: the app's bundle id;

or certificate auth: ``CLIENT_CERT``: path to a PEM file holding the certificate and its key
(``TOPIC`` then defaults to the certificate's UID). Common options:

- ``USE_SANDBOX`` (default False): the development APNs server (debug builds of the app);
- ``BASE_URL``: another APNs endpoint, e.g. ``"https://127.0.0.1:8443"`` (a test server or a
  relay). aioapns takes its host from the protocol class (``APNS_SERVER`` / ``APNS_PORT``), so the
  backend swaps in a subclass with those two attributes set — nothing is patched globally;
- ``CA_FILE``: extra CA bundle to trust (for ``BASE_URL`` servers with a private CA);
- ``MAX_CONNECTIONS`` (default 4), ``TIMEOUT`` (default ``PUSHMFA_PUSH_TIMEOUT``).

aioapns is asyncio-only. The backend runs it on a private event loop in a daemon thread, created on
first use (and again after a fork), with one aioapns client per backend instance and loop, so its
HTTP/2 connections are reused. Sync callers submit to that loop and wait; this works the same when
the caller itself runs inside an event loop (an ASGI server calling sync code).
"""
from __future__ import annotations

import asyncio
import os
import ssl
import threading
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from ...exceptions import (
    MissingProviderLibrary,
    PushConfigurationError,
    PushError,
    PushTemporaryError,
    PushTokenUnregistered,
)
from .base import BasePushBackend, PushMessage, SendResult, logger

# APNs "reason" values (developer.apple.com: "Handling notification responses from APNs").
_DEAD_TOKEN_REASONS = {"BadDeviceToken", "Unregistered", "ExpiredToken"}
_CONFIGURATION_REASONS = {"DeviceTokenNotForTopic", "BadTopic", "TopicDisallowed", "MissingTopic"}


def _import_aioapns() -> Any:
    try:
        import aioapns
    except ImportError:
        raise MissingProviderLibrary("aioapns", "apns")
    return aioapns


class _LoopThread:
    """An asyncio loop running forever in a daemon thread; other threads submit coroutines to it."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.pid = os.getpid()
        self.thread = threading.Thread(target=self._run, name="pushmfa-apns", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def run(self, coro: Any, timeout: float) -> Any:
        if threading.current_thread() is self.thread:  # would wait on itself forever
            coro.close()
            raise RuntimeError("the APNs loop cannot wait on itself")
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def stop(self) -> None:
        if self.loop.is_closed():
            return
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=2)
        if not self.thread.is_alive():
            self.loop.close()


class PushBackend(BasePushBackend):
    required_library = ("aioapns", "apns")

    def __init__(self, options: dict[str, Any] | None = None) -> None:
        super().__init__(options)
        _import_aioapns()
        opts = self.options
        self.key: str | None = _read_key(opts["KEY"]) if opts.get("KEY") else None
        self.client_cert: str | None = opts.get("CLIENT_CERT")
        self.topic: str | None = opts.get("TOPIC")
        self.use_sandbox = bool(opts.get("USE_SANDBOX", False))
        self.max_connections = int(opts.get("MAX_CONNECTIONS", 4))
        if self.key and self.client_cert:
            raise PushConfigurationError("APNs: set OPTIONS['KEY'] or ['CLIENT_CERT'], not both.")
        if self.key:
            missing = [name for name in ("KEY_ID", "TEAM_ID", "TOPIC") if not opts.get(name)]
            if missing:
                raise PushConfigurationError(f"APNs: token auth needs OPTIONS {missing}.")
        elif not self.client_cert:
            raise PushConfigurationError("APNs: set OPTIONS['KEY'] (+ KEY_ID, TEAM_ID, TOPIC) or ['CLIENT_CERT'].")
        self.server: tuple[str, int] | None = _parse_base_url(opts.get("BASE_URL"))
        self.ssl_context = self._make_ssl_context()
        self._runner: _LoopThread | None = None
        self._runner_lock = threading.Lock()
        self._client: Any = None  # touched only on the loop thread

    def _make_ssl_context(self) -> ssl.SSLContext:
        try:
            context = ssl.create_default_context(cafile=self.options.get("CA_FILE"))
            if self.client_cert:
                context.load_cert_chain(self.client_cert)
        except (OSError, ssl.SSLError) as exc:
            raise PushConfigurationError(f"APNs: cannot load the TLS certificate or CA file ({type(exc).__name__}).")
        context.set_alpn_protocols(["h2"])
        return context

    # --- sending ------------------------------------------------------------------------------
    def build_payload(self, message: PushMessage) -> dict[str, Any]:
        """The JSON body APNs receives: a visible alert plus the challenge reference."""
        alert = {"title": message.title, "body": message.body}
        payload: dict[str, Any] = {"aps": {"alert": alert, "sound": "default"}}
        for key, value in message.data.items():
            if key != "aps":
                payload[key] = value
        return payload

    def send(self, message: PushMessage) -> None:
        result = self._run(self._send_batch([message]))[0]
        if result.error is not None:
            raise result.error

    def send_many(self, messages: Sequence[PushMessage]) -> list[SendResult]:
        """All messages go out concurrently as HTTP/2 streams on the private loop."""
        messages = list(messages)
        if not messages:
            return []
        try:
            return self._run(self._send_batch(messages))
        except PushError as exc:
            return [SendResult(message, exc) for message in messages]

    def close(self) -> None:
        with self._runner_lock:
            runner, self._runner = self._runner, None
        if runner is not None and runner.pid == os.getpid():
            try:
                runner.run(self._close_client(), timeout=2)
            except Exception:  # closing is best effort
                logger.debug("pushmfa: APNs client did not close cleanly", exc_info=True)
            runner.stop()
        super().close()

    # --- the loop side ------------------------------------------------------------------------
    def _run(self, coro: Any) -> Any:
        with self._runner_lock:
            if self._runner is None or self._runner.pid != os.getpid():
                # After a fork the old loop's thread is gone: start over (its client is unusable too).
                self._runner = _LoopThread()
                self._client = None
            runner = self._runner
        try:
            # The batch bounds itself with asyncio.wait_for; this is the backstop.
            return runner.run(coro, timeout=self.timeout + 2)
        except TimeoutError:
            raise PushTemporaryError("APNs did not answer in time", provider_code="timeout")

    async def _close_client(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.pool.close()
            # Let the transports finish closing (aioapns drops each from the pool when it has).
            for _ in range(50):
                if not client.pool.connections:
                    break
                await asyncio.sleep(0.01)

    def _get_client(self) -> Any:
        if self._client is None:
            # Built on the loop thread: aioapns binds to asyncio.get_event_loop() when constructed.
            from aioapns import APNs

            async def quiet(request: Any, result: Any) -> None:
                # aioapns would log every refusal at ERROR; the delivery layer logs it once instead.
                return None

            kwargs: dict[str, Any] = {
                "topic": self.topic,
                "use_sandbox": self.use_sandbox,
                "max_connections": self.max_connections,
                "max_connection_attempts": 2,
                "ssl_context": self.ssl_context,
                "err_func": quiet,
            }
            if self.key:
                kwargs.update(key=self.key, key_id=self.options["KEY_ID"], team_id=self.options["TEAM_ID"])
            else:
                kwargs["client_cert"] = self.client_cert
            client = APNs(**kwargs)
            if self.server is not None:
                base = client.pool.protocol_class
                host, port = self.server
                client.pool.protocol_class = type(base.__name__, (base,), {"APNS_SERVER": host, "APNS_PORT": port})
            self._client = client
        return self._client

    async def _send_batch(self, messages: list[PushMessage]) -> list[SendResult]:
        return list(await asyncio.gather(*(self._send_one_async(m) for m in messages)))

    async def _send_one_async(self, message: PushMessage) -> SendResult:
        from aioapns import NotificationRequest, PushType
        from aioapns.exceptions import ConnectionClosed, MaxAttemptsExceeded
        from aioapns.exceptions import ConnectionError as APNsConnectionError

        try:
            client = self._get_client()
            request = NotificationRequest(
                device_token=message.device_token,
                message=self.build_payload(message),
                time_to_live=max(1, int(message.ttl)),  # aioapns sends apns-expiration = now + ttl
                priority=10 if message.priority == "high" else 5,
                collapse_key=message.collapse_id,
                push_type=PushType.ALERT,
            )
            result = await asyncio.wait_for(client.send_notification(request), timeout=self.timeout)
        except TimeoutError:
            return SendResult(message, PushTemporaryError("APNs did not answer in time", provider_code="timeout"))
        except (MaxAttemptsExceeded, APNsConnectionError, ConnectionClosed, OSError) as exc:
            error = PushTemporaryError(f"APNs: cannot connect ({type(exc).__name__})", provider_code="connection")
            return SendResult(message, error)
        except ValueError as exc:  # aioapns rejecting its arguments
            return SendResult(message, PushConfigurationError(f"APNs: {exc}", provider_code="configuration"))
        if result.is_successful:
            return SendResult(message)
        return SendResult(message, _error_for(result.status, result.description))


def _error_for(status: str, reason: str | None) -> PushError:
    """Map an APNs answer (``:status`` and ``reason``) to the app's exception."""
    code = reason or f"HTTP_{status}"
    try:
        http_status: int | None = int(status)
    except (TypeError, ValueError):
        http_status = None
    text = f"APNs: HTTP {status} {code}"
    if http_status == 410 or code in _DEAD_TOKEN_REASONS:
        return PushTokenUnregistered(text, provider_code=code, status=http_status)
    if http_status == 403 or code in _CONFIGURATION_REASONS:
        return PushConfigurationError(text, provider_code=code, status=http_status)
    if http_status is None or http_status == 429 or http_status >= 500:
        return PushTemporaryError(text, provider_code=code, status=http_status)
    return PushError(text, provider_code=code, status=http_status)


def _read_key(value: str) -> str:
    """The .p8 key as PEM text, from the text itself or a path; checked to be an EC P-256 key."""
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    text = value
    if "-----BEGIN" not in value:
        try:
            with open(value, encoding="ascii") as handle:
                text = handle.read()
        except (OSError, UnicodeDecodeError) as exc:
            raise PushConfigurationError(f"APNs: cannot read OPTIONS['KEY'] as a file ({type(exc).__name__}).")
    try:
        key = load_pem_private_key(text.encode("ascii"), password=None)
    except (ValueError, TypeError, UnicodeEncodeError):
        raise PushConfigurationError("APNs: OPTIONS['KEY'] is not a PEM private key.")
    if not (isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == "secp256r1"):
        raise PushConfigurationError("APNs: OPTIONS['KEY'] must be the P-256 (.p8) key Apple issued.")
    return text


def _parse_base_url(url: str | None) -> tuple[str, int] | None:
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname or parts.path not in ("", "/"):
        raise PushConfigurationError("APNs: OPTIONS['BASE_URL'] must look like 'https://host[:port]'.")
    return parts.hostname, parts.port or 443
