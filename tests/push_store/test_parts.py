"""Number generation, the user-agent parser, the login context and the system checks."""
from __future__ import annotations

from collections import Counter

import pytest
from django.test import RequestFactory, override_settings

from django_pushmfa.checks import check_challenge_store
from django_pushmfa.push.internal import numbers
from django_pushmfa.push.internal.context import build_context, parse_user_agent


# --- numbers ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("digits", [2, 3, 4, 5, 6])
def test_numbers_have_the_configured_digits(digits):
    for _ in range(200):
        number, choices = numbers.generate(digits=digits, mode="choices", choices=4)
        assert len(number) == digits and number.isdigit() and number[0] != "0"
        assert len(choices) == 4 and len(set(choices)) == 4 and number in choices
        assert all(len(c) == digits and c.isdigit() for c in choices)


def test_entry_mode_has_no_choices():
    number, choices = numbers.generate(digits=2, mode="entry")
    assert choices is None and 10 <= int(number) <= 99


def test_defaults_come_from_settings(settings):
    number, choices = numbers.generate()
    assert len(number) == 2 and len(choices) == 3
    settings.PUSHMFA_NUMBER_CHOICES = 5
    assert len(numbers.generate()[1]) == 5


def test_numbers_cover_the_space_and_positions_are_uniform():
    seen = set()
    positions = Counter()
    for _ in range(4000):
        number, choices = numbers.generate(digits=2, mode="choices", choices=3)
        seen.add(number)
        positions[choices.index(number)] += 1
    assert seen == {str(n) for n in range(10, 100)}
    # 4000 draws over 3 slots: each far from 0 and from all (a broken shuffle puts it in one place).
    assert all(1000 < positions[i] < 1700 for i in range(3))


def test_all_numbers_as_choices_when_the_space_is_small():
    number, choices = numbers.generate(digits=2, mode="choices", choices=90)
    assert sorted(choices) == [str(n) for n in range(10, 100)]


@pytest.mark.parametrize("kwargs", [{"digits": 1}, {"digits": 7}, {"mode": "swipe"}, {"choices": 1}, {"choices": 91}])
def test_bad_number_settings_are_refused(kwargs):
    with pytest.raises(ValueError):
        numbers.generate(**{"digits": 2, "mode": "choices", "choices": 3, **kwargs})


def test_numbers_come_from_secrets(monkeypatch):
    import random

    monkeypatch.setattr(random, "randint", lambda *a: pytest.fail("random is not for secrets"))
    monkeypatch.setattr(random, "shuffle", lambda *a: pytest.fail("random is not for secrets"))
    calls = []
    real = numbers.secrets.randbelow
    monkeypatch.setattr(numbers.secrets, "randbelow", lambda n: calls.append(n) or real(n))
    numbers.generate(digits=2, mode="choices", choices=3)
    assert 90 in calls


# --- user agents -----------------------------------------------------------------------------------
UAS = [
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 "
     "Safari/537.36", "Chrome 124", "Windows"),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 "
     "Safari/537.36 Edg/124.0.2478.51", "Edge 124", "Windows"),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 "
     "Safari/605.1.15", "Safari 17", "macOS"),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 14.4; rv:125.0) Gecko/20100101 Firefox/125.0", "Firefox 125", "macOS"),
    ("Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0", "Firefox 128", "Linux"),
    ("Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/115.0", "Firefox 115", "Linux"),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Version/17.4 Mobile/15E148 Safari/604.1", "Safari 17", "iOS 17.4"),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "CriOS/124.0.6367.88 Mobile/15E148 Safari/604.1", "Chrome 124", "iOS 17.4"),
    ("Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 "
     "Mobile/15E148 Safari/604.1", "Safari 16", "iPadOS 16.6"),
    ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.82 "
     "Mobile Safari/537.36", "Chrome 124", "Android 14"),
    ("Mozilla/5.0 (Linux; Android 13; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/24.0 "
     "Chrome/117.0.0.0 Mobile Safari/537.36", "Samsung Internet 24", "Android 13"),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 "
     "Safari/537.36 OPR/110.0.0.0", "Opera 110", "Windows"),
    ("Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 "
     "Safari/537.36", "Chrome 124", "ChromeOS"),
    ("Mozilla/5.0 (Windows NT 6.1; Trident/7.0; rv:11.0) like Gecko", "Internet Explorer 11", "Windows 7"),
    ("curl/8.5.0", "Unknown browser", "Unknown OS"),
    ("", "Unknown browser", "Unknown OS"),
]


