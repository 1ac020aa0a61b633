"""The rate limit on writes anyone may make without logging in (saving an assessment, leaving
feedback): per client address, a bucket of ``per_minute`` writes that refills at that rate, so
bursts up to that many pass and a steady flood is answered 429 with ``Retry-After``.

One process keeps its own buckets (in memory, at most ``MAX_CLIENTS`` addresses, the least
recently seen dropped first); behind a proxy every client shares the proxy's address unless the
server is started with the proxy's forwarded-address handling.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from starlette.types import ASGIApp, Receive, Scope, Send

from backmice.web.errors import error_body, send_json

MAX_CLIENTS = 10_000


class TokenBuckets:
    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self.clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """0 when a write may go ahead now (and is counted), else the seconds to wait."""
        now = self.clock()
        with self._lock:
            tokens, then = self._buckets.pop(key, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - then) * self.rate)
            wait = 0.0 if tokens >= 1 else (1 - tokens) / self.rate
            self._buckets[key] = (tokens - 1 if wait == 0 else tokens, now)
            while len(self._buckets) > MAX_CLIENTS:
                self._buckets.popitem(last=False)
        return wait


class AnonymousWriteLimit:
    """429 for the ``writes`` (``"POST /path"``) beyond the bucket of the client's address."""

    def __init__(self, app: ASGIApp, writes: set[str], per_minute: int) -> None:
        self.app = app
        self.writes = writes
        self.buckets = TokenBuckets(per_minute) if per_minute > 0 else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (self.buckets is not None and scope["type"] == "http"
                and f"{scope['method']} {scope['path']}" in self.writes):
            client = scope.get("client")
            wait = self.buckets.take(client[0] if client else "(unknown)")
            if wait > 0:
                seconds = max(1, math.ceil(wait))
                await send_json(send, 429, error_body(
                    429, "too_many_requests", "too many writes without logging in from this "
                    f"address; try again in {seconds} s", None,
                    f"{int(self.buckets.capacity)} per minute per address"),
                    [(b"retry-after", str(seconds).encode())])
                return
        await self.app(scope, receive, send)
