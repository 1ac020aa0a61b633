"""`make bench` (web path): where the time of one POST /api/v1/assess goes, in-process.

The app is called directly as an ASGI application (no server, no sockets), so the figures
leave out HTTP parsing and the loopback; bench/web_load.py measures those. Three functions on
the request path are timed inside the running request (their names in backmice.web.assessing
are wrapped with a timer), so each figure includes what the rest of the request does to the
caches, as under load:

  read and validate         backmice.interop.cases.read_value on the body the web edge parsed
                            (the edge's one strict JSON parse is in the web layer);
  engine                    assess_patient, with the next-question ranking;
  JSON document             render.json_doc.to_json_bytes;
  the web layer             the rest: routing, middleware, parameters, the response;

next to the floor, a bare FastAPI endpoint answering a constant through FastAPI's own stack.
Figures are µs per request from the fastest of ROUNDS passes over the 60 cases of
tests/data/dev_cases.jsonl (steadier than a mean on a shared machine); printed, never asserted.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from fastapi import FastAPI  # noqa: E402
from fastapi.responses import Response  # noqa: E402

from backmice.config import Settings  # noqa: E402
from backmice.kb.loader import default_kb  # noqa: E402
from backmice.web import assessing  # noqa: E402
from backmice.web.app import create_app  # noqa: E402
from web_load import case_bodies  # noqa: E402  (bench/ is the script's folder)

ROUNDS = 30
PIECES = {"read_value": "read and validate", "assess_patient": "engine (with next questions)",
          "to_json_bytes": "JSON document"}
spent: Counter[str] = Counter()


def _timed(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    def timed(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter_ns()
        try:
            return fn(*args, **kwargs)
        finally:
            spent[name] += time.perf_counter_ns() - start

    return timed


async def _post(app: Any, body: bytes) -> None:
    messages = [{"type": "http.request", "body": body, "more_body": False}]
    answer: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop() if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        answer.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": "POST", "scheme": "http", "path": "/api/v1/assess",
             "raw_path": b"/api/v1/assess", "query_string": b"", "root_path": "",
             "headers": [(b"host", b"127.0.0.1:8000"), (b"user-agent", b"wrk"),
                         (b"content-type", b"application/json"),
                         (b"content-length", str(len(body)).encode())],
             "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000)}
    await app(scope, receive, send)
    assert answer[0]["status"] == 200, answer[0]


async def _fastest_pass(app: Any, bodies: list[bytes]) -> tuple[float, dict[str, float]]:
    """µs per request over the fastest pass, and the timed pieces' µs in that pass."""
    for body in bodies:
        await _post(app, body)
    best: tuple[float, dict[str, float]] = (float("inf"), {})
    for _ in range(ROUNDS):
        spent.clear()
        start = time.perf_counter_ns()
        for body in bodies:
            await _post(app, body)
        total = (time.perf_counter_ns() - start) / len(bodies) / 1000
        if total < best[0]:
            best = (total, {k: v / len(bodies) / 1000 for k, v in spent.items()})
    return best


async def _measure(bodies: list[bytes]) -> tuple[float, float, dict[str, float]]:
    kb = default_kb()
    app = create_app(Settings.load(data_dir=tempfile.mkdtemp(prefix="backmice-bench-")), kb=kb)
    async with app.router.lifespan_context(app):
        whole, pieces = await _fastest_pass(app, bodies)
    answers = [len(assessing.assess_bytes(kb, b).json_bytes()) for b in bodies]
    constant = b" " * round(sum(answers) / len(answers))
    bare = FastAPI()

    @bare.post("/api/v1/assess")
    async def answer() -> Response:
        return Response(constant, media_type="application/json")

    floor, _ = await _fastest_pass(bare, bodies)
    return floor, whole, pieces


def main() -> None:
    for name in PIECES:
        setattr(assessing, name, _timed(name, getattr(assessing, name)))
    floor, whole, pieces = asyncio.run(_measure(case_bodies()))
    print(f"\nPOST /api/v1/assess in-process (ASGI, no server): µs per request, fastest of "
          f"{ROUNDS} passes over 60 cases")
    rows = [("bare FastAPI endpoint (constant answer)", floor),
            *((label, pieces.get(name, 0.0)) for name, label in PIECES.items()),
            ("the web layer (the rest)", whole - sum(pieces.values())),
            ("whole request", whole)]
    for label, value in rows:
        print(f"{label:<44}{value:>9.1f}")


if __name__ == "__main__":
    main()
