"""`make bench` (web load): load on loopback against one server process, next to a bare baseline.

Measured in the same run, each for DURATION seconds at 32 concurrent connections with wrk:
  1. POST /api/v1/assess on the real app, started as `backmice serve` (SQLite in a temp folder).
     wrk cycles through the 60 cases of tests/data/dev_cases.jsonl in the case format (findings
     and later tests), so consecutive requests differ and every answer is computed;
  2. the baseline: a bare FastAPI endpoint that answers a constant of the mean answer size, served
     with the same uvicorn settings as `backmice serve` (backmice.web.server) and sent the same
     request bodies. Two forms of "a constant": the bytes of the document (the floor: no
     serialising at all, the ratio the issue's aim is read against here), and the document as
     a Python dict returned the way a FastAPI endpoint usually returns data (FastAPI encodes it
     to JSON on every request), shown for reference;
  3. the write path: POST /api/v1/feedback (one SQLite write per request, serial writer).
Prints requests/s, p50 and p99 latency, the throughput ratio to the baseline, and the server
process's CPU time per request, all its threads included (steadier than the rest when other
work shares the machine). wrk comes from Debian's packages (apt-get install wrk); without it
this benchmark says so and stops.
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
import json
import sys
from fastapi import FastAPI
from fastapi.responses import Response
from backmice.web.server import serve
body = open(sys.argv[1], "rb").read()
app = FastAPI()

document = json.loads(body)

@app.post("/api/v1/assess")
async def constant() -> Response:
    return Response(body, media_type="application/json")

@app.post("/api/v1/assess-dict")
async def constant_dict() -> dict:
    return document

serve(app, host="127.0.0.1", port=int(sys.argv[2]))
'''

REAL_APP = "from backmice.cli import main; main()"  # argv: serve --port ... (as `backmice serve`)

# Each wrk thread posts the bodies of BODIES_FILE (one JSON document a line) in turn.
LUA = '''
local bodies = {}
for line in io.lines(os.getenv("BODIES_FILE")) do bodies[#bodies + 1] = line end
local i = 0
request = function()
  i = i % #bodies + 1
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, bodies[i])
end
'''


def case_bodies() -> list[bytes]:
    """The development cases in the case format: id, first-visit findings and later tests."""
    bodies = []
    for line in (ROOT / "tests" / "data" / "dev_cases.jsonl").read_text().splitlines():
        case = json.loads(line)
        doc = {"id": case["id"], "findings": case["findings"],
               "later_tests": case.get("later_tests")}
        bodies.append(json.dumps(doc, ensure_ascii=False).encode())
    return bodies


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(args: list[str], folder: Path, name: str) -> tuple[subprocess.Popen, int]:
    """Start ``python ARGS`` (``{port}`` in ARGS replaced by a free port); wait until it listens."""
    port = _free_port()
    log = (folder / f"{name}.log").open("w")
    proc = subprocess.Popen([sys.executable, *(a.replace("{port}", str(port)) for a in args)],
                            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, port
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"bench/web_load: the {name} server did not start:\n"
                     + (folder / f"{name}.log").read_text())


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    proc.wait(10)


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc); NaN elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _wrk(url: str, bodies_file: Path, lua: Path, server: subprocess.Popen) -> dict[str, float]:
    before = _cpu_seconds(server.pid)
    out = subprocess.run(["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{DURATION}s", "--latency",
                          "-s", str(lua), url], capture_output=True, text=True, check=True,
                         env={**os.environ, "BODIES_FILE": str(bodies_file)}).stdout
    cpu = _cpu_seconds(server.pid) - before
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    lat = {p: _ms(v, u) for p, v, u in re.findall(r"\s(50|99)%\s+([\d.]+)(us|ms|s)\b", out)}
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": rps, "p50": lat["50"], "p99": lat["99"], "cpu_us": cpu / requests * 1e6,
            "errors": float(non2xx.group(1)) if non2xx else 0.0}


def main() -> None:
    if shutil.which("wrk") is None:
        print("bench/web_load: wrk is not installed (apt-get install wrk); HTTP figures skipped")
        return
    import httpx

    from backmice.web.server import UVICORN_SETTINGS

    folder = Path(tempfile.mkdtemp(prefix="backmice-bench-http-"))
    try:
        bodies = case_bodies()
        cases_file = folder / "cases.jsonl"
        cases_file.write_bytes(b"\n".join(bodies) + b"\n")
        lua = folder / "post.lua"
        lua.write_text(LUA)
        feedback_file = folder / "feedback.jsonl"
        feedback_file.write_text(json.dumps({"page": "lipoma", "kind": "helpful",
                                             "helpful": True}) + "\n")

        real, real_port = _serve(["-c", REAL_APP, "serve", "--host", "127.0.0.1",
                                  "--port", "{port}", "--data-dir", str(folder / "data")],
                                 folder, "backmice")
        try:
            url = f"http://127.0.0.1:{real_port}/api/v1"
            answers = [httpx.post(f"{url}/assess", content=body) for body in bodies]
            for answer in answers:
                answer.raise_for_status()
            results = {"assess": _wrk(f"{url}/assess", cases_file, lua, real),
                       "feedback": _wrk(f"{url}/feedback", feedback_file, lua, real)}
        finally:
            _stop(real)
        # the constant: a real answer, padded with JSON whitespace to the mean answer size
        sizes = [len(a.content) for a in answers]
        mean = round(sum(sizes) / len(sizes))
        nearest = min(answers, key=lambda a: abs(len(a.content) - mean)).content
        constant = folder / "constant.json"
        constant.write_bytes(nearest + b" " * max(0, mean - len(nearest)))
        script = folder / "baseline_app.py"
        script.write_text(BASELINE_APP)
        base, base_port = _serve([str(script), str(constant), "{port}"], folder, "baseline")
        try:
            base_url = f"http://127.0.0.1:{base_port}/api/v1"
            assert httpx.post(f"{base_url}/assess-dict").json() == json.loads(nearest)
            results["baseline"] = _wrk(f"{base_url}/assess", cases_file, lua, base)
            results["baseline_dict"] = _wrk(f"{base_url}/assess-dict", cases_file, lua, base)
        finally:
            _stop(base)
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    settings = ", ".join(f"{k}={v}" for k, v in UVICORN_SETTINGS.items())
    print(f"\nHTTP on loopback: one uvicorn worker ({settings}), wrk -c{CONNECTIONS}, "
          f"{DURATION} s each; {len(bodies)} cases in turn, answers {min(sizes):,} to "
          f"{max(sizes):,} bytes (mean {mean:,})")
    print(f"{'endpoint':<44}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'vs baseline':>13}"
          f"{'server CPU µs/req':>19}")
    rows = [("bare FastAPI constant (baseline)", "baseline"),
            ("bare FastAPI constant, dict encoded per req.", "baseline_dict"),
            ("POST /api/v1/assess", "assess"),
            ("POST /api/v1/feedback (one SQLite write)", "feedback")]
    for label, key in rows:
        r = results[key]
        ratio = r["rps"] / results["baseline"]["rps"]
        errors = f"  ({int(r['errors'])} non-2xx)" if r["errors"] else ""
        print(f"{label:<44}{r['rps']:>10,.0f}{r['p50']:>9.2f}{r['p99']:>9.2f}{ratio:>12.2f}x"
              f"{r['cpu_us']:>19,.0f}{errors}")


if __name__ == "__main__":
    main()