@pytest.mark.parametrize(("ua", "browser", "os_name"), UAS)
def test_user_agent_parser(ua, browser, os_name):
    assert parse_user_agent(ua) == (browser, os_name)


def test_context_from_the_request(settings):
    request = RequestFactory().get("/", REMOTE_ADDR="192.0.2.44", HTTP_USER_AGENT="x" * 2000)
    context = build_context(request)
    assert context == {
        "ip": "192.0.2.44",
        "user_agent": "x" * 512,
        "browser": "Unknown browser",
        "os": "Unknown OS",
        "location": "unknown location",
        "site_name": "testserver",
        "purpose": "login",
        "service": None,
    }
    settings.PUSHMFA_LOCATION_RESOLVER = "tests.push_store.test_parts.fake_resolver"
    assert build_context(request)["location"] == "Amsterdam, NL (192.0.2.44)"


def test_context_drops_control_characters():
    request = RequestFactory().get("/", HTTP_USER_AGENT="Mozilla/5.0\x00evil\u202e\nFirefox/128.0")
    assert build_context(request)["user_agent"] == "Mozilla/5.0evilFirefox/128.0"


def fake_resolver(ip):
    return f"Amsterdam, NL ({ip})"


# --- system checks ---------------------------------------------------------------------------------
def _ids(messages):
    return [m.id for m in messages]


def store_checks():
    """check_challenge_store() without W013 (the number matching guidance, tested in tests/hardening)."""
    return [m for m in check_challenge_store() if m.id != "pushmfa.W013"]


def test_w001_process_local_cache_outside_debug(settings):
    settings.DEBUG = False
    settings.PUSHMFA_CACHE_ALIAS = "locmem"
    settings.PUSHMFA_CHALLENGE_STORE = None
    assert _ids(store_checks()) == ["pushmfa.W001"]
    assert "won't be shared between workers" in store_checks()[0].msg
    settings.DEBUG = True
    assert store_checks() == []
    settings.DEBUG = False
    settings.PUSHMFA_CACHE_ALIAS = "redis"
    assert store_checks() == []
    with override_settings(CACHES={**settings.CACHES, "files": {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache", "LOCATION": "/tmp/pushmfa-check"}}):
        settings.PUSHMFA_CACHE_ALIAS = "files"
        assert _ids(store_checks()) == ["pushmfa.W001"]


@pytest.mark.parametrize(
    "overrides",
    [
        {"PUSHMFA_NUMBER_DIGITS": 1},
        {"PUSHMFA_NUMBER_DIGITS": 7},
        {"PUSHMFA_NUMBER_DIGITS": "2"},
        {"PUSHMFA_NUMBER_CHOICES": 1},
        {"PUSHMFA_NUMBER_CHOICES": 91},
        {"PUSHMFA_NUMBER_MODE": "swipe"},
    ],
)
def test_e002_bad_number_matching(settings, overrides):
    settings.PUSHMFA_CACHE_ALIAS = "redis"
    for name, value in overrides.items():
        setattr(settings, name, value)
    assert _ids(store_checks()) == ["pushmfa.E002"]


def test_e002_silent_on_defaults_and_entry_mode(settings):
    settings.PUSHMFA_CACHE_ALIAS = "redis"
    assert store_checks() == []
    settings.PUSHMFA_NUMBER_MODE = "entry"
    settings.PUSHMFA_NUMBER_DIGITS = 6
    assert store_checks() == []
