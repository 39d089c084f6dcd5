"""System checks of the scale-out settings: E020/W020 (push delivery), E021/W021 (Redis Cluster)."""
from __future__ import annotations

from django.test import override_settings

from django_pushmfa.checks import check_cluster_store, check_push_delivery
from django_pushmfa.push.store import CLUSTER_CACHE, CLUSTER_STORE

CLUSTER = {"BACKEND": CLUSTER_CACHE, "LOCATION": ["redis://127.0.0.1:7000"], "KEY_PREFIX": "site"}


def ids(messages) -> list[str]:
    return [m.id for m in messages]


def test_the_default_delivery_passes():
    assert check_push_delivery() == []


def test_an_unknown_delivery_or_a_bad_executor_size_is_an_error():
    with override_settings(PUSHMFA_PUSH_DELIVERY="celery"):
        assert ids(check_push_delivery()) == ["pushmfa.E020"]
    with override_settings(PUSHMFA_PUSH_DELIVERY="executor", PUSHMFA_DELIVERY_THREADS=0,
                           PUSHMFA_DELIVERY_QUEUE_SIZE="many"):
        assert ids(check_push_delivery()) == ["pushmfa.E020", "pushmfa.E020"]


def test_task_delivery_with_a_process_local_store_warns(settings):
    settings.PUSHMFA_PUSH_DELIVERY = "task"
    settings.PUSHMFA_CACHE_ALIAS = "locmem"
    settings.PUSHMFA_CHALLENGE_STORE = None
    assert ids(check_push_delivery()) == ["pushmfa.W020"]
    settings.PUSHMFA_CACHE_ALIAS = "redis"  # shared: the worker reads the challenge there
    assert check_push_delivery() == []


def test_the_cluster_store_needs_the_cluster_cache(settings):
    settings.PUSHMFA_CACHE_ALIAS = "redis"
    settings.PUSHMFA_CHALLENGE_STORE = CLUSTER_STORE
    assert ids(check_cluster_store()) == ["pushmfa.E021"]


def test_a_cluster_cache_is_picked_and_a_hash_tag_in_its_prefix_warns(settings):
    from django_pushmfa.push.store import store_class

    settings.CACHES = {**settings.CACHES, "cl": CLUSTER}
    settings.PUSHMFA_CACHE_ALIAS = "cl"
    settings.PUSHMFA_CHALLENGE_STORE = None
    assert store_class() == CLUSTER_STORE
    assert check_cluster_store() == []
    settings.CACHES = {**settings.CACHES, "cl": {**CLUSTER, "KEY_PREFIX": "{site}"}}
    assert ids(check_cluster_store()) == ["pushmfa.W021"]
