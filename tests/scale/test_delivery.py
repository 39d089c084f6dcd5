"""Pushes off the request path (``PUSHMFA_PUSH_DELIVERY``): the default bounded executor in the app
process, and Django's Tasks API on a real RQ worker process on Redis.

``POST api/push/`` answers while the provider has not answered yet (the gated provider holds every
push until the test opens it): nothing here is timed. Provider results are still recorded: a dead
token gets ``token_dead_at`` and a ``push_token_dead`` SecurityEvent, sent from the executor thread or
from the worker process.
"""
from __future__ import annotations

import logging

import pytest
from django.conf import settings as django_settings

from django_pushmfa.models import PushDevice, SecurityEvent
from django_pushmfa.push.internal.dispatch import DeliveryExecutor

from ..hardening.conftest import is_logged_in, new_browser, pair_phone, poll, start_push
from . import push_backends
from .conftest import WorkerProcess, wait_until

pytestmark = pytest.mark.django_db(transaction=True)

GATED = {"BACKEND": "tests.scale.push_backends.GatedBackend"}


@pytest.fixture
def executor(settings):
    """The default delivery with the gated provider and a fresh executor of 1 thread, 1 queue slot."""
    settings.PUSHMFA_PUSH_DELIVERY = "executor"
    settings.PUSHMFA_PUSH_BACKENDS = {"fcm": GATED, "apns": GATED}
    settings.PUSHMFA_DELIVERY_THREADS = 1
    settings.PUSHMFA_DELIVERY_QUEUE_SIZE = 1
    push_backends.gate.clear()
    push_backends.sent.clear()
    DeliveryExecutor._instance = None
    yield
    push_backends.gate.set()  # let any push still held go, so the threads end idle
    if DeliveryExecutor._instance is not None:
        DeliveryExecutor._instance.join(10)
    DeliveryExecutor._instance = None


def sent_for(challenge_id: str) -> list:
    return [m for m in push_backends.sent if m.challenge_id == challenge_id]


def test_the_number_comes_back_before_the_provider_answers(executor, push_user, password):
    browser = new_browser(push_user, password)
    started = start_push(browser)  # the provider holds every push: inline, this would hang
    assert started["display_number"] and sent_for(started["challenge_id"]) == []

    # the phone finds the challenge by polling meanwhile, answers, and the browser logs in
    listed = push_user.phone.challenges().json()["challenges"]
    assert [c["challenge_id"] for c in listed] == [started["challenge_id"]]
    push_backends.gate.set()
    assert DeliveryExecutor.get().join(10)
    assert [(m.data["type"], m.data["challenge_id"]) for m in sent_for(started["challenge_id"])] == [
        ("pushmfa.challenge", started["challenge_id"])
    ]
    assert push_user.phone.approve(started["challenge_id"], started["display_number"]).status_code == 200
    assert poll(browser, started["challenge_id"]).json()["status"] == "approved"
    assert is_logged_in(browser)


def test_a_full_queue_drops_the_push_and_logs_but_the_phone_still_polls(executor, push_user, password, caplog):
    caplog.set_level(logging.WARNING, logger="django_pushmfa.push")
    first = start_push(new_browser(push_user, password))  # taken by the one thread, held by the provider
    assert wait_until(lambda: DeliveryExecutor.get().queue.qsize() == 0, 10)
    start_push(new_browser(push_user, password))  # waits in the one queue slot
    browser = new_browser(push_user, password)
    third = start_push(browser)  # no room: dropped
    assert DeliveryExecutor.get().dropped == 1
    assert any("queue full" in r.getMessage() and third["challenge_id"] in r.getMessage() for r in caplog.records)

    listed = push_user.phone.challenges().json()["challenges"]
    assert [c["challenge_id"] for c in listed] == [third["challenge_id"]]
    assert push_user.phone.approve(third["challenge_id"], third["display_number"]).status_code == 200
    assert poll(browser, third["challenge_id"]).json()["status"] == "approved"
    assert is_logged_in(browser)
    push_backends.gate.set()
    assert DeliveryExecutor.get().join(10)
    assert sent_for(first["challenge_id"]) and not sent_for(third["challenge_id"])


def test_a_dead_token_is_recorded_from_the_executor(executor, push_user, password, account_client):
    pair_phone(account_client, push_token="dead-" + "0" * 20, name="Old phone")
    start_push(new_browser(push_user, password))
    push_backends.gate.set()
    assert DeliveryExecutor.get().join(10)
    device = PushDevice.objects.get(push_token="dead-" + "0" * 20)
    assert device.token_dead_at is not None
    assert SecurityEvent.objects.filter(user=push_user, kind=SecurityEvent.Kind.PUSH_TOKEN_DEAD).count() == 1


