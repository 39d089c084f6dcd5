"""Sending a challenge's push notification to a user's phones.

:func:`send_challenge` is the one entry point the challenge flow calls. It never raises: a provider
failure must not prevent the challenge from existing (the phone can still find it by polling).
"""
from __future__ import annotations

import contextlib
import logging
import math
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.utils import timezone, translation
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext

from ...exceptions import PushError, PushTokenUnregistered
from ...models import MFACredential, PushDevice, SecurityEvent
from ..backends import get_backend
from ..backends.base import PushMessage, SendResult
from .context import PURPOSE_LOGIN, PURPOSE_REAUTHENTICATION

if TYPE_CHECKING:
    from ..store.base import Challenge

logger = logging.getLogger("django_pushmfa.push")

#: ``data["type"]`` of a challenge push (the contract's "Push payload").
CHALLENGE_PUSH_TYPE = "pushmfa.challenge"


@dataclass
class DeliveryResult:
    """What happened to the push for one device."""

    device_id: str
    platform: str
    ok: bool
    error: PushError | None = None
    token_dead: bool = False  # the provider said the token is gone; the device is now marked dead

    @property
    def provider_code(self) -> str | None:
        return self.error.provider_code if self.error is not None else None


def collapse_id_for(user_id: Any) -> str:
    """A stable collapse id per user, so a newer challenge push replaces an older one on the phone.

    Keyed with SECRET_KEY: the provider and the device see it, and an unkeyed hash of a small
    integer user id would be trivially reversible.
    """
    return "pushmfa-" + salted_hmac("django_pushmfa.push.collapse_id", str(user_id)).hexdigest()[:16]


def challenge_text(context: dict[str, Any]) -> tuple[str, str]:
    """The visible (title, body) of a challenge push: why, who is asking, and from where."""
    location = context.get("location") or gettext("unknown location")
    site, service = context.get("site_name") or "", context.get("service") or ""
    if site and service:
        asker = gettext("%(service)s on %(site)s") % {"service": service, "site": site}
    else:
        asker = site or service
    if context.get("purpose") == PURPOSE_REAUTHENTICATION:
        title = gettext("Confirm it's you")
        body = gettext("%(asker)s asks you to confirm it's you (request from %(location)s)")
        if not asker:
            body = gettext("Confirm it's you (request from %(location)s)")
    else:
        title = gettext("Login request")
        body = gettext("%(asker)s: new login from %(location)s") if asker else gettext("New login from %(location)s")
    return title, body % {"asker": asker, "location": location}


def challenge_data(challenge: Challenge) -> dict[str, str]:
    """The push's data: the challenge id and who is asking (never a number). String values, as FCM needs."""
    context = challenge.context or {}
    data = {
        "type": CHALLENGE_PUSH_TYPE,
        "challenge_id": str(challenge.id),
        "purpose": str(context.get("purpose") or PURPOSE_LOGIN),
    }
    for key in ("site_name", "service"):
        if context.get(key):
            data[key] = str(context[key])
    return data


def device_language(device: PushDevice) -> str | None:
    """The site's supported language closest to the one the phone registered; None: the active one."""
    if not device.language:
        return None
    try:
        return translation.get_supported_language_variant(device.language.replace("_", "-").lower())
    except LookupError:
        return None


def build_message(challenge: Challenge, device: PushDevice, *, now: float | None = None) -> PushMessage:
    """The notification for ``challenge`` on ``device``: challenge id as data, no number, no choices.
    Title and body are in the phone owner's language when the device registered one."""
    now = time.time() if now is None else now
    language = device_language(device)
    with translation.override(language) if language else contextlib.nullcontext():
        title, body = challenge_text(challenge.context or {})
    return PushMessage(
        device_token=device.push_token,
        platform=device.platform,
        title=title,
        body=body,
        data=challenge_data(challenge),
        ttl=max(1, math.ceil(challenge.expires_at - now)),
        collapse_id=collapse_id_for(challenge.user_id),
        priority="high",
        challenge_id=str(challenge.id),
    )


