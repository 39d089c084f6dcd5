"""In-process measurements with Django's test client against the benchmark database: the round-trip
counts of every endpoint (3) and a pyinstrument profile of complete logins (the hot paths).
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from .counting import login_total, push_login_counts
from .seed import Phone, pending_sessions


def _clients(phone: Phone) -> tuple[Any, Any]:
    from django.conf import settings
    from django.test import Client

    from django_pushmfa.testing.phone import DjangoClientTransport, PhoneClient

    session = pending_sessions([phone.user_id])[0]
    browser = Client()
    for name, value in session.cookies().items():
        browser.cookies[name] = value
    assert settings.SESSION_COOKIE_NAME in browser.cookies
    phone_client = PhoneClient(DjangoClientTransport(Client()), phone.key, phone.device_id)
    return browser, phone_client


def counts(phone: Phone, *, rounds: int = 3) -> dict[str, Any]:
    """Counts of one complete login per step; measured ``rounds`` times (the first warms connections
    and caches up and is not reported) and checked to be identical, i.e. deterministic."""
    results = []
    for _ in range(rounds):
        browser, phone_client = _clients(phone)
        results.append(push_login_counts(browser, phone_client, wait=0))
    reported = results[1:] or results
    steps = {name: step.as_dict() for name, step in reported[-1].items()}
    def shape(r: dict) -> dict:
        return {k: (s.sql, s.redis.commands) for k, s in r.items()}

    stable = all(shape(r) == shape(reported[0]) for r in reported)
    return {"steps": steps, "login": login_total(reported[-1]), "deterministic": stable}


def profile(phone: Phone, out_dir: Path, stem: str, *, logins: int) -> dict[str, Any]:
    """Profile ``logins`` complete logins in-process; writes ``<stem>-profile.txt`` and ``.html``."""
    from pyinstrument import Profiler

    pairs = [_clients(phone) for _ in range(logins)]
    # warm-up (imports, connections) outside the profile
    warm_browser, warm_phone = _clients(phone)
    push_login_counts(warm_browser, warm_phone)
    profiler = Profiler(interval=0.0005)
    started = time.perf_counter()
    profiler.start()
    for browser, phone_client in pairs:
        push_login_counts(browser, phone_client)
    profiler.stop()
    elapsed = time.perf_counter() - started
    text = profiler.output_text(unicode=True, color=False, show_all=False)
    (out_dir / f"{stem}-profile.txt").write_text(text)
    (out_dir / f"{stem}-profile.html").write_text(profiler.output_html())
    return {"logins": logins, "elapsed_s": round(elapsed, 3),
            "ms_per_login_in_process": round(elapsed / logins * 1000, 2),
            "text": f"{stem}-profile.txt", "html": f"{stem}-profile.html"}


def gc_pauses(phone: Phone, *, logins: int, rounds: int = 3) -> dict[str, Any]:
    """How long a full garbage collection stops the process, with the loaded site in the collector's
    reach and after ``gc.freeze()`` (example_project/gc_freeze.py), side by side in this process.

    Each way, ``logins`` complete logins first (what a serving process holds besides the site), then
    the median of ``rounds`` timed ``gc.collect()``. The process is unfrozen again at the end.
    """
    import gc
    import statistics

    def serve() -> None:
        for browser, phone_client in [_clients(phone) for _ in range(logins)]:
            push_login_counts(browser, phone_client)

    def full_collection_ms() -> float:
        times = []
        for _ in range(rounds):
            started = time.perf_counter()
            gc.collect()
            times.append(time.perf_counter() - started)
        return round(statistics.median(times) * 1000, 2)

    serve()
    tracked = len(gc.get_objects())
    unfrozen = full_collection_ms()
    gc.freeze()
    try:
        serve()  # what requests leave behind is what a full collection still walks
        frozen = full_collection_ms()
        left = len(gc.get_objects())
    finally:
        gc.unfreeze()
    return {"objects_tracked": tracked, "objects_after_freeze": left, "full_collection_ms": unfrozen,
            "full_collection_frozen_ms": frozen, "ratio": round(unfrozen / frozen, 1) if frozen else None}


def store_wake(n: int) -> dict[str, Any]:
    """The app's wake path alone, without HTTP or the login work an approved poll does: a thread
    blocks in ``store.wait()``; this thread resolves the challenge; the time until the waiter
    returns. The change travels as in production: the resolve script publishes it, Redis delivers
    it to this process's one pub/sub listener thread, which wakes the waiter."""
    import secrets
    import threading

    from django_pushmfa.push.store import get_store
    from django_pushmfa.push.store.waiters import hub

    from .seed import make_challenge
    from .stats import summary_ms

    store = get_store()
    latencies: list[float] = []
    errors = 0
    for i in range(n):
        challenge = make_challenge(str(30_000_000 + i), secrets.token_urlsafe(24), ttl=60)
        store.create(challenge)
        result: dict[str, Any] = {}
        registered = hub.count()

        def wait(cid: str = challenge.id, out: dict = result) -> None:
            out["challenge"] = store.wait(cid, 5)
            out["at"] = time.perf_counter()

        thread = threading.Thread(target=wait)
        thread.start()
        deadline = time.monotonic() + 2
        while hub.count() <= registered and time.monotonic() < deadline:
            time.sleep(0.0002)
        time.sleep(0.001)  # the waiter has read the challenge and blocks
        t0 = time.perf_counter()
        store.resolve(challenge.id, "pending", "approved", responded_at=time.time(), device_id="bench")
        thread.join(6)
        if result.get("challenge") is None or result["challenge"].status != "approved":
            errors += 1
            continue
        latencies.append(result["at"] - t0)
    return {"wake_ms": summary_ms(latencies), "errors": errors}