# --- Django's Tasks API on a real RQ worker -------------------------------------------------------
OUTBOX_KEY = "pushmfa-test:scale:outbox"


@pytest.fixture
def rq_worker(settings):
    """An RQ worker process (``manage.py rqworker``) on the test Redis, sending through a provider whose
    outbox is a Redis list; the app enqueues on it through Django's Tasks API."""
    import django_rq
    import redis

    url = django_settings.RQ_QUEUES["pushmfa-test"]["URL"]
    backend = {"BACKEND": "tests.scale.push_backends.RedisOutboxBackend", "OPTIONS": {"URL": url, "KEY": OUTBOX_KEY}}
    overrides = {
        "PUSHMFA_PUSH_BACKENDS": {"fcm": backend, "apns": backend},
        "PUSHMFA_CACHE_ALIAS": "redis",  # the worker reads the challenge from the shared store
    }
    for name, value in {**overrides, "PUSHMFA_PUSH_DELIVERY": "task", "PUSHMFA_DELIVERY_TASK_BACKEND": "rq",
                        "PUSHMFA_DELIVERY_TASK_QUEUE": "pushmfa-test"}.items():
        setattr(settings, name, value)
    settings.PUSHMFA_CHALLENGE_STORE = None
    django_rq.get_queue("pushmfa-test").empty()
    redis.Redis.from_url(url).delete(OUTBOX_KEY)
    worker = WorkerProcess(["rqworker", "pushmfa-test", "--job-class", "django_tasks_rq.Job"], overrides)
    yield worker
    worker.stop()
    django_rq.get_queue("pushmfa-test").empty()
    redis.Redis.from_url(url).delete(OUTBOX_KEY)


def test_a_worker_process_sends_the_pushes_and_records_dead_tokens(rq_worker, push_user, password, account_client):
    import os

    url = django_settings.RQ_QUEUES["pushmfa-test"]["URL"]
    pair_phone(account_client, push_token="dead-" + "1" * 20, name="Old phone")
    browser = new_browser(push_user, password)
    started = start_push(browser)

    def both_sent():
        sent = [m for m in push_backends.read_outbox(url, OUTBOX_KEY) if m["challenge_id"] == started["challenge_id"]]
        return sent if len(sent) >= 2 else None

    outbox = wait_until(both_sent, 60)
    assert outbox is not None, rq_worker.output()
    assert len(outbox) == 2 and {m["pid"] for m in outbox} != {os.getpid()}  # sent by the worker process
    expected = ("pushmfa.challenge", started["challenge_id"])
    assert all((m["data"]["type"], m["data"]["challenge_id"]) == expected for m in outbox)
    assert wait_until(
        lambda: SecurityEvent.objects.filter(user=push_user, kind=SecurityEvent.Kind.PUSH_TOKEN_DEAD).exists(), 30
    )
    assert PushDevice.objects.get(push_token="dead-" + "1" * 20).token_dead_at is not None

    assert push_user.phone.approve(started["challenge_id"], started["display_number"]).status_code == 200
    assert poll(browser, started["challenge_id"]).json()["status"] == "approved"
    assert is_logged_in(browser)


def test_an_answered_challenge_is_not_pushed_by_a_late_worker(settings, push_user, password):
    """The worker checks the store first: a push for a challenge already answered is not sent."""
    from django_pushmfa.push.internal.delivery_task import send_challenge_push

    settings.PUSHMFA_CACHE_ALIAS = "redis"
    settings.PUSHMFA_CHALLENGE_STORE = None
    settings.PUSHMFA_PUSH_BACKENDS = {"fcm": GATED, "apns": GATED}
    push_backends.gate.set()
    push_backends.sent.clear()
    browser = new_browser(push_user, password)
    started = start_push(browser)  # "inline" in the test settings: pushed once here
    assert len(sent_for(started["challenge_id"])) == 1
    device_ids = [str(pk) for pk in PushDevice.objects.values_list("pk", flat=True)]
    payload = {"id": started["challenge_id"], "user_id": str(push_user.pk), "created_at": 0, "expires_at": 0,
               "location": None}
    assert send_challenge_push.call(payload, device_ids, "en") == 1  # still pending: pushed again
    assert push_user.phone.approve(started["challenge_id"], started["display_number"]).status_code == 200
    assert send_challenge_push.call(payload, device_ids, "en") == 0  # answered: nothing to tell the phone
    assert len(sent_for(started["challenge_id"])) == 2
