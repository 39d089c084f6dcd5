"""Test-only push backends that fail the way providers do (configured per test with OPTIONS)."""
from __future__ import annotations

from django_pushmfa.exceptions import PushConfigurationError, PushTemporaryError, PushTokenUnregistered
from django_pushmfa.push.backends import locmem
from django_pushmfa.push.backends.base import BasePushBackend, PushMessage

ERRORS = {
    "unregistered": lambda: PushTokenUnregistered("gone", provider_code="UNREGISTERED", status=404),
    "temporary": lambda: PushTemporaryError("down", provider_code="UNAVAILABLE", status=503),
    "config": lambda: PushConfigurationError("bad key", provider_code="THIRD_PARTY_AUTH_ERROR", status=401),
    "crash": lambda: RuntimeError("a bug in a backend"),
}


class FailingBackend(BasePushBackend):
    """Raises OPTIONS["ERROR"] for tokens listed in OPTIONS["TOKENS"] (all when absent); else locmem."""

    def send(self, message: PushMessage) -> None:
        tokens = self.options.get("TOKENS")
        if tokens is None or message.device_token in tokens:
            raise ERRORS[self.options["ERROR"]]()
        locmem.PushBackend().send(message)
