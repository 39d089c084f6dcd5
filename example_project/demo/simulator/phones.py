"""The simulator's phone operations, all through the reference phone client.

The simulator is a separate device as far as the server is concerned: it pairs through the public
device API, signs every request with its own key, and talks to the site over HTTP like an app on a
phone would (so the site must serve concurrent requests: ``runserver`` or uvicorn, not a single
synchronous worker). Pushes reach it through the in-process ``locmem`` push backend.
"""
from __future__ import annotations

import secrets
from typing import Any

from django.http import HttpRequest

from django_pushmfa.internal.pairing import api_base_url
from django_pushmfa.push.backends import locmem
from django_pushmfa.push.backends.base import PushMessage
from django_pushmfa.testing.phone import HTTPTransport, PhoneClient, PhoneKey, parse_pairing_uri

from ..models import SimulatedPhone

# How long one simulator request waits for the site's device API.
DEVICE_API_TIMEOUT = 15.0
# The newest pushes of one phone that the inbox looks at (the outbox itself is bounded too).
INBOX_WINDOW = 50


def new_push_token() -> str:
    """A stand-in FCM registration token, unique per simulated phone."""
    return "simulated-" + secrets.token_urlsafe(24)


BROWSER_TOKEN_PREFIX = "browser-"


def is_browser_push_token(token: str) -> bool:
    """A push token the browser phone made for itself (``browser-`` + 32 base64url characters)."""
    rest = token[len(BROWSER_TOKEN_PREFIX):] if token.startswith(BROWSER_TOKEN_PREFIX) else ""
    return len(rest) == 32 and all(ch.isalnum() or ch in "-_" for ch in rest)


def client_for(phone: SimulatedPhone, request: HttpRequest) -> PhoneClient:
    """A signed-request client for ``phone`` against this very site."""
    transport = HTTPTransport(api_base_url(request), timeout=DEVICE_API_TIMEOUT)
    return PhoneClient(transport, phone.key(), device_id=phone.device_id)


def pair(pairing_uri: str, name: str, *, platform: str = "fcm", transport: Any = None) -> SimulatedPhone:
    """Pair a new simulated phone from a ``pushmfa://pair?...`` URI, as the mobile app does.

    Raises ``ValueError`` for a malformed URI and ``PhoneAPIError`` when the server refuses the token.
    ``transport`` replaces the HTTP transport to the URI's ``server`` (the demo command pairs
    in-process, through ``DjangoClientTransport``, before any server runs).
    """
    token, server = parse_pairing_uri(pairing_uri.strip())
    key = PhoneKey.generate("p256")
    phone_client = PhoneClient(transport or HTTPTransport(server, timeout=DEVICE_API_TIMEOUT), key)
    push_token = new_push_token()
    device_id = phone_client.register(token, platform=platform, push_token=push_token, name=name)
    from django_pushmfa.models import MFACredential

    credential = MFACredential.objects.select_related("user").get(pk=device_id)
    return SimulatedPhone.objects.create(
        name=name,
        user=credential.user,
        device_id=device_id,
        platform=platform,
        push_token=push_token,
        private_key_pem=key.to_pem(),
    )


def status(phone: SimulatedPhone) -> str:
    """``active``, ``revoked`` (by the user or staff), ``dead`` (token reported dead) or ``missing``."""
    credential = phone.credential
    if credential is None:
        return "missing"
    if credential.revoked_at is not None:
        return "revoked"
    device = getattr(credential, "push_device", None)
    if device is not None and device.token_dead_at is not None:
        return "dead"
    return "active"


def to_json(phone: SimulatedPhone) -> dict[str, Any]:
    return {
        "id": phone.pk,
        "name": phone.name,
        "user": phone.user.get_username(),
        "device_id": phone.device_id,
        "platform": phone.platform,
        "status": status(phone),
    }


def _challenge_id(message: PushMessage) -> str | None:
    return message.challenge_id or (message.data or {}).get("challenge_id")


def _pushes_for(push_token: str, seen: set[str]) -> list[dict[str, Any]]:
    mine = [m for m in list(locmem.outbox) if m.device_token == push_token][-INBOX_WINDOW:]
    pushes = []
    for message in mine:
        challenge_id = _challenge_id(message)
        if challenge_id and challenge_id not in seen:
            seen.add(challenge_id)
            # "data" is the payload as the provider delivers it: the browser phone parses it with the SDK.
            pushes.append(
                {"challenge_id": challenge_id, "title": message.title, "body": message.body, "data": message.data}
            )
    return pushes


def known_pushes(push_token: str) -> list[str]:
    """Challenge ids of the pushes this token already got (the page starts listening after them)."""
    return [p["challenge_id"] for p in _pushes_for(push_token, set())]


def wait_for_pushes(push_token: str, seen: set[str], timeout: float) -> list[dict[str, Any]]:
    """Pushes to ``push_token`` whose challenge is not in ``seen``, waiting up to ``timeout`` seconds.

    Wakes as soon as the push backend sends one (``locmem.wait_for_message``), never a sleep loop.
    """

    def is_new(message: PushMessage) -> bool:
        challenge_id = _challenge_id(message)
        return message.device_token == push_token and bool(challenge_id) and challenge_id not in seen

    if locmem.wait_for_message(is_new, timeout) is None:
        return []
    return _pushes_for(push_token, set(seen))
