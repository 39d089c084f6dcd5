"""Push backends, one per provider, chosen per platform in ``PUSHMFA_PUSH_BACKENDS``::

    PUSHMFA_PUSH_BACKENDS = {
        "fcm": {"BACKEND": "django_pushmfa.push.backends.fcm.PushBackend", "OPTIONS": {...}},
        "apns": {"BACKEND": "django_pushmfa.push.backends.apns.PushBackend", "OPTIONS": {...}},
    }

:func:`get_backend` returns one instance per platform, reused while the setting keeps its value
(backends hold connections, token caches and thread pools worth keeping).
"""
from __future__ import annotations

import copy
import threading
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.module_loading import import_string

from ...app_settings import app_settings
from .base import BasePushBackend, PushMessage, SendResult

__all__ = ["BasePushBackend", "PushMessage", "SendResult", "get_backend", "load_backend_class", "reset_backends"]

_SETTING = "PUSHMFA_PUSH_BACKENDS"
_lock = threading.Lock()
_cache: dict[str, tuple[Any, BasePushBackend]] = {}


def _platform_config(platform: str) -> dict[str, Any]:
    backends = app_settings.PUSH_BACKENDS
    if not isinstance(backends, dict):
        raise ImproperlyConfigured(f"{_SETTING} must be a dict of platform -> {{'BACKEND': ..., 'OPTIONS': ...}}.")
    config = backends.get(platform)
    if not isinstance(config, dict) or not config.get("BACKEND"):
        raise ImproperlyConfigured(f"{_SETTING} has no BACKEND for platform {platform!r}.")
    options = config.get("OPTIONS") or {}
    if not isinstance(options, dict):
        raise ImproperlyConfigured(f"{_SETTING}[{platform!r}]['OPTIONS'] must be a dict.")
    return config


def load_backend_class(platform: str) -> type[BasePushBackend]:
    """Import the backend class configured for ``platform``; ImproperlyConfigured names the setting."""
    path = _platform_config(platform)["BACKEND"]
    try:
        backend_class = import_string(path)
    except ImportError as exc:
        raise ImproperlyConfigured(f"{_SETTING}[{platform!r}]['BACKEND']: cannot import {path!r}: {exc}") from exc
    if not (isinstance(backend_class, type) and issubclass(backend_class, BasePushBackend)):
        raise ImproperlyConfigured(f"{_SETTING}[{platform!r}]['BACKEND']: {path!r} is not a BasePushBackend subclass.")
    return backend_class


def get_backend(platform: str) -> BasePushBackend:
    """The backend instance for ``platform`` ("fcm" / "apns").

    Raises ImproperlyConfigured (unknown platform, bad path) or the backend's own
    ``PushConfigurationError`` / ``MissingProviderLibrary`` for bad options or a missing extra.
    """
    config = _platform_config(platform)
    with _lock:
        cached = _cache.get(platform)
        if cached is not None and cached[0] == config:
            return cached[1]
        backend = load_backend_class(platform)(config.get("OPTIONS") or {})
        _cache[platform] = (_snapshot(config), backend)
    if cached is not None:
        cached[1].close()
    return backend


def _snapshot(config: dict[str, Any]) -> Any:
    # A deep copy, so that mutating the settings dict in place is noticed too; options holding
    # objects that cannot be copied (a stream, a credentials object) are compared as they are.
    try:
        return copy.deepcopy(config)
    except Exception:
        return dict(config)


def reset_backends() -> None:
    """Close and forget every cached backend (the next :func:`get_backend` builds new ones)."""
    with _lock:
        backends = [backend for _config, backend in _cache.values()]
        _cache.clear()
    for backend in backends:
        backend.close()


@receiver(setting_changed)
def _setting_changed(*, setting: str, **kwargs: Any) -> None:
    if setting in (_SETTING, "PUSHMFA_PUSH_TIMEOUT"):
        reset_backends()
