"""Redis Cluster for real: the Cluster challenge store on 3 primaries + 3 replicas (``redis_cluster``).

A login whose browser and phone hit different app processes (the wake-up crosses them through
sharded pub/sub), keys spread over the primaries by their hash tags, and a primary killed during a
wave of logins. The store's own test suite runs on this cluster too (``tests/push_store``, the
``cluster`` store).
"""
from __future__ import annotations

import json
import secrets
import threading

import pytest
from django.conf import settings as django_settings

from django_pushmfa.push.store import get_store
from django_pushmfa.push.store.cluster import RedisClusterChallengeStore
from django_pushmfa.push.store.listener import Listener
from django_pushmfa.testing.phone import HTTPTransport, PhoneClient, PhoneKey

from ..hardening.conftest import (
    API,
    is_logged_in,
    json_post,
    logged_in_client,
    new_browser,
    pair_phone,
    poll,
    start_push,
)
from .conftest import serve
from .failover import assert_failed_closed, figures, run_wave

pytestmark = pytest.mark.django_db(transaction=True)

LIFTED = (10**6, 900)  # a wave of logins from one IP


@pytest.fixture
def cluster_store(redis_cluster, settings):
    cache = redis_cluster.cache("pushmfa-test-cl")
    settings.CACHES = {**settings.CACHES, "cluster": cache}
    settings.PUSHMFA_CACHE_ALIAS = "cluster"
    settings.PUSHMFA_CHALLENGE_STORE = None  # picked for the RedisClusterCache
    settings.PUSHMFA_PUSH_RATE_LIMIT_USER = settings.PUSHMFA_PUSH_RATE_LIMIT_IP = LIFTED
    store = get_store()
    assert isinstance(store, RedisClusterChallengeStore)
    store.cache.clear()
    yield store
    Listener.stop_all()


@pytest.fixture
def phone_server(cluster_store):
    """A second app process on the same cluster and database: the phone talks to it."""
    overrides = {
        "CACHES": {**django_settings.CACHES, "cluster": cluster_store.cache_settings},
        "PUSHMFA_CACHE_ALIAS": "cluster",
        "PUSHMFA_PUSH_RATE_LIMIT_USER": LIFTED,
        "PUSHMFA_PUSH_RATE_LIMIT_IP": LIFTED,
    }
    server, api_url = serve(overrides)
    yield api_url
    server.stop()


def test_a_login_whose_browser_and_phone_hit_different_processes(cluster_store, phone_server, user, password):
    # the phone pairs with, fetches from and answers the other process
    pairing = json_post(logged_in_client(user, password), API + "devices/pairing/")
    phone = PhoneClient(HTTPTransport(phone_server), PhoneKey.generate("p256"))
    phone.register(pairing.json()["pairing_token"], "fcm", "tok-" + secrets.token_hex(8), "Pixel 8")

    for _ in range(3):
        browser = new_browser(user, password)
        started = start_push(browser)  # this process
        listed = [c["challenge_id"] for c in phone.challenges()]
        assert listed == [started["challenge_id"]]
        answer = threading.Timer(
            0.3, lambda s=started: phone.respond(s["challenge_id"], "approve", s["display_number"])
        )
        answer.start()
        # this process's long-poll is woken by the other process's answer: SPUBLISH on the
        # challenge's shard, SSUBSCRIBE here (without it the poll would read "pending" after 20 s)
        response = poll(browser, started["challenge_id"], wait=20)
        answer.join()
        assert response.json()["status"] == "approved"
        assert is_logged_in(browser)