def send_challenge(challenge: Challenge, devices: list[PushDevice]) -> list[DeliveryResult]:
    """Push ``challenge`` to every usable device in ``devices``, concurrently; never raises.

    Poll-only devices (platform ``none``), devices whose credential is revoked and those whose token
    was reported dead are skipped (no result).
    On ``PushTokenUnregistered`` the device gets ``token_dead_at`` and a ``push_token_dead``
    SecurityEvent; any other ``PushError`` is logged once at WARNING with the provider's code (never
    the token). Results are in the order of the usable devices.
    """
    try:
        usable = _usable_devices(devices)
    except Exception:
        logger.exception("pushmfa: could not load the devices for challenge %s", challenge.id)
        return []
    if not usable:
        return []
    now = time.time()
    # Messages are built here, not in the worker threads: the active language is per thread.
    by_platform: dict[str, list[tuple[PushDevice, PushMessage]]] = defaultdict(list)
    for device in usable:
        by_platform[device.platform].append((device, build_message(challenge, device, now=now)))

    outcomes: dict[str, SendResult] = {}
    groups = list(by_platform.items())
    if len(groups) == 1:
        outcomes.update(_send_platform(*groups[0]))
    else:
        # Providers are independent: the FCM and APNs batches go out side by side.
        with ThreadPoolExecutor(max_workers=len(groups), thread_name_prefix="pushmfa-deliver") as pool:
            for partial in pool.map(lambda group: _send_platform(*group), groups):
                outcomes.update(partial)

    results = []
    for device in usable:
        outcome = outcomes[device.device_id]
        result = DeliveryResult(device.device_id, device.platform, ok=outcome.ok, error=outcome.error)
        if isinstance(outcome.error, PushTokenUnregistered):
            result.token_dead = _mark_dead(device, outcome.error)
        elif outcome.error is not None:
            logger.warning(
                "pushmfa: push for challenge %s to device %s (%s) failed: %s [provider_code=%s status=%s]",
                challenge.id,
                device.device_id,
                device.platform,
                type(outcome.error).__name__,
                outcome.error.provider_code,
                outcome.error.status,
            )
        results.append(result)
    return results


def _usable_devices(devices: list[PushDevice]) -> list[PushDevice]:
    """Drop poll-only and dead-token devices and those whose credential is revoked (one query at most)."""
    candidates = [
        d for d in devices if d.token_dead_at is None and d.push_token and d.platform != PushDevice.Platform.NONE
    ]
    unknown = [d.credential_id for d in candidates if not PushDevice.credential.is_cached(d)]
    active_unknown: set = set()
    if unknown:
        active_unknown = set(
            MFACredential.objects.filter(pk__in=unknown, revoked_at__isnull=True).values_list("pk", flat=True)
        )
    usable = []
    for device in candidates:
        if PushDevice.credential.is_cached(device):
            if device.credential.revoked_at is None:
                usable.append(device)
        elif device.credential_id in active_unknown:
            usable.append(device)
    return usable


def _send_platform(platform: str, pairs: list[tuple[PushDevice, PushMessage]]) -> dict[str, SendResult]:
    """Send one platform's messages through its backend; every failure becomes a result."""
    messages = [message for _device, message in pairs]
    try:
        results = get_backend(platform).send_many(messages)
    except PushError as exc:  # bad options / missing extra: one error for the whole platform
        results = [SendResult(message, exc) for message in messages]
    except Exception as exc:  # ImproperlyConfigured or a backend bug: logged, never raised
        logger.exception("pushmfa: push backend for platform %r is unusable", platform)
        error = PushError(f"backend unusable: {type(exc).__name__}", provider_code="backend_unusable")
        results = [SendResult(message, error) for message in messages]
    return {device.device_id: result for (device, _message), result in zip(pairs, results, strict=True)}


def _mark_dead(device: PushDevice, error: PushTokenUnregistered) -> bool:
    """Mark the device's token dead (once) and record the event. True when this call marked it."""
    from ...services import record_event

    try:
        now = timezone.now()
        # Only the current token, and only once: a token rotated meanwhile is not the dead one.
        updated = PushDevice.objects.filter(
            pk=device.pk, push_token=device.push_token, token_dead_at__isnull=True
        ).update(token_dead_at=now)
        if not updated:
            return False
        device.token_dead_at = now
        credential = device.credential
        user = get_user_model()._default_manager.get(pk=credential.user_id)
        record_event(
            user,
            SecurityEvent.Kind.PUSH_TOKEN_DEAD,
            credential=credential,
            platform=device.platform,
            provider_code=error.provider_code,
        )
        logger.info(
            "pushmfa: provider reported the token of device %s dead (%s)", device.device_id, error.provider_code
        )
        return True
    except Exception:
        logger.exception("pushmfa: could not mark device %s dead", device.device_id)
        return False
