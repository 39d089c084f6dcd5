"""Set up what the benchmark drives: a fresh database, users with paired phones, sessions, challenges.

Runs in the driver process with ``bench.settings`` (``django.setup()`` done by the caller). Sessions
and challenges are written directly (through Django's session engine and the app's challenge
store), so a scenario measures the MFA step and not the password hasher.
"""
from __future__ import annotations

import secrets
import string
import time
import uuid
from dataclasses import dataclass
from importlib import import_module
from typing import Any

from django.conf import settings

BENCH_PASSWORD = "bench-password-not-secret"


@dataclass
class Phone:
    user_id: str
    device_id: str
    key: Any  # django_pushmfa.testing.phone.PhoneKey


@dataclass
class BrowserSession:
    user_id: str
    session_key: str
    csrf_token: str
    binding: str | None = None

    def cookies(self) -> dict[str, str]:
        cookies = {settings.SESSION_COOKIE_NAME: self.session_key}
        if not settings.CSRF_USE_SESSIONS:
            cookies[settings.CSRF_COOKIE_NAME] = self.csrf_token
        return cookies


def recreate_database() -> None:
    """Drop and create the benchmark's own database, then migrate it."""
    import psycopg
    from django.core.management import call_command
    from django.db import connections

    db = settings.DATABASES["default"]
    connections.close_all()
    dsn = {"host": db["HOST"], "port": db["PORT"], "user": db["USER"], "dbname": "postgres"}
    if db.get("PASSWORD"):
        dsn["password"] = db["PASSWORD"]
    with psycopg.connect(**dsn, autocommit=True) as conn:
        name = db["NAME"]
        if not all(c.isalnum() or c == "_" for c in name):
            raise ValueError(f"unexpected database name {name!r}")
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    close_pool = getattr(connections["default"], "close_pool", None)
    if close_pool is not None:  # the pool's connections died with the old database
        close_pool()
    call_command("migrate", verbosity=0, interactive=False)


def redis_client():  # redis.Redis
    """The raw client of the cache the challenge store uses (db 13 in ``bench.settings``)."""
    from django_redis import get_redis_connection

    from django_pushmfa.app_settings import app_settings

    return get_redis_connection(app_settings.CACHE_ALIAS)


def flush_redis() -> None:
    """Empty the benchmark's Redis db (its own: nothing else uses db 13)."""
    redis_client().flushdb()