def test_keys_share_a_slot_per_script_and_spread_over_the_primaries(cluster_store, redis_cluster, user_factory,
                                                                     password):
    client = cluster_store.client()
    challenge_id = "0b6a4a8e-5f1e-4a8e-9d7e-3c1f2b4a6d80"
    assert client.keyslot(cluster_store.ckey(challenge_id)) == client.keyslot(cluster_store.channel_for(challenge_id))
    user_slots = {client.keyslot(cluster_store.ukey(kind, "42")) for kind in ("u", "sus", "den", "rep")}
    assert len(user_slots) == 1

    for i in range(12):  # logins of 12 users: challenges, pointers, rate limits and nonces
        user = user_factory(f"spread{i}")
        user.phone = pair_phone(logged_in_client(user, password))
        started = start_push(new_browser(user, password))
        assert user.phone.challenge(started["challenge_id"]).status_code == 200
    primaries = {redis_cluster.slot_owner(slot) for slot in (0, 8000, 16000)}
    sizes = [redis_cluster_client(port).dbsize() for port in primaries]
    assert len(primaries) == 3 and all(size > 0 for size in sizes), sizes


def redis_cluster_client(port: int):
    import redis

    return redis.Redis(host="127.0.0.1", port=port)


def test_a_primary_failover_during_a_wave_of_logins_fails_closed(cluster_store, redis_cluster, phone_users,
                                                                 password):
    wave = run_wave(phone_users, password, lambda: redis_cluster.kill_primary(0),
                    lambda old: redis_cluster.wait_for_promotion(old, 0))
    result = figures(wave)
    print("cluster failover:", json.dumps(result))
    assert_failed_closed(wave)
    # the wave did run into the outage: redis-py's cluster client retries a command through the
    # failover (it refreshes the slot map until the replica took over), so a login that needs the
    # dead primary either failed with 503 or waited for the promotion
    assert result["failed_503"] + result["spanned_failover"] >= 1

    # wake-ups work again on the promoted node: a long-poll on a challenge whose slot it now serves
    promoted = redis_cluster.slot_owner(0)
    client = cluster_store.client()
    user = phone_users[0]
    for _ in range(40):
        browser = new_browser(user, password)
        started = start_push(browser)
        slot = client.keyslot(cluster_store.ckey(started["challenge_id"]))
        if redis_cluster.slot_owner(slot) == promoted:
            break
    else:
        pytest.fail("no challenge landed on the promoted node")
    answer = threading.Timer(0.3, lambda: user.phone.approve(started["challenge_id"], started["display_number"]))
    answer.start()
    response = poll(browser, started["challenge_id"], wait=20)
    answer.join()
    assert response.json()["status"] == "approved"
    assert is_logged_in(browser)


def test_the_commands_of_a_login_on_the_cluster(cluster_store, push_user, password, monkeypatch):
    """Deterministic, so a test: what one complete login sends to the cluster (every command is one
    round trip to the node that serves its slot)."""
    from redis.cluster import RedisCluster

    def login():
        browser = new_browser(push_user, password)
        started = start_push(browser)
        assert push_user.phone.challenge(started["challenge_id"]).status_code == 200
        assert push_user.phone.approve(started["challenge_id"], started["display_number"]).status_code == 200
        assert poll(browser, started["challenge_id"]).json()["status"] == "approved"
        assert is_logged_in(browser)

    login()  # the user's pointer then names a consumed challenge, as between a user's logins
    sent: list[str] = []
    original = RedisCluster.execute_command

    def counting(self, *args, **kwargs):
        sent.append(str(args[0]).upper())
        return original(self, *args, **kwargs)

    monkeypatch.setattr(RedisCluster, "execute_command", counting)
    login()
    assert sent == [
        # POST api/push/: suspension check, the user and IP rate limits (HIT), SAVE, SWAP the pointer,
        # RESOLVE the previous challenge to "expired" (refused here: it is not pending)
        "PTTL", "EVALSHA", "EVALSHA", "EVALSHA", "EVALSHA", "EVALSHA",
        # the phone's GET: the nonce epoch (GET; on a cluster the epoch and the nonce live in different
        # slots, so not one script as on a single Redis), its nonce (SET NX), the challenge
        "GET", "SET", "HGETALL",
        # the phone's answer: nonce epoch, nonce, RESPOND, PENALTY (an approval ends the run of denials)
        "GET", "SET", "EVALSHA", "EVALSHA",
        # the browser's poll: CLAIM
        "EVALSHA",
    ], sent
