"""A local UnifiedPush distributor stand-in: HTTPS (a self-signed certificate) on 127.0.0.1, in a thread.

It records every request it receives (method, path with query, headers, body) and answers from a
script, in turn: ``Answer(status, headers, delay, body, trickle)``. ``trickle`` sends the answer one
byte at a time with ``delay`` seconds between bytes (a server holding a push hostage).
"""
from __future__ import annotations

import ssl
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .apns_server import make_tls_files


@dataclass
class Answer:
    status: int = 201
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    body: bytes = b""
    trickle: bool = False


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, *args: object) -> None:  # keep the test output clean
        pass

    def do_POST(self) -> None:  # noqa: N802 - the http.server naming
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        self.server.owner.received.append(
            Received("POST", self.path, {k.lower(): v for k, v in self.headers.items()}, body)
        )
        answer = self.server.owner.next_answer()
        if answer.trickle:
            raw = f"HTTP/1.1 {answer.status} X\r\nContent-Length: 0\r\n\r\n".encode()
            try:
                for byte in raw:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    time.sleep(answer.delay)
            except OSError:
                pass
            return
        time.sleep(answer.delay)
        try:
            self.send_response(answer.status)
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            self.wfile.write(answer.body)
        except OSError:
            pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: DistributorServer


class DistributorServer:
    """``with DistributorServer(tmp_path) as server:``; ``server.url("/up/abc?x=1")``, ``server.ca_file``."""

    def __init__(self, directory, answers: list[Answer] | None = None) -> None:
        self.ca_file, key_file = make_tls_files(directory)
        self.answers = list(answers or [])
        self.received: list[Received] = []
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.owner = self
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.ca_file, key_file)
        self._httpd.socket = context.wrap_socket(self._httpd.socket, server_side=True)
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def next_answer(self) -> Answer:
        return self.answers.pop(0) if self.answers else Answer()

    def url(self, target: str = "/up/abc", host: str = "127.0.0.1", scheme: str = "https") -> str:
        return f"{scheme}://{host}:{self.port}{target}"

    def __enter__(self) -> DistributorServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
