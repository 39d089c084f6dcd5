"""Backend selection, the missing-extra install hint, the system check, and the simple backends."""
from __future__ import annotations

import io
import sys
import threading
import time

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from django_pushmfa.checks import check_push_backend_options, check_push_backends
from django_pushmfa.exceptions import MissingProviderLibrary, PushTemporaryError
from django_pushmfa.push.backends import apns, console, fcm, get_backend, locmem
from django_pushmfa.push.backends.base import BasePushBackend, PushMessage

LOCMEM = {"BACKEND": "django_pushmfa.push.backends.locmem.PushBackend"}
CONSOLE = {"BACKEND": "django_pushmfa.push.backends.console.PushBackend"}


def message(token="device-token-secretish", **overrides):
    fields = dict(device_token=token, platform="fcm", title="Login request", body="New login from here",
                  data={"type": "pushmfa.challenge", "challenge_id": "c-1"}, ttl=60, collapse_id="pushmfa-x")
    fields.update(overrides)
    return PushMessage(**fields)


# --- get_backend ----------------------------------------------------------------------------------
@override_settings(PUSHMFA_PUSH_BACKENDS={"fcm": LOCMEM, "apns": CONSOLE})
def test_get_backend_per_platform_and_cached():
    assert isinstance(get_backend("fcm"), locmem.PushBackend)
    assert isinstance(get_backend("apns"), console.PushBackend)
    assert get_backend("fcm") is get_backend("fcm")


def test_get_backend_follows_the_setting(settings):
    settings.PUSHMFA_PUSH_BACKENDS = {"fcm": LOCMEM}
    first = get_backend("fcm")
    settings.PUSHMFA_PUSH_BACKENDS = {"fcm": {**LOCMEM, "OPTIONS": {"MAX_WORKERS": 2}}}
    second = get_backend("fcm")
    assert second is not first and second.max_workers == 2
    # Mutating the dict in place is noticed too.
    settings.PUSHMFA_PUSH_BACKENDS["fcm"]["OPTIONS"]["MAX_WORKERS"] = 3
    assert get_backend("fcm").max_workers == 3


@pytest.mark.parametrize(
    "setting, text",
    [
        ({"fcm": LOCMEM}, "no BACKEND for platform 'apns'"),
        ({"apns": {"BACKEND": "no.such.module.Backend"}}, "PUSHMFA_PUSH_BACKENDS['apns']['BACKEND']: cannot import"),
        ({"apns": {"BACKEND": "django_pushmfa.models.PushDevice"}}, "not a BasePushBackend subclass"),
        ({"apns": {**LOCMEM, "OPTIONS": ["x"]}}, "['OPTIONS'] must be a dict"),
        (["fcm"], "must be a dict"),
    ],
)
def test_get_backend_errors_name_the_setting(settings, setting, text):
    settings.PUSHMFA_PUSH_BACKENDS = setting
    with pytest.raises(ImproperlyConfigured) as info:
        get_backend("apns")
    assert text in str(info.value)
    assert "PUSHMFA_PUSH_BACKENDS" in str(info.value)


# --- missing provider libraries -------------------------------------------------------------------
@pytest.mark.parametrize(
    "module, library, extra, backend_class, options",
    [
        ("pyfcm", "pyfcm", "fcm", fcm.PushBackend, {"CREDENTIALS": {"project_id": "p"}}),
        ("aioapns", "aioapns", "apns", apns.PushBackend, {"CLIENT_CERT": "/x.pem"}),
    ],
)
def test_missing_extra_install_hint(monkeypatch, settings, module, library, extra, backend_class, options):
    monkeypatch.setitem(sys.modules, module, None)  # makes "import <module>" raise ImportError

    with pytest.raises(MissingProviderLibrary) as info:
        backend_class(options)
    assert str(info.value) == (
        f"The {library!r} package is needed for this push backend. "
        f'Install it with: pip install "django-pushmfa[{extra}]"'
    )
    assert (info.value.library, info.value.extra) == (library, extra)

    path = f"{backend_class.__module__}.PushBackend"
    settings.PUSHMFA_PUSH_BACKENDS = {"fcm": LOCMEM, "apns": LOCMEM, extra: {"BACKEND": path, "OPTIONS": options}}
    [error] = check_push_backends()
    assert error.id == "pushmfa.E001"
    assert error.hint == f'pip install "django-pushmfa[{extra}]"'
    assert library in error.msg and f"PUSHMFA_PUSH_BACKENDS[{extra!r}]" in error.msg


