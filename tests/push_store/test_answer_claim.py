"""The one-step store operations of a login, on both stores: a device's answer (``answer``: owner,
state and number checked with the move) and the browser's claiming read (``claim``: read + consume)."""
from __future__ import annotations

import threading
import time

import pytest

from django_pushmfa.push.store.base import (
    APPROVED,
    CONSUMED,
    DENIED,
    EXPIRED,
    PENDING,
    SuspensionPolicy,
    digest_number,
)


def _policy(**overrides):
    values = {"user_id": "1", "denial_limit": 3, "report_limit": 1, "window": 3600, "seconds": 600}
    return SuspensionPolicy(**{**values, **overrides})


def _answer(store, challenge, number=None, *, user_id="1", penalty="denial", policy=None):
    digest = digest_number(challenge.id, number) if number is not None else None
    return store.answer(
        challenge.id, user_id, number_digest=digest, penalty=penalty, suspension=policy or _policy(),
        responded_at=time.time(), device_id="dev-1",
    )


def test_digest_is_keyed_per_challenge_and_number():
    assert digest_number("a", "47") == digest_number("a", "47")
    assert digest_number("a", "47") != digest_number("a", "48")
    assert digest_number("a", "47") != digest_number("b", "47")
    assert "47" not in digest_number("a", "47")


def test_right_number_approves(store, make_challenge):
    challenge = make_challenge(number="47")
    store.create(challenge)
    result = _answer(store, challenge, "47")
    assert result.ok and result.suspended_until is None
    assert (result.challenge.status, result.challenge.device_id) == (APPROVED, "dev-1")
    assert store.get(challenge.id).status == APPROVED


def test_wrong_number_denies_for_good_and_counts_as_a_denial(store, make_challenge):
    policy = _policy(denial_limit=1)
    challenge = make_challenge(number="47")
    store.create(challenge)
    wrong = _answer(store, challenge, "23", policy=policy)
    assert wrong.ok and wrong.challenge.status == DENIED
    assert wrong.suspended_until is not None  # the one denial the policy allows suspended push
    right = _answer(store, challenge, "47", policy=policy)
    assert not right.ok and right.challenge.status == DENIED
    assert store.get(challenge.id).status == DENIED


def test_approval_ends_a_run_of_denials(store, make_challenge):
    for _ in range(2):
        denied = make_challenge()
        store.create(denied)
        assert _answer(store, denied).challenge.status == DENIED
    approved = make_challenge(number="81")
    store.create(approved)
    assert _answer(store, approved, "81").challenge.status == APPROVED
    for expected in (None, None):
        denied = make_challenge()
        store.create(denied)
        assert _answer(store, denied).suspended_until is expected
    denied = make_challenge()
    store.create(denied)
    assert _answer(store, denied).suspended_until is not None


def test_a_report_counts_as_a_report(store, make_challenge):
    challenge = make_challenge()
    store.create(challenge)
    result = _answer(store, challenge, penalty="report")
    assert result.ok and result.challenge.status == DENIED and result.suspended_until is not None


def test_another_users_or_unknown_challenge_is_not_found_and_unchanged(store, make_challenge):
    challenge = make_challenge("1", number="47")
    store.create(challenge)
    refused = _answer(store, challenge, "47", user_id="2", policy=_policy(user_id="2"))
    assert (refused.ok, refused.challenge) == (False, None)
    assert store.get(challenge.id).status == PENDING
    unknown = make_challenge()
    assert _answer(store, unknown, "47") == type(refused)(False, None)


def test_an_answered_or_lapsed_challenge_is_refused_as_it_reads(store, make_challenge):
    answered = make_challenge(number="47")
    store.create(answered)
    _answer(store, answered)
    late = _answer(store, answered, "47")
    assert not late.ok and late.challenge.status == DENIED
    lapsed = make_challenge("3", ttl=0.05, number="47")
    store.create(lapsed)
    time.sleep(0.1)
    result = _answer(store, lapsed, "47", user_id="3", policy=_policy(user_id="3"))
    assert not result.ok and result.challenge.status == EXPIRED and result.challenge.lapsed