def create_users(count: int, start: int = 0) -> list[str]:
    """``count`` users sharing one password hash (hashing is not what is measured). Returns their pks."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password

    User = get_user_model()
    hashed = make_password(BENCH_PASSWORD)
    users = [User(username=f"bench{n}", email=f"bench{n}@example.com", password=hashed)
             for n in range(start, start + count)]
    created = User.objects.bulk_create(users, batch_size=2000)
    if created and created[0].pk is None:  # backends that do not return pks
        created = list(User.objects.filter(username__in=[u.username for u in users]).order_by("pk"))
    return [str(u.pk) for u in created]


def pair_phones(user_ids: list[str]) -> list[Phone]:
    """Give each user one active push device with a reference-client key (P-256), as pairing would."""
    from django_pushmfa.models import MFACredential, PushDevice
    from django_pushmfa.testing.phone import PhoneKey

    keys = [PhoneKey.generate() for _ in user_ids]
    creds = [MFACredential(user_id=uid, method=MFACredential.Method.PUSH, label="Push notification",
                           is_primary=True) for uid in user_ids]
    MFACredential.objects.bulk_create(creds, batch_size=2000)
    devices = [
        PushDevice(credential=cred, platform=PushDevice.Platform.FCM, push_token=secrets.token_urlsafe(32),
                   public_key=key.public_key_der(), key_type=PushDevice.KeyType.P256, name=f"Bench phone {i}")
        for i, (cred, key) in enumerate(zip(creds, keys, strict=True))
    ]
    PushDevice.objects.bulk_create(devices, batch_size=2000)
    return [Phone(uid, str(cred.pk), key) for uid, cred, key in zip(user_ids, creds, keys, strict=True)]


def _csrf_token() -> str:
    return "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(32))


def _save_sessions(datas: list[dict[str, Any]]) -> list[str]:
    """Store sessions through the configured engine; bulk for the database engine. Returns the keys."""
    engine = import_module(settings.SESSION_ENGINE)
    if settings.SESSION_ENGINE == "django.contrib.sessions.backends.db":
        from datetime import timedelta

        from django.contrib.sessions.models import Session
        from django.utils import timezone
        from django.utils.crypto import get_random_string

        encoder = engine.SessionStore()
        expire = timezone.now() + timedelta(seconds=settings.SESSION_COOKIE_AGE)
        rows = [Session(session_key=get_random_string(32, string.ascii_lowercase + string.digits),
                        session_data=encoder.encode(data), expire_date=expire) for data in datas]
        Session.objects.bulk_create(rows, batch_size=2000)
        return [row.session_key for row in rows]
    keys = []
    for data in datas:
        store = engine.SessionStore()
        store.update(data)
        store.create()
        keys.append(store.session_key)
    return keys


def pending_sessions(user_ids: list[str]) -> list[BrowserSession]:
    """Sessions right after the password step of each user: "MFA pending", with a browser binding."""
    from django.contrib.auth import get_user_model

    from django_pushmfa.internal import pending

    backend = settings.AUTHENTICATION_BACKENDS[0]
    now = time.time()
    # Bound to the password hash as pending.begin() binds it (the seeded users share one hash).
    users = get_user_model()._default_manager.filter(pk__in=set(user_ids)).only("pk", "password")
    pw = {str(u.pk): pending.password_binding(u) for u in users}
    sessions, datas = [], []
    for uid in user_ids:
        csrf = _csrf_token()
        binding = secrets.token_urlsafe(24)
        data: dict[str, Any] = {
            pending.BINDING_KEY: binding,
            pending.PENDING_KEY: {"user_id": uid, "backend": backend, "started_at": now, "next": "", "pw": pw[uid]},
        }
        if settings.CSRF_USE_SESSIONS:
            from django.middleware.csrf import CSRF_SESSION_KEY

            data[CSRF_SESSION_KEY] = csrf
        datas.append(data)
        sessions.append(BrowserSession(uid, "", csrf, binding))
    for session, key in zip(sessions, _save_sessions(datas), strict=True):
        session.session_key = key
    return sessions


def logged_in_sessions(user_ids: list[str]) -> list[BrowserSession]:
    """Fully logged-in sessions (for the bare DRF endpoint)."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model

    User = get_user_model()
    users = {str(u.pk): u for u in User.objects.filter(pk__in=user_ids)}
    backend = settings.AUTHENTICATION_BACKENDS[0]
    sessions, datas = [], []
    for uid in user_ids:
        csrf = _csrf_token()
        datas.append({SESSION_KEY: uid, BACKEND_SESSION_KEY: backend,
                      HASH_SESSION_KEY: users[uid].get_session_auth_hash()})
        sessions.append(BrowserSession(uid, "", csrf))
    for session, key in zip(sessions, _save_sessions(datas), strict=True):
        session.session_key = key
    return sessions


def make_challenge(user_id: str, binding: str, ttl: float) -> Any:
    """A pending challenge as ``start_push`` would create it (fixed number; the context of a browser)."""
    from django_pushmfa.push.store.base import Challenge

    now = time.time()
    return Challenge(
        id=str(uuid.uuid4()), user_id=user_id, binding=binding, display_number="47",
        choices=["23", "47", "81"], status="pending", created_at=now, expires_at=now + ttl,
        context={"ip": "127.0.0.1", "user_agent": "bench", "browser": "Firefox 128", "os": "Linux",
                 "location": None},
    )


def seed_pending_challenges(count: int, *, user_id_base: int = 10_000_000, ttl: float = 900,
                            threads: int = 8) -> float:
    """Put ``count`` pending challenges of ``count`` distinct (synthetic) users into the store.

    Through the store's own ``create``, so the keys are exactly what a real start writes. Returns
    the seconds it took.
    """
    from concurrent.futures import ThreadPoolExecutor

    from django_pushmfa.push.store import get_store

    store = get_store()
    started = time.perf_counter()

    def one(i: int) -> None:
        store.create(make_challenge(str(user_id_base + i), secrets.token_urlsafe(24), ttl))

    with ThreadPoolExecutor(threads) as pool:
        for _ in pool.map(one, range(count), chunksize=256):
            pass
    return time.perf_counter() - started
