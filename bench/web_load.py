"""`make bench` (web load): load on loopback against one uvicorn worker, next to a bare baseline.

Measured in the same run, each for DURATION seconds at 32 concurrent connections with wrk:
  1. POST /api/v1/assess with the example back-mouse case (the real app, SQLite in a temp folder);
  2. the baseline: a bare FastAPI endpoint that answers a constant of the same size;
  3. the write path: POST /api/v1/feedback (one SQLite write per request, serial writer).
Prints requests/s, p50 and p99 latency, and the throughput ratio to the baseline. wrk comes
from Debian's packages (apt-get install wrk); without it this benchmark says so and stops.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DURATION = int(os.environ.get("BENCH_HTTP_SECONDS", "10"))
CONNECTIONS = 32

BASELINE_APP = '''
import sys
from fastapi import FastAPI
from fastapi.responses import Response
body = open(sys.argv[1], "rb").read()
app = FastAPI()

@app.post("/api/v1/assess")
async def constant() -> Response:
    return Response(body, media_type="application/json")
'''

REAL_APP = '''
import sys
from backmice.config import Settings
from backmice.web.app import create_app
app = create_app(Settings.load(data_dir=sys.argv[1]))
'''

LUA = '''
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = io.open(os.getenv("BODY_FILE"), "rb"):read("*a")
'''


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(code: str, arg: str, folder: Path) -> tuple[subprocess.Popen, int]:
    script = folder / f"app_{abs(hash(code))}.py"
    script.write_text(code)
    port = _free_port()
    runner = (f"import sys, uvicorn; sys.argv = [{str(script)!r}, {arg!r}]; "
              f"ns = {{}}; exec(open({str(script)!r}).read(), ns); "
              f"uvicorn.run(ns['app'], host='127.0.0.1', port={port}, log_level='warning', "
              f"access_log=False)")
    proc = subprocess.Popen([sys.executable, "-c", runner], cwd=ROOT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, port
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("bench/web_load: the server did not start")


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def _wrk(url: str, body_file: Path, lua: Path) -> dict[str, float]:
    out = subprocess.run(["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{DURATION}s", "--latency",
                          "-s", str(lua), url], capture_output=True, text=True, check=True,
                         env={**os.environ, "BODY_FILE": str(body_file)}).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    lat = {p: _ms(v, u) for p, v, u in re.findall(r"\s(50|99)%\s+([\d.]+)(us|ms|s)\b", out)}
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": rps, "p50": lat["50"], "p99": lat["99"],
            "errors": float(non2xx.group(1)) if non2xx else 0.0}


def main() -> None:
    if shutil.which("wrk") is None:
        print("bench/web_load: wrk is not installed (apt-get install wrk); HTTP figures skipped")
        return
    folder = Path(tempfile.mkdtemp(prefix="backmice-bench-http-"))
    try:
        case = (ROOT / "examples" / "back_mouse.json").read_bytes()
        case_file = folder / "case.json"
        case_file.write_bytes(case)
        lua = folder / "post.lua"
        lua.write_text(LUA)
        feedback_file = folder / "feedback.json"
        feedback_file.write_text(json.dumps({"page": "lipoma", "kind": "helpful",
                                             "helpful": True}))

        real, real_port = _serve(REAL_APP, str(folder / "data"), folder)
        try:
            import httpx

            answer = httpx.post(f"http://127.0.0.1:{real_port}/api/v1/assess", content=case)
            answer.raise_for_status()
            constant = folder / "constant.json"
            constant.write_bytes(answer.content)
            results = {"assess": _wrk(f"http://127.0.0.1:{real_port}/api/v1/assess",
                                      case_file, lua)}
            results["feedback"] = _wrk(f"http://127.0.0.1:{real_port}/api/v1/feedback",
                                       feedback_file, lua)
        finally:
            real.terminate()
            real.wait(10)
        base, base_port = _serve(BASELINE_APP, str(constant), folder)
        try:
            results["baseline"] = _wrk(f"http://127.0.0.1:{base_port}/api/v1/assess",
                                       case_file, lua)
        finally:
            base.terminate()
            base.wait(10)
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    size = len(answer.content)
    print(f"\nHTTP on loopback: one uvicorn worker, wrk -c{CONNECTIONS}, {DURATION} s each; "
          f"response {size:,} bytes")
    print(f"{'endpoint':<44}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'vs baseline':>13}")
    rows = [("bare FastAPI constant (baseline)", "baseline"),
            ("POST /api/v1/assess", "assess"),
            ("POST /api/v1/feedback (one SQLite write)", "feedback")]
    for label, key in rows:
        r = results[key]
        ratio = r["rps"] / results["baseline"]["rps"]
        errors = f"  ({int(r['errors'])} non-2xx)" if r["errors"] else ""
        print(f"{label:<44}{r['rps']:>10,.0f}{r['p50']:>9.2f}{r['p99']:>9.2f}{ratio:>12.2f}x"
              f"{errors}")


if __name__ == "__main__":
    main()
