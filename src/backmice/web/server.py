"""How the app is served: one uvicorn process with the settings of ``backmice serve``.

``bench/web_load.py`` serves its baseline with the same settings, so the two are compared on
equal terms. Measured on loopback at 32 connections (wrk), one worker:

- ``http="httptools"``, the C parser: uvicorn's fallback, h11, is pure Python and took about
  100 µs more CPU per request (a bare endpoint went from about 4,300 to 8,000 requests/s);
- ``loop="asyncio"``, not uvloop: with requests that keep the CPU busy for most of a
  millisecond, as an assessment does, uvloop served the 32 connections unevenly (p99 160 to
  250 ms at a p50 near 27 ms) where asyncio kept p99 within 1.5 times p50, for the same
  throughput;
- the objects alive before serving (the knowledge base, compiled templates, modules: about
  130,000) are frozen out of the cyclic garbage collector (``gc.freeze``). Otherwise each full
  collection, which allocation-heavy requests trigger every few seconds, walked them all and
  stopped the process for about 60 ms, the p99 of every route;
- no access log, as before (a formatted log line per request; a proxy in front of the app can
  keep one) and no ``Server`` header.
"""

from __future__ import annotations

import gc
from typing import Any

UVICORN_SETTINGS: dict[str, Any] = {
    "http": "httptools",
    "loop": "asyncio",
    "access_log": False,
    "server_header": False,
}


def serve(app: Any, *, host: str, port: int, log_level: str = "info") -> None:
    """Serve ``app`` until interrupted."""
    import uvicorn

    gc.collect()  # what is garbage now is not frozen
    gc.freeze()
    uvicorn.run(app, host=host, port=port, log_level=log_level, **UVICORN_SETTINGS)
