"""``PUSHMFA_PUSH_DELIVERY = "task"``: pushes sent by a worker process through Django's Tasks API.

Django 6 has the API built in (``django.tasks``); before it, the ``django-tasks`` backport provides
it (``pip install django-pushmfa[tasks]``). The site picks the backend in ``TASKS`` (database
worker, RQ, Celery, ...) and this app enqueues on ``PUSHMFA_DELIVERY_TASK_BACKEND`` /
``PUSHMFA_DELIVERY_TASK_QUEUE``. The task's arguments are JSON: the challenge's id, user, expiry and
location (what a push carries or is built from, never the number) and the device ids; the worker
loads the devices again, so a device revoked in between gets nothing. A challenge no longer pending
by the time a worker picks it up is not pushed.
"""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from django.utils import translation

from django_pushmfa.app_settings import app_settings

if TYPE_CHECKING:  # pragma: no cover
    from django_pushmfa.models import PushDevice
    from django_pushmfa.push.store.base import Challenge

if TYPE_CHECKING:  # pragma: no cover - the stubs know django.tasks; the backport has the same API
    from django.tasks import task
else:
    try:  # Django 6
        from django.tasks import task
    except ImportError:  # Django < 6: the backport
        from django_tasks import task

logger = logging.getLogger("django_pushmfa.push")


@task()
def send_challenge_push(challenge: dict[str, Any], device_ids: list[str], language: str | None) -> int:
    """Worker side: push ``challenge`` to the devices ``device_ids``. Returns how many pushes went out."""
    from django_pushmfa.models import PushDevice
    from django_pushmfa.push.store import get_store
    from django_pushmfa.push.store.base import PENDING, Challenge, is_challenge_id

    from .delivery import send_challenge

    if not is_challenge_id(challenge.get("id")):
        return 0
    try:
        current = get_store().get(challenge["id"])
    except Exception:  # the store is down: push anyway, the phone's fetch will tell
        current = None
    else:
        if current is None or current.status != PENDING:
            # answered, superseded or expired while queued: nothing to tell the phone
            logger.info("pushmfa: challenge %s is no longer pending; its push is not sent", challenge["id"])
            return 0
    record = current or Challenge(
        id=challenge["id"],
        user_id=str(challenge["user_id"]),
        binding="",
        display_number="",
        choices=None,
        status=PENDING,
        created_at=float(challenge["created_at"]),
        expires_at=float(challenge["expires_at"]),
        context={"location": challenge.get("location")},
    )
    # The ids are the UUID pks as strings (JSON); the django-stubs plugin accepts only UUIDs for this lookup.
    devices = list(PushDevice.objects.select_related("credential").filter(pk__in=device_ids))  # type: ignore[misc]
    with translation.override(language):
        results = send_challenge(record, devices)
    return sum(1 for result in results if result.ok)


def enqueue(challenge: Challenge, devices: list[PushDevice]) -> None:
    """Request side: one task for the challenge (raises what the task backend raises)."""
    payload = {
        "id": challenge.id,
        "user_id": challenge.user_id,
        "created_at": challenge.created_at,
        "expires_at": challenge.expires_at,
        "location": (challenge.context or {}).get("location"),
    }
    send_challenge_push.using(
        backend=app_settings.DELIVERY_TASK_BACKEND, queue_name=app_settings.DELIVERY_TASK_QUEUE
    ).enqueue(payload, [str(device.pk) for device in devices], translation.get_language())
