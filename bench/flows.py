"""The HTTP steps of a push login as the browser and the phone perform them, over :mod:`bench.client`.

Paths follow shared/api-contract.md with the app mounted at ``/mfa/`` (as the example site does).
Phone requests are signed with the reference client's :func:`signature_header`.
"""
from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass

from django_pushmfa.testing.phone import signature_header

from .client import Browser, Connection, Response
from .seed import BrowserSession, Phone

API = "/mfa/api/"
REQUEST_TIMEOUT = 45.0  # every request is bounded: a stuck server fails the scenario, never hangs it


class FlowError(Exception):
    """A step answered something other than what the contract promises."""

    def __init__(self, step: str, resp: Response) -> None:
        super().__init__(f"{step}: HTTP {resp.status} {resp.body[:200]!r}")
        self.step = step
        self.status = resp.status


def browser_for(session: BrowserSession, host: str, port: int) -> Browser:
    browser = Browser(host, port, cookies=session.cookies(), csrf_token=session.csrf_token)
    return browser


async def _bounded(coro, timeout: float = REQUEST_TIMEOUT) -> Response:
    return await asyncio.wait_for(coro, timeout)


@dataclass
class Started:
    challenge_id: str
    display_number: str
    poll_url: str
    resp: Response


async def start(browser: Browser) -> Started:
    resp = await _bounded(browser.request("POST", API + "push/", json={}))
    if resp.status != 201:
        raise FlowError("start", resp)
    data = resp.json()
    return Started(data["challenge_id"], data["display_number"], data["poll_url"], resp)


async def poll(browser: Browser, started: Started, wait: int = 0) -> tuple[str, Response]:
    path = started.poll_url + (f"?wait={wait}" if wait else "")
    resp = await _bounded(browser.request("GET", path), timeout=wait + REQUEST_TIMEOUT)
    if resp.status != 200:
        raise FlowError("poll", resp)
    return resp.json()["status"], resp


async def phone_request(conn: Connection, phone: Phone, method: str, path: str, payload: dict | None = None
                        ) -> Response:
    body = b"" if payload is None else json.dumps(payload, separators=(",", ":")).encode()
    headers = {"Accept": "application/json",
               "Authorization": signature_header(phone.key, phone.device_id, method, path, body)}
    if body:
        headers["Content-Type"] = "application/json"
    return await _bounded(conn.request(method, path, headers=headers, body=body))


async def device_fetch(conn: Connection, phone: Phone, challenge_id: str) -> tuple[dict, Response]:
    resp = await phone_request(conn, phone, "GET", f"{API}device/challenges/{challenge_id}/")
    if resp.status != 200:
        raise FlowError("device_fetch", resp)
    return resp.json(), resp


async def device_approve(conn: Connection, phone: Phone, challenge_id: str, number: str) -> Response:
    resp = await phone_request(conn, phone, "POST", f"{API}device/challenges/{challenge_id}/respond/",
                               {"decision": "approve", "selected_number": number})
    if resp.status != 200 or resp.json().get("status") != "approved":
        raise FlowError("device_respond", resp)
    return resp


async def bare_ping(browser: Browser) -> Response:
    resp = await _bounded(browser.request("GET", "/bench/ping/"))
    if resp.status != 200:
        raise FlowError("ping", resp)
    return resp
