"""Mixed authenticated writes against one server process, as the record grows (issue 12).

Starts ``backmice serve`` (SQLite in a temporary folder, the access log off, as in production),
creates a clinician with an API token and PATIENTS patients with one lesion each, then keeps
CONNECTIONS requests in flight for SECONDS: half record a visit (the back-mouse example's
findings) for a random patient, a quarter add an outcome, a quarter read and change a patient's
notes (GET, then PATCH with the version read). Every patient's record grows by hundreds of
visits during the run. Prints, per WINDOW seconds, requests/s and p50 / p99, and the server's
resident memory at the start and the end. Timings are printed, never asserted.

    .venv/bin/python bench/mixed_writes.py             # BENCH_MIXED_SECONDS=120 by default

``BENCH_MIXED_SRC`` runs the server from another source tree (e.g. an exported older commit),
to compare before and after on the same machine.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
SECONDS = float(os.environ.get("BENCH_MIXED_SECONDS", "120"))
WINDOW = float(os.environ.get("BENCH_MIXED_WINDOW", "20"))
CONNECTIONS = 32
PATIENTS = 8
PASSWORD = "mixed writes password"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _backmice(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", "from backmice.cli import main; main()", *args],
                          env=env, capture_output=True, text=True, check=True)


async def _load(base: str, token: str, findings: dict) -> list[tuple[float, float, int]]:
    headers = {"authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=CONNECTIONS)
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits,
                                 timeout=60) as client:
        made = []
        for i in range(PATIENTS):
            p = (await client.post("/api/v1/patients", json={"display_name": f"P{i}"})).json()
            lesion = (await client.post(f"/api/v1/patients/{p['id']}/lesions",
                                        json={"label": "A", "size_cm": 1.5})).json()
            made.append((p["id"], lesion["id"]))
        done: list[tuple[float, float, int]] = []  # (finished at, seconds, status)
        start = time.perf_counter()
        deadline = start + SECONDS

        async def worker(seed: int) -> None:
            rng = random.Random(seed)
            while time.perf_counter() < deadline:
                pid, lid = rng.choice(made)
                kind = rng.random()
                began = time.perf_counter()
                if kind < 0.5:
                    answer = await client.post(f"/api/v1/patients/{pid}/encounters", json={
                        "occurred_on": "2026-01-01",
                        "lumps": [{"lesion_id": lid, "findings": findings}]})
                elif kind < 0.75:
                    answer = await client.post(f"/api/v1/patients/{pid}/outcomes", json={
                        "measured_on": "2026-01-01", "pain": rng.randint(0, 10),
                        "lesion_id": lid})
                else:
                    version = (await client.get(f"/api/v1/patients/{pid}")).json()["version"]
                    answer = await client.patch(f"/api/v1/patients/{pid}", json={
                        "version": version, "notes": f"note {rng.random()}"})
                now = time.perf_counter()
                done.append((now - start, now - began, answer.status_code))

        await asyncio.gather(*(worker(i) for i in range(CONNECTIONS)))
        return done


def main() -> None:
    findings = json.loads((ROOT / "examples" / "back_mouse.json").read_text())["findings"]
    source = os.environ.get("BENCH_MIXED_SRC", str(ROOT / "src"))
    with tempfile.TemporaryDirectory() as folder:
        env = {**os.environ, "PYTHONPATH": source, "BACKMICE_DATA_DIR": folder,
               "BACKMICE_PASSWORD": PASSWORD}
        _backmice("user", "create", "mixed", "--role", "clinician", env=env)
        token = _backmice("token", "create", "mixed", "--name", "bench", env=env)
        secret = token.stdout.strip().splitlines()[0]
        port = _free_port()
        server = subprocess.Popen(
            [sys.executable, "-c", "from backmice.cli import main; main()", "serve",
             "--port", str(port)], env=env, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(100):
                try:
                    httpx.get(base + "/api/v1/health", timeout=1)
                    break
                except httpx.HTTPError:
                    time.sleep(0.2)
            rss_start = _rss_mb(server.pid)
            done = asyncio.run(_load(base, secret, findings))
            rss_end = _rss_mb(server.pid)
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(f"\nMixed authenticated writes: {CONNECTIONS} connections, {SECONDS:g} s, "
          f"{PATIENTS} patients, server from {source}")
    print(f"{'window':<14}{'requests/s':>12}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}")
    edges = [i * WINDOW for i in range(int(SECONDS // WINDOW) + 1)]
    for low, high in itertools.pairwise(edges):
        part = sorted(s for t, s, _ in done if low <= t < high)
        bad = sum(1 for t, _, code in done if low <= t < high and code >= 500)
        if part:
            p99 = part[min(len(part) - 1, int(len(part) * 0.99))]
            print(f"{f'{low:g}-{high:g} s':<14}{len(part) / WINDOW:>12.1f}"
                  f"{statistics.median(part) * 1e3:>9.1f}{p99 * 1e3:>9.1f}{bad:>8}")
    statuses: dict[int, int] = {}
    for _, _, code in done:
        statuses[code] = statuses.get(code, 0) + 1
    print(f"statuses {dict(sorted(statuses.items()))}; server memory {rss_start:.0f} MB at the "
          f"start, {rss_end:.0f} MB at the end")


if __name__ == "__main__":
    main()
