"""One-time hand-off of a value from a POST to the page it redirects to (Post/Redirect/Get).

A new API token's secret must be shown exactly once and never travel in a URL. The POST that
creates it keeps the secret here under a random handle and redirects to a page whose URL holds
only the handle; that page takes the secret out, so reloading it (or going back to it) shows
nothing and creates nothing. Values live in this process's memory for a few minutes, bound to
the user who made them; the app runs as one process (``backmice serve``).
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from typing import Any

LIFETIME_SECONDS = 300.0
MAX_WAITING = 1000  # beyond this the oldest are dropped: memory stays bounded


class OneTimeHandoff:
    def __init__(self, *, lifetime: float = LIFETIME_SECONDS) -> None:
        self._lifetime = lifetime
        self._waiting: OrderedDict[str, tuple[int, float, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, owner_id: int, value: Any) -> str:
        """Keep ``value`` for ``owner_id``; answer the handle to put in the redirect's URL."""
        handle = secrets.token_urlsafe(16)
        with self._lock:
            self._waiting[handle] = (owner_id, time.monotonic() + self._lifetime, value)
            while len(self._waiting) > MAX_WAITING:
                self._waiting.popitem(last=False)
        return handle

    def peek(self, owner_id: int, handle: str) -> Any | None:
        """What ``take`` would answer, leaving the value in place (for a HEAD request)."""
        with self._lock:
            entry = self._waiting.get(handle)
        if entry is None or entry[0] != owner_id:
            return None
        return entry[2] if entry[1] > time.monotonic() else None

    def take(self, owner_id: int, handle: str) -> Any | None:
        """The value once, to its owner, before it expires; None after that or to anyone else."""
        with self._lock:
            entry = self._waiting.get(handle)
            if entry is None or entry[0] != owner_id:
                return None
            del self._waiting[handle]
        return entry[2] if entry[1] > time.monotonic() else None
