"""A development push backend that writes each message to the console (stdout) instead of sending it.

Like Django's console email backend. The device token is shown only as a short hash.
``OPTIONS``: ``{"STREAM": file-like}`` (default ``sys.stdout``).
"""
from __future__ import annotations

import json
import sys
import threading

from .base import BasePushBackend, PushMessage


class PushBackend(BasePushBackend):
    def __init__(self, options: dict | None = None) -> None:
        super().__init__(options)
        self._lock = threading.Lock()  # concurrent sends must not interleave their lines

    def send(self, message: PushMessage) -> None:
        stream = self.options.get("STREAM") or sys.stdout
        text = (
            f"[pushmfa push] platform={message.platform} token={message.token_hint} "
            f"priority={message.priority} ttl={message.ttl}s collapse_id={message.collapse_id}\n"
            f"  title: {message.title}\n"
            f"  body: {message.body}\n"
            f"  data: {json.dumps(message.data, sort_keys=True)}\n"
        )
        with self._lock:
            stream.write(text)
            stream.flush()
