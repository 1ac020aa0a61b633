"""`make bench` (web path): where the time of one POST /api/v1/assess goes, in-process.

The app is called directly as an ASGI application (no server, no sockets), so the figures
leave out HTTP parsing and the loopback; bench/web_load.py measures those. Each figure is the
CPU time per request (the best of ROUNDS passes over the 60 cases of tests/data/dev_cases.jsonl,
which is steadier than wall time on a shared machine):

  bare FastAPI endpoint     a constant answer through FastAPI's own stack (the floor);
  read and validate         backmice.interop.cases.read_document on the body text;
  engine                    assess_patient, with the next-question ranking;
  JSON document             render.json_doc.to_json_bytes;
  whole request             the app from the first ASGI message to the last.

"whole request" minus the three pieces is what the web layer adds (routing, middleware,
dependencies, the response); printed, never asserted.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from fastapi import FastAPI  # noqa: E402
from fastapi.responses import Response  # noqa: E402

from backmice.config import Settings  # noqa: E402
from backmice.engine import assess_patient  # noqa: E402
from backmice.interop.cases import read_document  # noqa: E402
from backmice.kb.loader import default_kb  # noqa: E402
from backmice.render.json_doc import to_json_bytes  # noqa: E402
from backmice.web.app import create_app  # noqa: E402

ROUNDS = 20


def _bodies() -> list[bytes]:
    bodies = []
    for line in (ROOT / "tests" / "data" / "dev_cases.jsonl").read_text().splitlines():
        case = json.loads(line)
        doc = {"id": case["id"], "findings": case["findings"],
               "later_tests": case.get("later_tests")}
        bodies.append(json.dumps(doc, ensure_ascii=False).encode())
    return bodies


def _per_item(fn: Callable[[Any], Any], items: list[Any]) -> float:
    """CPU µs per item: the best of ROUNDS passes."""
    for item in items:
        fn(item)
    best = float("inf")
    for _ in range(ROUNDS):
        start = time.process_time_ns()
        for item in items:
            fn(item)
        best = min(best, time.process_time_ns() - start)
    return best / len(items) / 1000


async def _per_request(app: Any, bodies: list[bytes]) -> float:
    """CPU µs per POST /api/v1/assess through ``app``, called as ASGI."""

    async def post(body: bytes) -> None:
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

    for body in bodies:
        await post(body)
    best = float("inf")
    for _ in range(ROUNDS):
        start = time.process_time_ns()
        for body in bodies:
            await post(body)
        best = min(best, time.process_time_ns() - start)
    return best / len(bodies) / 1000


async def _apps(kb: Any, bodies: list[bytes], constant: bytes) -> tuple[float, float]:
    bare = FastAPI()

    @bare.post("/api/v1/assess")
    async def answer() -> Response:
        return Response(constant, media_type="application/json")

    app = create_app(Settings.load(data_dir=tempfile.mkdtemp(prefix="backmice-bench-")), kb=kb)
    async with app.router.lifespan_context(app):
        return await _per_request(bare, bodies), await _per_request(app, bodies)


def main() -> None:
    kb = default_kb()
    bodies = _bodies()
    texts = [b.decode() for b in bodies]
    patients = [read_document(t)[0] for t in texts]
    results = [assess_patient(kb, p) for p in patients]
    sizes = [len(to_json_bytes(r)) for r in results]
    constant = b" " * round(sum(sizes) / len(sizes))
    figures = {"read and validate": _per_item(read_document, texts),
               "engine (with next questions)": _per_item(lambda p: assess_patient(kb, p),
                                                         patients),
               "JSON document": _per_item(to_json_bytes, results)}
    bare, whole = asyncio.run(_apps(kb, bodies, constant))
    web = whole - sum(figures.values())
    print(f"\nPOST /api/v1/assess in-process (ASGI, no server): CPU µs per request, best of "
          f"{ROUNDS} passes over {len(bodies)} cases")
    rows = [("bare FastAPI endpoint (constant answer)", bare), *figures.items(),
            ("the web layer (the rest)", web), ("whole request", whole)]
    for label, value in rows:
        print(f"{label:<44}{value:>9.1f}")


if __name__ == "__main__":
    main()
