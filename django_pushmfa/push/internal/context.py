"""The login context a phone shows beside a challenge: where and from what the login came, and who asks.

``build_context`` gives ``{"ip", "user_agent", "browser", "os", "location", "site_name", "purpose",
"service"}``: ``site_name`` is the adapter's ``get_site_name`` (``PUSHMFA_SITE_NAME``), ``purpose``
why the challenge exists (``"login"``, ``"reauthentication"``), ``service`` the application the user
signs in to when the site names one (``adapter.get_push_service``), else None. The IP comes from the
adapter (override it behind a proxy), the location from ``adapter.resolve_location`` ("unknown
location" when none is configured or it knows nothing), and the user agent is parsed by the small
parser below: it names the major browsers and operating systems, with their major version where the
string carries one, and says "Unknown" otherwise. It is a display aid, not a security decision.
"""
from __future__ import annotations

import re
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext

MAX_USER_AGENT = 512
MAX_LOCATION = 100
MAX_NAME = 100  # site and service names

#: Why a challenge exists; the phone words its question after it ("Confirm it's you").
PURPOSE_LOGIN = "login"
PURPOSE_REAUTHENTICATION = "reauthentication"
PURPOSES = (PURPOSE_LOGIN, PURPOSE_REAUTHENTICATION)

# Order matters: many browsers also claim to be Chrome, Safari or Mozilla.
_BROWSERS: list[tuple[str, re.Pattern[str]]] = [
    ("Edge", re.compile(r"\b(?:Edg|EdgA|EdgiOS|Edge)/(\d+)")),
    ("Opera", re.compile(r"\b(?:OPR|OPiOS|Opera)/(\d+)")),
    ("Samsung Internet", re.compile(r"\bSamsungBrowser/(\d+)")),
    ("Yandex Browser", re.compile(r"\bYaBrowser/(\d+)")),
    ("Vivaldi", re.compile(r"\bVivaldi/(\d+)")),
    ("Firefox", re.compile(r"\b(?:Firefox|FxiOS)/(\d+)")),
    ("Chromium", re.compile(r"\bChromium/(\d+)")),
    ("Chrome", re.compile(r"\b(?:Chrome|CriOS|HeadlessChrome)/(\d+)")),
    ("Internet Explorer", re.compile(r"\bMSIE (\d+)|\bTrident/.*\brv:(\d+)")),
]
_SAFARI = re.compile(r"\bVersion/(\d+)(?:\.\d+)*.*\bSafari/")
_WINDOWS = re.compile(r"\bWindows NT (\d+\.\d+)")
_WINDOWS_NAMES = {"10.0": "Windows", "6.3": "Windows 8.1", "6.2": "Windows 8", "6.1": "Windows 7"}
_ANDROID = re.compile(r"\bAndroid (\d+)")
_IOS = re.compile(r"\b(?:iPhone|CPU) OS (\d+)(?:_(\d+))?")
_MACOS = re.compile(r"\bMac OS X (\d+)[._](\d+)")


def parse_user_agent(user_agent: str) -> tuple[str, str]:
    """(browser, OS) for display, e.g. ("Chrome 120", "Windows"). Unknown parts read "Unknown"."""
    ua = user_agent or ""
    return _browser(ua), _os(ua)


def _browser(ua: str) -> str:
    for name, pattern in _BROWSERS:
        match = pattern.search(ua)
        if match:
            version = next((g for g in match.groups() if g), None)
            return f"{name} {version}" if version else name
    match = _SAFARI.search(ua)
    if match:
        return f"Safari {match.group(1)}"
    if "Safari/" in ua and "AppleWebKit/" in ua:
        return "Safari"
    return gettext("Unknown browser")


def _os(ua: str) -> str:
    if "Windows Phone" in ua:
        return "Windows Phone"
    match = _WINDOWS.search(ua)
    if match:
        return _WINDOWS_NAMES.get(match.group(1), "Windows")
    if "Windows" in ua:
        return "Windows"
    match = _ANDROID.search(ua)
    if match:
        return f"Android {match.group(1)}"
    if "Android" in ua:
        return "Android"
    match = _IOS.search(ua)
    if match and ("iPhone" in ua or "iPad" in ua or "iPod" in ua):
        name = "iPadOS" if "iPad" in ua else "iOS"
        return f"{name} {match.group(1)}" + (f".{match.group(2)}" if match.group(2) else "")
    if "CrOS" in ua:
        return "ChromeOS"
    match = _MACOS.search(ua)
    if match or "Macintosh" in ua:
        return "macOS"
    if "Linux" in ua or "X11" in ua:
        return "Linux"
    return gettext("Unknown OS")


def build_context(
    request: HttpRequest | None, user: Any = None, *, purpose: str = PURPOSE_LOGIN, service: str | None = None
) -> dict[str, Any]:
    """The context of a challenge ``request`` (the browser that asked for the push) starts for ``user``.

    ``service`` names the application the user signs in to; None asks ``adapter.get_push_service``.
    """
    from ...adapter import get_adapter

    if purpose not in PURPOSES:
        raise ValueError(f"purpose must be one of {PURPOSES}")
    adapter = get_adapter()
    ip = adapter.get_client_ip(request) if request is not None else None
    user_agent = _printable(request.META.get("HTTP_USER_AGENT", "") if request is not None else "", MAX_USER_AGENT)
    browser, os_name = parse_user_agent(user_agent)
    location = _printable(str(adapter.resolve_location(ip) or ""), MAX_LOCATION) or gettext("unknown location")
    if service is None:
        service = adapter.get_push_service(request, user)
    return {
        "ip": ip,
        "user_agent": user_agent,
        "browser": browser,
        "os": os_name,
        "location": location,
        "site_name": _printable(str(adapter.get_site_name(request) or ""), MAX_NAME),
        "purpose": purpose,
        "service": (_printable(str(service), MAX_NAME) or None) if service else None,
    }


def _printable(value: str, limit: int) -> str:
    """Drop control characters (NUL, newlines, bidi overrides are shown on a phone) and cap the length."""
    return "".join(ch for ch in value if ch.isprintable())[:limit]
