"""``backmice serve --workers 2`` on PostgreSQL: both workers serve, a worker killed with
SIGKILL while writes are in flight is replaced, and no acknowledged write is lost or left
half-made. SQLite refuses more than one worker. No timing is asserted."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from backmice.storage import open_store
from backmice.testing import TEST_PASSWORD, fast_password_hasher

ROOT = Path(__file__).resolve().parents[1]
STARTUP_SECONDS = 180  # a worker loads the knowledge base; a busy CI machine is slow
KILLS = 3
BACKMICE = [sys.executable, "-c", "from backmice.cli import main; main()"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _workers(parent: int) -> list[int]:
    found = subprocess.run(["pgrep", "-P", str(parent)], capture_output=True, text=True)
    return [int(p) for p in found.stdout.split()]


def _wait_ready(url: str, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"the server exited: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"{url}/api/v1/kb", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    pytest.fail("the server did not answer in time")


def test_sqlite_refuses_more_than_one_worker(tmp_path):
    answer = subprocess.run([*BACKMICE, "serve", "--workers", "2", "--data-dir", str(tmp_path)],
                            capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert answer.returncode == 2
    assert "--workers above 1 needs PostgreSQL" in answer.stderr


def test_two_workers_survive_a_killed_worker_without_losing_a_write(postgres_url, tmp_path):
    store = open_store(postgres_url, password_hasher=fast_password_hasher())
    user = store.accounts.create_user(username="writer", password=TEST_PASSWORD,
                                      roles=["clinician"])
    secret, _ = store.accounts.create_token(user_id=user.id, name="workers")
    store.close()
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "BACKMICE_DATABASE_URL": postgres_url,
           "BACKMICE_SECRET_KEY": "k" * 40}
    log = tmp_path / "serve.log"
    with log.open("wb") as sink:
        server = subprocess.Popen([*BACKMICE, "serve", "--port", str(port), "--workers", "2"],
                                  cwd=ROOT, env=env, stdout=sink, stderr=sink,
                                  start_new_session=True)
    acknowledged: list[tuple[int, str]] = []
    stop = threading.Event()

    def write(n: int) -> None:
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {secret}"},
                          timeout=30) as client:
            i = 0
            while not stop.is_set():
                name = f"Writer {n} story {i}"
                i += 1
                try:
                    answer = client.post("/api/v1/patients", json={"display_name": name})
                except httpx.HTTPError:
                    continue  # the connection died with its worker: not acknowledged
                if answer.status_code == 201:
                    acknowledged.append((answer.json()["id"], name))

    try:
        _wait_ready(url, server, log)
        writers = [threading.Thread(target=write, args=(n,)) for n in range(4)]
        for t in writers:
            t.start()
        killed = []
        for _ in range(KILLS):
            time.sleep(1.5)
            workers = _workers(server.pid)
            assert workers, "no worker process"
            os.kill(workers[-1], signal.SIGKILL)
            killed.append(workers[-1])
            _wait_ready(url, server, log)
        time.sleep(1.0)
        stop.set()
        for t in writers:
            t.join(60)
        assert len(_workers(server.pid)) >= 2  # the killed ones were replaced
    finally:
        stop.set()
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(60)
    assert acknowledged, "no write was acknowledged"
    store = open_store(postgres_url, password_hasher=fast_password_hasher())
    try:
        actor = user.actor()
        for patient_id, name in acknowledged:
            assert store.patients.get(actor, patient_id).display_name == name
    finally:
        store.close()
