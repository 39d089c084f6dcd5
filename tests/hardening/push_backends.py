"""Push providers having a bad day, for the fault tests.

- :class:`DownPushBackend`: the provider refuses every push with a temporary error and its own code.
- :class:`CrashingPushBackend`: a backend with a bug (raises something that is not a PushError).
- :class:`LocalFCMBackend`: the real FCM backend, pointed at :class:`FakeFCMServer` on 127.0.0.1,
  which either never answers (a hung provider: the backend's configured timeout must end the wait)
  or answers FCM's own 503 ``UNAVAILABLE`` error.
"""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from django_pushmfa.exceptions import PushTemporaryError
from django_pushmfa.push.backends.base import BasePushBackend, PushMessage
from django_pushmfa.push.backends.fcm import PushBackend as FCMPushBackend

#: Every message the failing backends were asked to send.
attempts: list[PushMessage] = []


class DownPushBackend(BasePushBackend):
    def send(self, message: PushMessage) -> None:
        attempts.append(message)
        raise PushTemporaryError(
            "provider unavailable", provider_code=self.options.get("PROVIDER_CODE", "UNAVAILABLE"), status=503
        )


class CrashingPushBackend(BasePushBackend):
    def send(self, message: PushMessage) -> None:
        attempts.append(message)
        raise RuntimeError("bug in a push backend")


class LocalFCMBackend(FCMPushBackend):
    """The FCM backend, unchanged except for the endpoint (``OPTIONS["ENDPOINT"]``)."""

    def __init__(self, options=None) -> None:
        super().__init__(options)
        self.client._fcm_end_point = self.options["ENDPOINT"]  # what pyfcm caches after computing it


class FakeFCMServer:
    """An HTTP server on 127.0.0.1 playing FCM: ``mode`` "hang" never answers, "unavailable" answers 503."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.requests = 0
        self._release = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # http.server's naming
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                server.requests += 1
                if server.mode == "hang":
                    server._release.wait(30)
                    return
                body = json.dumps(
                    {
                        "error": {
                            "code": 503,
                            "message": "The service is currently unavailable.",
                            "status": "UNAVAILABLE",
                            "details": [
                                {
                                    "@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError",
                                    "errorCode": "UNAVAILABLE",
                                }
                            ],
                        }
                    }
                ).encode()
                self.send_response(503)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1/projects/demo/messages:send"

    def close(self) -> None:
        self._release.set()
        self.httpd.shutdown()
        self.httpd.server_close()