def test_racing_answers_change_it_exactly_once(store, make_challenge):
    challenge = make_challenge(number="47")
    store.create(challenge)
    barrier = threading.Barrier(40)
    results = []

    def run(i):
        barrier.wait()
        results.append(_answer(store, challenge, "47" if i % 2 else "23"))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [r for r in results if r.ok]
    assert len(winners) == 1
    assert store.get(challenge.id).status == winners[0].challenge.status


def test_claim_checks_the_binding(store, make_challenge):
    challenge = make_challenge(binding="binding-1")
    store.create(challenge)
    store.transition(challenge.id, PENDING, APPROVED)
    assert store.claim(challenge.id, "binding-2") is None
    assert store.claim(challenge.id, "") is None
    assert store.get(challenge.id).status == APPROVED  # a foreign browser consumed nothing
    assert store.claim(make_challenge().id, "binding-1") is None  # unknown


def test_claim_reads_a_pending_challenge_without_changing_it(store, make_challenge):
    challenge = make_challenge()
    store.create(challenge)
    seen = store.claim(challenge.id, "binding-1")
    assert (seen.status, seen.claimed) == (PENDING, False)
    assert seen == challenge


def test_claim_consumes_an_approval_exactly_once(store, make_challenge):
    challenge = make_challenge()
    store.create(challenge)
    store.transition(challenge.id, PENDING, APPROVED, device_id="dev-1", responded_at=time.time())
    barrier = threading.Barrier(30)
    results = []

    def run():
        barrier.wait()
        results.append(store.claim(challenge.id, "binding-1"))

    threads = [threading.Thread(target=run) for _ in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    claimed = [r for r in results if r.claimed]
    assert len(claimed) == 1
    assert (claimed[0].status, claimed[0].device_id) == (APPROVED, "dev-1")
    assert {r.status for r in results if not r.claimed} == {CONSUMED}
    assert store.get(challenge.id).status == CONSUMED


def test_a_ticket_claims_only_while_it_is_the_newest(store, make_challenge):
    """A waiting poll's ticket (its count on the challenge's poll counter): the claim consumes the
    approval only while no newer poll of the browser registered, checked in the same step."""
    challenge = make_challenge()
    store.create(challenge)
    key = f"poller:{challenge.id}"
    older, _ = store.hit(key, 300)
    newer, _ = store.hit(key, 300)
    store.transition(challenge.id, PENDING, APPROVED, device_id="dev-1", responded_at=time.time())
    seen = store.claim(challenge.id, "binding-1", (key, older))
    assert (seen.status, seen.claimed) == (APPROVED, False)  # a newer poll claims it
    assert store.get(challenge.id).status == APPROVED
    assert store.claim(challenge.id, "binding-2", (key, newer)) is None  # still only the same browser
    claimed = store.claim(challenge.id, "binding-1", (key, newer))
    assert (claimed.status, claimed.claimed, claimed.device_id) == (APPROVED, True, "dev-1")
    assert store.get(challenge.id).status == CONSUMED


def test_claim_wakes_waiters(store, make_challenge):
    challenge = make_challenge()
    store.create(challenge)
    store.transition(challenge.id, PENDING, APPROVED)
    approved = store.get(challenge.id)
    with store.watch(challenge.id) as watcher:
        threading.Timer(0.05, store.claim, args=(challenge.id, "binding-1")).start()
        # The approval's own notification may still be in flight on the Redis pub/sub connection and
        # wake the watcher first (it reports "approved"); the claim's notification must follow.
        deadline = time.monotonic() + 5
        changed = watcher.wait(approved, 5)
        while changed is not None and changed.status == APPROVED and time.monotonic() < deadline:
            changed = watcher.wait(approved, deadline - time.monotonic())
    assert changed is not None and changed.status == CONSUMED


@pytest.mark.parametrize("status", [DENIED, EXPIRED])
def test_claim_leaves_other_states_alone(store, make_challenge, status):
    challenge = make_challenge()
    store.create(challenge)
    store.transition(challenge.id, PENDING, status)
    seen = store.claim(challenge.id, "binding-1")
    assert (seen.status, seen.claimed) == (status, False)
