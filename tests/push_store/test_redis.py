"""What only the Redis store has: command counts, key layout and TTLs, the pub/sub listener."""
from __future__ import annotations

import threading
import time

import pytest
from django.core.cache import caches
from django.db import connections
from django_redis import get_redis_connection

from django_pushmfa.exceptions import ChallengeStoreUnavailable
from django_pushmfa.push.internal import challenges
from django_pushmfa.push.store import get_store
from django_pushmfa.push.store.base import APPROVED, CONSUMED, PENDING, RateLimit, digest_number
from django_pushmfa.push.store.listener import Listener
from django_pushmfa.push.store.redis import RedisChallengeStore

pytestmark = pytest.mark.django_db


@pytest.fixture
def rstore(settings):
    settings.PUSHMFA_CACHE_ALIAS = "redis"
    settings.PUSHMFA_CHALLENGE_STORE = None  # picked from the cache backend
    store = get_store()
    assert isinstance(store, RedisChallengeStore)
    store.prepare_watch()  # the listener is up before commands are counted
    return store


@pytest.fixture
def client():
    return get_redis_connection("redis")


def in_own_connection(fn, *args):
    """``fn(*args)`` in a thread of the test's (the phone answering), closing that thread's connection."""
    try:
        fn(*args)
    finally:
        connections.close_all()


def test_a_whole_login_takes_four_store_commands(rstore, user, device, browser, redis_commands):
    request = browser()
    challenge = challenges.start_push(request, user)
    assert redis_commands.reset() == ["EVALSHA"]  # suspension + 2 rate limits + supersede + save
    challenges.get_for_device(device, challenge.id)
    assert redis_commands.reset() == ["HGETALL"]
    challenges.respond(device, challenge.id, "approve", challenge.display_number)
    assert redis_commands.reset() == ["EVALSHA"]  # owner + state + number digests compared + resolve
    seen = challenges.claim_for_browser(request, challenge.id)
    assert redis_commands.reset() == ["EVALSHA"]  # read + consume the approval
    assert (seen.status, seen.claimed) == (APPROVED, True)
    assert rstore.get(challenge.id).status == CONSUMED


def test_a_long_poll_login_reads_then_claims(rstore, user, device, browser, redis_commands):
    request = browser()
    challenge = challenges.start_push(request, user)
    challenges.respond(device, challenge.id, "approve", challenge.display_number)
    redis_commands.reset()
    seen = challenges.wait_for_browser(request, challenge.id, 5)
    assert redis_commands.reset() == ["HGETALL"]  # approved already: no wait, no ticket
    assert challenges.claim(seen).claimed
    assert redis_commands.reset() == ["EVALSHA"]
    again = challenges.claim(seen)  # once only: a second try asks the store, which refuses
    assert (again.status, again.claimed) == (CONSUMED, False)


@pytest.mark.django_db(transaction=True)  # the phone answers from another thread (its own connection)
def test_a_woken_long_poll_claims_as_the_newest_in_one_command(rstore, user, device, browser, redis_commands):
    """The poll that waited carries its ticket; the check that it is still its browser's newest poll
    is part of the claim's script (before: a GET of the counter, then the consume)."""
    request = browser()
    challenge = challenges.start_push(request, user)
    timer = threading.Timer(
        0.2, in_own_connection, args=(challenges.respond, device, challenge.id, "approve", challenge.display_number)
    )
    timer.start()
    seen = challenges.wait_for_browser(request, challenge.id, 5)
    timer.join()
    assert (seen.status, seen.poller) == (APPROVED, 1)
    redis_commands.reset()
    claimed = challenges.claim(seen)
    assert redis_commands.reset() == ["EVALSHA"]
    assert claimed.claimed and claimed.poller == 1


def test_a_challenge_stores_a_digest_of_its_number_not_a_second_copy(rstore, user, device, browser, client):
    import json

    challenge = challenges.start_push(browser(), user)
    static = json.loads(client.hget(rstore.ckey(challenge.id), "d"))
    assert static["h"] == digest_number(challenge.id, challenge.display_number)
    assert static["h"] != digest_number(challenge.id, str((int(challenge.display_number) + 1) % 100))


@pytest.mark.django_db(transaction=True)
def test_a_woken_long_poll_costs_one_read(rstore, user, device, browser, redis_commands):
    request = browser()
    challenge = challenges.start_push(request, user)
    redis_commands.reset()
    timer = threading.Timer(0.2, in_own_connection, args=(challenges.respond, device, challenge.id, "deny", None))
    timer.start()
    result = challenges.wait_for_browser(request, challenge.id, 10)
    timer.join()
    assert result.status == "denied"
    # 1 for the poll's read (the change itself arrives by pub/sub), 1 for its registration as the
    # browser's newest poll (issue 19: a reloaded page's orphaned poll never claims), 1 for the
    # phone's answer. An approval's claim checks the registration in its own script (no command more).
    assert sorted(redis_commands.reset()) == ["EVALSHA", "EVALSHA", "HGETALL"]


def test_other_operations_are_one_command(rstore, redis_commands):
    rstore.pending_for_user("1")
    rstore.hit("k", 10)
    rstore.suspension_remaining("1")
    rstore.lift_suspension("1")
    assert redis_commands.reset() == ["EVALSHA", "EVALSHA", "PTTL", "EVALSHA"]


