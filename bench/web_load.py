"""`make bench` (web load): the server against the same work done in-process, one worker against
two, and a CDS Hooks call with its JWT check; wrk on loopback, 32 connections.

Measured in the same run:
  1. in process (the baseline): reading each case, assessing it and writing the JSON document,
     as the server does for POST /api/v1/assess (``web.assessing.assess_bytes``), CPU per case;
  2. POST /api/v1/assess on `backmice serve` with one worker: throughput, p50 and p99, and the
     server's CPU per request against (1) (aim <= 1.5x);
  3. the same with `--workers 2` (aim: throughput >= 1.6x one worker, p99 <= 20 ms);
  4. POST /cds-services/backmice-patient-view on the two workers, each request with its own
     ES384 JWT (verified, its jti recorded once in the database) and a prefetch of the patient
     and three lump Observations (aim: p99 <= 50 ms);
  5. for reference, a bare FastAPI endpoint answering a constant of the mean answer size with
     the same uvicorn settings, and POST /api/v1/feedback (one database write per request).
wrk cycles through the 60 development cases (tests/data/dev_cases.jsonl) in the case format, so
consecutive requests differ and every answer is computed. Workers need PostgreSQL: the bench
makes a throwaway database on BENCH_POSTGRES_URL (default the local server's ``test``
database) and drops it after; without PostgreSQL, parts 3 and 4 are skipped and say so. wrk
comes from Debian's packages (apt-get install wrk); without it this benchmark stops.
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


def _serve(args: list[str], folder: Path, name: str, ready_path: str | None = None
           ) -> tuple[subprocess.Popen, int]:
    """Start ``python ARGS`` (``{port}`` in ARGS replaced by a free port); wait until it listens
    (and, with ``ready_path``, until that path answers: every worker has started)."""
    import httpx

    port = _free_port()
    log = (folder / f"{name}.log").open("w")
    proc = subprocess.Popen([sys.executable, *(a.replace("{port}", str(port)) for a in args)],
                            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            if ready_path is None:
                return proc, port
            for _ in range(20):  # connections spread over the workers: each must answer
                httpx.get(f"http://127.0.0.1:{port}{ready_path}", timeout=60).raise_for_status()
            return proc, port
        except (OSError, httpx.HTTPError):
            time.sleep(0.2)
    proc.kill()
    raise SystemExit(f"bench/web_load: the {name} server did not start:\n"
                     + (folder / f"{name}.log").read_text())


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    proc.wait(30)


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc); NaN elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _processes(server: subprocess.Popen) -> list[int]:
    """The server's process and its workers (children), whose CPU time a request costs."""
    found = subprocess.run(["pgrep", "-P", str(server.pid)], capture_output=True, text=True)
    return [server.pid, *(int(p) for p in found.stdout.split())]


def _wrk(url: str, bodies_file: Path, lua: Path, server: subprocess.Popen,
         extra_env: dict[str, str] | None = None) -> dict[str, float]:
    pids = _processes(server)
    before = sum(_cpu_seconds(p) for p in pids)
    out = subprocess.run(["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{DURATION}s", "--latency",
                          "-s", str(lua), url], capture_output=True, text=True, check=True,
                         env={**os.environ, "BODIES_FILE": str(bodies_file),
                              **(extra_env or {})}).stdout
    cpu = sum(_cpu_seconds(p) for p in pids) - before
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    lat = {p: _ms(v, u) for p, v, u in re.findall(r"\s(50|99)%\s+([\d.]+)(us|ms|s)\b", out)}
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": rps, "p50": lat["50"], "p99": lat["99"], "cpu_us": cpu / requests * 1e6,
            "errors": float(non2xx.group(1)) if non2xx else 0.0, "requests": requests}


def in_process_cost(bodies: list[bytes], seconds: float = 3.0) -> float:
    """CPU µs per case of what the server does for POST /api/v1/assess, in this process."""
    from backmice.kb.loader import default_kb
    from backmice.web.assessing import assess_bytes

    kb = default_kb()
    for body in bodies:  # warm: compiled tables, caches
        assess_bytes(kb, body).json_bytes()
    done, start = 0, time.process_time()
    while time.process_time() - start < seconds:
        for body in bodies:
            assess_bytes(kb, body).json_bytes()
        done += len(bodies)
    return (time.process_time() - start) / done * 1e6