# --- the system check -----------------------------------------------------------------------------
def test_check_passes_for_a_good_configuration(settings, tmp_path):
    settings.PUSHMFA_PUSH_BACKENDS = {"fcm": LOCMEM, "apns": CONSOLE}
    assert check_push_backends() == [] and check_push_backend_options() == []


def test_check_reports_bad_paths_and_bad_options(settings):
    settings.PUSHMFA_PUSH_BACKENDS = {
        "fcm": {"BACKEND": "django_pushmfa.push.backends.fcm.PushBackend", "OPTIONS": {}},
        "apns": {"BACKEND": "django_pushmfa.push.backends.nope.PushBackend"},
    }
    errors = check_push_backend_options() + check_push_backends()
    assert [e.id for e in errors] == ["pushmfa.E001", "pushmfa.E001"]
    assert "SERVICE_ACCOUNT_FILE" in errors[0].msg
    assert "cannot import 'django_pushmfa.push.backends.nope.PushBackend'" in errors[1].msg


def test_default_settings_pass_the_check():
    from django_pushmfa.app_settings import DEFAULTS

    with override_settings(PUSHMFA_PUSH_BACKENDS=DEFAULTS["PUSH_BACKENDS"]):
        assert check_push_backends() == [] and check_push_backend_options() == []


# --- console and locmem ---------------------------------------------------------------------------
def test_console_backend_prints_without_the_token():
    stream = io.StringIO()
    console.PushBackend({"STREAM": stream}).send(message())
    out = stream.getvalue()
    assert "Login request" in out and "New login from here" in out and '"challenge_id": "c-1"' in out
    assert "device-token-secretish" not in out
    assert message().token_hint in out


def test_message_repr_hides_the_token():
    assert "device-token-secretish" not in repr(message())


def test_locmem_outbox_is_bounded():
    backend = locmem.PushBackend()
    for i in range(locmem.MAX_OUTBOX + 5):
        backend.send(message(challenge_id=str(i)))
    assert len(locmem.outbox) == locmem.MAX_OUTBOX
    assert locmem.outbox[0].challenge_id == "5"


# --- the base send_many ---------------------------------------------------------------------------
class SlowBackend(BasePushBackend):
    def __init__(self, options=None):
        super().__init__(options)
        self.threads = set()
        self.release = threading.Event()

    def send(self, message):
        self.threads.add(threading.get_ident())
        if message.device_token == "slow":
            self.release.wait(10)
        elif message.device_token == "boom":
            raise PushTemporaryError("down", provider_code="UNAVAILABLE")


def test_send_many_is_concurrent_ordered_and_bounded():
    backend = SlowBackend({"TIMEOUT": 0.3, "MAX_WORKERS": 4})
    started = time.monotonic()
    try:
        results = backend.send_many([message("a"), message("slow"), message("boom"), message("b")])
    finally:
        backend.release.set()
        backend.close()
    assert time.monotonic() - started < 3
    assert [m.message.device_token for m in results] == ["a", "slow", "boom", "b"]
    assert [r.ok for r in results] == [True, False, False, True]
    assert results[1].error.provider_code == "timeout"
    assert results[2].error.provider_code == "UNAVAILABLE"
    assert len(backend.threads) > 1


def test_send_many_turns_a_crash_into_a_result():
    class Crashing(BasePushBackend):
        def send(self, message):
            raise KeyError("bug")

    [result] = Crashing().send_many([message()])
    assert not result.ok and result.error.provider_code == "crash"


def test_await_message_from_async_code():
    import asyncio

    async def phone():
        waiting = asyncio.ensure_future(locmem.await_message(lambda m: m.challenge_id == "c-9", timeout=5))
        await asyncio.sleep(0.05)
        assert not waiting.done()
        locmem.PushBackend().send(message(challenge_id="c-9"))
        return await waiting

    assert asyncio.run(phone()).challenge_id == "c-9"