def test_keys_carry_the_cache_prefix_and_expire_on_their_own(rstore, client, make_challenge, settings):
    settings.PUSHMFA_CHALLENGE_GRACE = 30
    challenge = make_challenge("7", ttl=120)
    rstore.create(challenge, limits=[RateLimit("user", "7", 5, 900)], suspension_of="7")
    prefix = settings.CACHES["redis"]["KEY_PREFIX"] + ":1:pushmfa:"
    # The nonce stores' epochs (seeded by tests/conftest.py for every cache alias sharing this Redis
    # database) are the one key that must outlive the rest.
    def is_epoch(key: bytes) -> bool:
        return key.decode().endswith(":pushmfa:nonce-epoch")

    keys = sorted(k.decode() for k in client.keys("*") if not is_epoch(k))
    assert keys == sorted([f"{prefix}c:{challenge.id}", f"{prefix}u:7", f"{prefix}rl:user:7"])
    ckey = rstore.ckey(challenge.id)
    assert 149_000 < client.pttl(ckey) <= 150_000  # window + grace
    assert 149_000 < client.pttl(f"{prefix}u:7") <= 150_000
    assert 899_000 < client.pttl(f"{prefix}rl:user:7") <= 900_000
    # An answer never shortens a key's life (expiry only moves forward) ...
    rstore.transition(challenge.id, PENDING, APPROVED)
    assert client.pttl(ckey) > 149_000
    # ... and extends it to the grace period when less is left.
    client.pexpire(ckey, 1000)
    rstore.transition(challenge.id, APPROVED, CONSUMED)
    assert 29_000 < client.pttl(ckey) <= 30_000
    # Nothing without a TTL.
    assert all(client.pttl(k) > 0 for k in client.keys("*") if not is_epoch(k))


def test_bytes_per_challenge(rstore, client, make_challenge):
    challenge = make_challenge(context={})
    challenge.context = {
        "ip": "2001:db8::1",
        "user_agent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/17.1 Safari/605.1.15",
        "browser": "Safari 17",
        "os": "macOS",
        "location": "Amsterdam, Netherlands",
    }
    rstore.create(challenge)
    used = client.memory_usage(rstore.ckey(challenge.id)) + client.memory_usage(rstore.key("u:1"))
    assert used < 1500  # about 940 bytes with Redis 7 (docs/challenges.md)


def test_prefix_isolates_sites(rstore, make_challenge, settings):
    settings.CACHES = {**settings.CACHES, "other": {**settings.CACHES["redis"], "KEY_PREFIX": "another-site"}}
    try:
        other = RedisChallengeStore("other")
        challenge = make_challenge()
        rstore.create(challenge)
        assert other.get(challenge.id) is None
        assert other.pending_for_user("1") == []
    finally:
        caches["other"].clear()


def _kill_listener_connections(client, db):
    killed = 0
    for info in client.client_list():
        if int(info.get("db", -1)) == db and int(info.get("sub", 0)) > 0:
            client.client_kill_filter(_id=info["id"])
            killed += 1
    return killed


def test_listener_survives_a_lost_connection_and_misses_nothing(rstore, client, make_challenge):
    challenge = make_challenge()
    rstore.create(challenge)
    db = client.connection_pool.connection_kwargs.get("db", 0)
    result = {}

    def wait():
        result["challenge"] = rstore.wait(challenge.id, 10)

    waiter = threading.Thread(target=wait)
    waiter.start()
    time.sleep(0.1)  # the waiter is registered and waiting (a head start, not a pass/fail timing)
    assert _kill_listener_connections(client, db) >= 1
    # The change is published while the listener is reconnecting: the message is lost, and the
    # resubscription must make the waiter re-read.
    rstore.transition(challenge.id, PENDING, APPROVED)
    waiter.join(10)
    assert result["challenge"].status == APPROVED
    listener = Listener.for_store(rstore)
    assert listener.ready.wait(5)
    # Later changes reach waiters again.
    second = make_challenge("2")
    rstore.create(second)
    timer = threading.Timer(0.1, rstore.transition, args=(second.id, PENDING, APPROVED))
    timer.start()
    started = time.monotonic()
    assert rstore.wait(second.id, 10).status == APPROVED
    assert time.monotonic() - started < 2
    timer.join()


def test_one_listener_thread_per_process(rstore):
    for _ in range(3):
        rstore.prepare_watch()
        RedisChallengeStore("redis").prepare_watch()
    names = [t.name for t in threading.enumerate() if t.name == "pushmfa-listener-redis"]
    assert names == ["pushmfa-listener-redis"]


def test_unreachable_redis_fails_closed(settings, make_challenge):
    settings.CACHES = {
        **settings.CACHES,
        "down": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2},
        },
    }
    store = RedisChallengeStore("down")
    challenge = make_challenge()
    for call in (
        lambda: store.create(challenge),
        lambda: store.get(challenge.id),
        lambda: store.transition(challenge.id, PENDING, APPROVED),
        lambda: store.pending_for_user("1"),
        lambda: store.hit("k", 1),
        lambda: store.suspension_remaining("1"),
    ):
        with pytest.raises(ChallengeStoreUnavailable):
            call()
