"""A small HTTP/1.1 client on asyncio streams, for the load driver.

Why not httpx: with 10,000 connections open at once httpx's pool costs the driver more CPU than the
servers it measures, and on a 2-core machine the driver shares the CPU with them. This client does
only what the benchmark needs: keep-alive connections to 127.0.0.1, ``Content-Length`` and chunked
bodies, cookies kept per client (a browser) by hand.
"""
from __future__ import annotations

import asyncio
import json as jsonlib
import time
from dataclasses import dataclass, field
from typing import Any


class HTTPError(Exception):
    """The server closed the connection or sent something this client cannot read."""


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes
    set_cookies: list[str]
    sent_at: float  # perf_counter() when the request was written
    received_at: float  # perf_counter() when the whole response was read

    def json(self) -> Any:
        return jsonlib.loads(self.body) if self.body else None


@dataclass
class Connection:
    """One keep-alive connection to ``host:port``; one request at a time."""

    host: str
    port: int
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port, limit=1 << 20)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            try:
                await self.writer.wait_closed()
            except (ConnectionError, OSError):
                pass
        self.reader = self.writer = None

    async def request(
        self, method: str, path: str, *, headers: dict[str, str] | None = None, body: bytes = b""
    ) -> Response:
        for attempt in (0, 1):
            if self.writer is None:
                await self.open()
            try:
                return await self._request(method, path, headers or {}, body)
            except (ConnectionError, asyncio.IncompleteReadError, HTTPError):
                # A keep-alive connection the server closed meanwhile: reconnect once.
                await self.close()
                if attempt:
                    raise
        raise AssertionError("unreachable")

    async def _request(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Response:
        assert self.reader is not None and self.writer is not None
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        if body or method in ("POST", "PUT", "PATCH"):
            lines.append(f"Content-Length: {len(body)}")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        sent_at = time.perf_counter()
        self.writer.write(head + body)
        await self.writer.drain()
        status_line = await self.reader.readline()
        if not status_line:
            raise HTTPError("connection closed before the status line")
        parts = status_line.split(None, 2)
        status = int(parts[1])
        resp_headers: dict[str, str] = {}
        set_cookies: list[str] = []
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            name = name.strip().lower()
            value = value.strip()
            if name == "set-cookie":
                set_cookies.append(value)
            resp_headers[name] = value
        if resp_headers.get("transfer-encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int((await self.reader.readline()).split(b";")[0].strip(), 16)
                if size == 0:
                    await self.reader.readline()  # the CRLF after the last chunk (no trailers)
                    break
                chunks.append(await self.reader.readexactly(size))
                await self.reader.readexactly(2)
            data = b"".join(chunks)
        else:
            data = await self.reader.readexactly(int(resp_headers.get("content-length", "0")))
        if resp_headers.get("connection", "").lower() == "close":
            await self.close()
        return Response(status, resp_headers, data, set_cookies, sent_at, time.perf_counter())


@dataclass
class Browser:
    """A browser's session against one server: cookies, CSRF token, its own keep-alive connection."""

    host: str
    port: int
    cookies: dict[str, str] = field(default_factory=dict)
    csrf_token: str | None = None
    conn: Connection = field(init=False)

    def __post_init__(self) -> None:
        self.conn = Connection(self.host, self.port)

    def _headers(self, method: str, extra: dict[str, str] | None) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if method not in ("GET", "HEAD") and self.csrf_token:
            headers["X-CSRFToken"] = self.csrf_token
        if extra:
            headers.update(extra)
        return headers

    async def request(self, method: str, path: str, json: Any = None) -> Response:
        body = b"" if json is None else jsonlib.dumps(json).encode()
        extra = {"Content-Type": "application/json"} if json is not None else None
        resp = await self.conn.request(method, path, headers=self._headers(method, extra), body=body)
        for cookie in resp.set_cookies:
            name, _, rest = cookie.partition("=")
            value = rest.split(";", 1)[0]
            if value and "max-age=0" not in cookie.lower():
                self.cookies[name.strip()] = value
            else:
                self.cookies.pop(name.strip(), None)
        return resp

    async def close(self) -> None:
        await self.conn.close()