def _throwaway_postgres() -> tuple[str, object] | None:
    """A new database on the PostgreSQL server (its URL and the admin engine), or None."""
    from sqlalchemy import create_engine, make_url, text

    url = os.environ.get("BENCH_POSTGRES_URL",
                         "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    name = f"backmice_bench_{os.getpid()}"
    try:
        admin = create_engine(url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # any failure means: no PostgreSQL for this run
        print(f"bench/web_load: PostgreSQL not available ({exc.__class__.__name__}); "
              "the two-worker and CDS Hooks figures are skipped")
        return None
    return make_url(url).set(database=name).render_as_string(hide_password=False), admin


def _drop(admin: object, database_url: str) -> None:
    from sqlalchemy import make_url, text

    name = make_url(database_url).database
    with admin.connect() as connection:  # type: ignore[attr-defined]
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


# CDS Hooks: each wrk thread takes every other token (thread ids 0 and 1), so no token is sent
# twice (a second use is a replay, answered 401).
CDS_LUA = '''
local counter = 0
function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end
local tokens = {}
local body
function init(args)
  for line in io.lines(os.getenv("TOKENS_FILE")) do tokens[#tokens + 1] = line end
  body = io.open(os.getenv("BODIES_FILE")):read("*l")
end
local i = 0
function request()
  local n = i * 2 + id + 1
  i = i + 1
  return wrk.format("POST", nil, {["Content-Type"] = "application/json",
                                  ["Authorization"] = "Bearer " .. tokens[(n - 1) % #tokens + 1]},
                    body)
end
'''


def _cds_setup(database_url: str, folder: Path, port: int, count: int) -> tuple[Path, Path]:
    """Register an EHR issuer, write ``count`` fresh tokens for the service URL, and one call."""
    import uuid

    from joserfc import jwt
    from joserfc.jwk import ECKey, KeySet

    from backmice.interop.fhir.vocabulary import finding_concept, value_concept
    from backmice.storage import open_store

    key = ECKey.generate_key("P-384", parameters={"kid": "bench"}, private=True)
    issuer = "https://ehr.bench.example"
    store = open_store(database_url)
    store.cds.add_client(issuer=issuer, jwks=KeySet([key]).as_dict(private=False))
    store.close()
    audience = f"http://127.0.0.1:{port}/cds-services/backmice-patient-view"
    now = int(time.time())
    tokens = folder / "tokens.txt"
    tokens.write_text("\n".join(jwt.encode(
        {"alg": "ES384", "kid": "bench", "typ": "JWT"},
        {"iss": issuer, "aud": audience, "iat": now, "exp": now + 290,
         "jti": str(uuid.uuid4())}, key, algorithms=["ES384"]) for _ in range(count)) + "\n")

    def obs(finding: str, **value: object) -> dict:
        return {"resource": {"resourceType": "Observation", "status": "final",
                             "code": finding_concept(finding), **value}}

    call = {"hook": "patient-view", "hookInstance": str(uuid.uuid4()),
            "context": {"userId": "Practitioner/1", "patientId": "p1"},
            "prefetch": {
                "patient": {"resourceType": "Patient", "id": "p1", "gender": "female",
                            "birthDate": "1979-03-02"},
                "lumps": {"resourceType": "Bundle", "type": "searchset", "entry": [
                    obs("size_cm", valueQuantity={"value": 1.5, "code": "cm"}),
                    obs("consistency", valueCodeableConcept=value_concept("firm_rubbery")),
                    obs("tender", valueBoolean=True)]},
                "conditions": {"resourceType": "Bundle", "type": "searchset", "entry": []},
                "notes": {"resourceType": "Bundle", "type": "searchset", "entry": []}}}
    body = folder / "cds-call.json"
    body.write_text(json.dumps(call) + "\n")
    return tokens, body


def main() -> None:
    if shutil.which("wrk") is None:
        print("bench/web_load: wrk is not installed (apt-get install wrk); HTTP figures skipped")
        return
    import httpx

    from backmice.web.server import UVICORN_SETTINGS

    folder = Path(tempfile.mkdtemp(prefix="backmice-bench-http-"))
    postgres = _throwaway_postgres()
    results: dict[str, dict[str, float]] = {}
    try:
        bodies = case_bodies()
        cases_file = folder / "cases.jsonl"
        cases_file.write_bytes(b"\n".join(bodies) + b"\n")
        lua = folder / "post.lua"
        lua.write_text(LUA)
        feedback_file = folder / "feedback.jsonl"
        feedback_file.write_text(json.dumps({"page": "lipoma", "kind": "helpful",
                                             "helpful": True}) + "\n")
        in_process_us = in_process_cost(bodies)
        database = (["--database-url", postgres[0]] if postgres
                    else ["--data-dir", str(folder / "data")])
        env_key = {"BACKMICE_SECRET_KEY": "b" * 40, "BACKMICE_ANONYMOUS_WRITES_PER_MINUTE": "0"}
        os.environ.update(env_key)

        real, real_port = _serve(["-c", REAL_APP, "serve", "--host", "127.0.0.1",
                                  "--port", "{port}", *database], folder, "backmice")
        try:
            url = f"http://127.0.0.1:{real_port}/api/v1"
            answers = [httpx.post(f"{url}/assess", content=body) for body in bodies]
            for answer in answers:
                answer.raise_for_status()
            results["assess"] = _wrk(f"{url}/assess", cases_file, lua, real)
            results["feedback"] = _wrk(f"{url}/feedback", feedback_file, lua, real)
        finally:
            _stop(real)
        if postgres:
            two, two_port = _serve(["-c", REAL_APP, "serve", "--host", "127.0.0.1", "--port",
                                    "{port}", "--workers", "2", *database], folder, "workers",
                                   ready_path="/api/v1/kb")
            try:
                url2 = f"http://127.0.0.1:{two_port}"
                results["assess2"] = _wrk(f"{url2}/api/v1/assess", cases_file, lua, two)
                count = int(max(results["assess2"]["rps"], 500) * DURATION * 1.5)
                tokens, call = _cds_setup(postgres[0], folder, two_port, count)
                cds_lua = folder / "cds.lua"
                cds_lua.write_text(CDS_LUA)
                results["cds"] = _wrk(f"{url2}/cds-services/backmice-patient-view", call,
                                      cds_lua, two, {"TOKENS_FILE": str(tokens)})
            finally:
                _stop(two)
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
            results["constant"] = _wrk(f"http://127.0.0.1:{base_port}/api/v1/assess",
                                       cases_file, lua, base)
        finally:
            _stop(base)
    finally:
        if postgres:
            _drop(postgres[1], postgres[0])
        shutil.rmtree(folder, ignore_errors=True)
    _report(results, in_process_us, sizes, mean, UVICORN_SETTINGS)


def _report(results: dict[str, dict[str, float]], in_process_us: float, sizes: list[int],
            mean: int, uvicorn_settings: dict) -> None:
    settings = ", ".join(f"{k}={v}" for k, v in uvicorn_settings.items())
    print(f"\nHTTP on loopback ({settings}), wrk -c{CONNECTIONS}, {DURATION} s each; 60 cases "
          f"in turn, answers {min(sizes):,} to {max(sizes):,} bytes (mean {mean:,})")
    print(f"baseline: the same work in process, {in_process_us:,.0f} µs CPU per case")
    print(f"{'endpoint':<46}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'CPU µs/req':>12}"
          f"{'vs in-process':>15}")
    rows = [("POST /api/v1/assess, 1 worker", "assess"),
            ("POST /api/v1/assess, 2 workers", "assess2"),
            ("CDS Hooks call with its JWT, 2 workers", "cds"),
            ("POST /api/v1/feedback (one write), 1 worker", "feedback"),
            ("bare FastAPI constant (reference)", "constant")]
    for label, key in rows:
        if key not in results:
            print(f"{label:<46}{'skipped (no PostgreSQL)':>30}")
            continue
        r = results[key]
        ratio = r["cpu_us"] / in_process_us
        errors = f"  ({int(r['errors'])} non-2xx)" if r["errors"] else ""
        print(f"{label:<46}{r['rps']:>9,.0f}{r['p50']:>9.2f}{r['p99']:>9.2f}{r['cpu_us']:>12,.0f}"
              f"{ratio:>14.2f}x{errors}")
    one = results["assess"]
    print(f"\naim: server CPU per /assess <= 1.5x in-process: {one['cpu_us'] / in_process_us:.2f}x")
    if "assess2" in results:
        two = results["assess2"]
        print(f"aim: 2 workers >= 1.6x one worker's throughput: {two['rps'] / one['rps']:.2f}x")
        print(f"aim: /assess p99 <= 20 ms with 2 workers: {two['p99']:.1f} ms")
        print(f"aim: CDS Hooks p99 <= 50 ms with 2 workers: {results['cds']['p99']:.1f} ms")


if __name__ == "__main__":
    main()
