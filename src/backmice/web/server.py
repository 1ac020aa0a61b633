"""How the app is served: one uvicorn process with the settings of ``backmice serve``, or
several (``--workers N``, PostgreSQL only), each building its own app from the environment.

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


def worker_app() -> Any:
    """The app of one worker process (``--workers N``): settings from the BACKMICE_*
    environment the parent set, its own connection pool, opened when the worker starts."""
    from backmice.config import Settings
    from backmice.web.app import create_app

    app = create_app(Settings.load())
    gc.collect()
    gc.freeze()
    return app


def serve_workers(*, host: str, port: int, workers: int, log_level: str = "info") -> None:
    """Serve ``workers`` processes on one socket; uvicorn restarts a worker that dies."""
    import uvicorn

    # a worker builds its app (knowledge base, templates) before it answers the supervisor's
    # health check: on a busy machine that takes seconds, longer than uvicorn's 5 s default
    uvicorn.run("backmice.web.server:worker_app", factory=True, workers=workers, host=host,
                port=port, log_level=log_level, timeout_worker_healthcheck=60,
                **UVICORN_SETTINGS)
