"""Abuse (issue 12): what one request may cost (lumps, stored document size, anonymous write
rate), the last active admin kept by every route, one login answer for locked and unknown
users (same words, same work), and CSV cells a spreadsheet cannot run (SQLite and PostgreSQL).
"""

from __future__ import annotations

import csv
import io

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from backmice import strict_json
from backmice.cli import app as cli
from backmice.config import Settings
from backmice.errors import InputError, NotAuthenticated, TooLargeError
from backmice.storage import accounts as accounts_module
from backmice.storage.tables import SavedAssessmentRow
from backmice.testing import TEST_PASSWORD
from backmice.web.app import create_app
from backmice.web.limits import TokenBuckets
from backmice.web.record_views import csv_cell

from .conftest import log_in


def _saved(store) -> int:
    with store.engine.connect() as c:
        return c.scalar(select(func.count()).select_from(SavedAssessmentRow))


# --- request cost ----------------------------------------------------------------------------
def test_lumps_per_request_are_bounded_and_a_cluster_is_one_lump(client, store):
    many = {"lumps": [{"findings": {"size_cm": 1}} for _ in range(51)]}
    answer = client.post("/api/v1/assessments", json=many)
    assert answer.status_code == 422 and answer.json()["error"]["field"] == "lumps"
    assert "nodule_count" in answer.json()["error"]["allowed"]
    assert client.post("/api/v1/assess", json=many).status_code == 422
    assert _saved(store) == 0
    cluster = {"lumps": [{"findings": {"size_cm": 1, "nodule_count": "many"}}]}
    assert client.post("/api/v1/assessments", json=cluster).status_code == 201


def test_a_document_over_the_size_limit_is_413_and_not_stored(client, store, monkeypatch):
    with pytest.raises(TooLargeError):
        store.save_assessment(input_doc={"x": "a" * (strict_json.MAX_DOCUMENT_CHARS + 1)},
                              result_doc={}, kb_version="k", engine_version="e")
    monkeypatch.setattr(strict_json, "MAX_DOCUMENT_CHARS", 5_000)
    answer = client.post("/api/v1/assessments", json={"findings": {"size_cm": 1}})
    assert answer.status_code == 413
    assert answer.json()["error"]["code"] == "document_too_large"
    assert _saved(store) == 0


def test_anonymous_writes_are_rate_limited_per_address(store, kb, tmp_path):
    settings = Settings.load(data_dir=tmp_path, database_url="sqlite://",
                             environ={"BACKMICE_ANONYMOUS_WRITES_PER_MINUTE": "3"})
    app = create_app(settings, kb=kb, store=store)
    body = {"page": "lipoma", "kind": "helpful", "helpful": True}
    with TestClient(app) as one, TestClient(app, client=("203.0.113.7", 1)) as other:
        assert [one.post("/api/v1/feedback", json=body).status_code
                for _ in range(3)] == [201] * 3
        refused = one.post("/api/v1/feedback", json=body)
        assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
        assert refused.json()["error"]["code"] == "too_many_requests"
        assert one.post("/api/v1/assessments",
                        json={"findings": {"size_cm": 1}}).status_code == 429
        assert one.post("/api/v1/assess", json={"findings": {}}).status_code == 200  # no write
        assert other.post("/api/v1/feedback", json=body).status_code == 201
    assert len(store.list_feedback()) == 4


def test_token_buckets_refill_at_their_rate():
    now = [0.0]
    buckets = TokenBuckets(2, clock=lambda: now[0])
    assert [buckets.take("a"), buckets.take("a")] == [0, 0]
    assert buckets.take("a") == pytest.approx(30.0)
    now[0] = 30.0
    assert buckets.take("a") == 0 and buckets.take("b") == 0


# --- the last admin ----------------------------------------------------------------------------
def test_no_route_removes_the_last_active_admin(bearer, store, login_as):
    api = bearer("admin")
    me = api.get("/api/v1/me").json()
    own = next(u for u in api.get("/api/v1/users").json() if u["username"] == me["username"])
    for change in ({"roles": ["clinician"]}, {"active": False}):
        answer = api.patch(f"/api/v1/users/{own['id']}", json=change)
        # a well-formed change that what is stored refuses: 409 naming the field
        assert answer.status_code == 409, answer.text
        assert answer.json()["error"]["code"] == "conflicts_with_record"
        assert answer.json()["error"]["field"] == next(iter(change))
    other = store.accounts.create_user(username="second", password=TEST_PASSWORD,
                                       roles=["admin"])
    assert api.patch(f"/api/v1/users/{other.id}", json={"roles": ["clinician"]}).status_code \
        == 200
    # The storage rule: the last active admin cannot go, whoever asks.
    with pytest.raises(InputError, match="last active admin"):
        store.accounts.update_user(own["id"], active=False)
    page = login_as("admin", username="pageadmin")
    mine = next(u for u in api.get("/api/v1/users").json() if u["username"] == "pageadmin")
    refused = page.post(f"/admin/users/{mine['id']}",
                        data={"action": "disable", "csrf_token": page.headers["x-csrf-token"]})
    assert refused.status_code == 409  # the page answers as the API does
    assert 'data-error-field="active"' in refused.text
    assert all(u["active"] for u in api.get("/api/v1/users").json()
               if "admin" in u["roles"])


def test_the_command_line_enables_users_changes_roles_and_keeps_the_last_admin(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    runner = CliRunner()

    def run(*args):
        return runner.invoke(cli, [*args, "--database-url", url],
                             env={"BACKMICE_PASSWORD": TEST_PASSWORD})

    assert run("user", "create", "ada", "--admin").exit_code == 0
    assert run("user", "create", "bo").exit_code == 0
    last = run("user", "disable", "ada")
    assert last.exit_code == 2 and "last active admin" in last.output
    demote = run("user", "roles", "ada", "--role", "clinician")
    assert demote.exit_code == 2 and "last active admin" in demote.output
    promoted = run("user", "roles", "bo", "--role", "clinician", "--role", "admin")
    assert promoted.exit_code == 0 and "clinician, admin" in promoted.output
    assert run("user", "disable", "ada").exit_code == 0
    assert run("user", "enable", "ada").exit_code == 0
    assert "ada\tclinician admin\tMain clinic\tactive" in run("user", "list").output


# --- one answer for locked and unknown users ---------------------------------------------------
class CountingHasher:
    """The store's own argon2 hasher, counting its checks (no mock: it still verifies)."""

    def __init__(self, inner):
        self.inner, self.checks = inner, 0

    def verify(self, *args):
        self.checks += 1
        return self.inner.verify(*args)

    def __getattr__(self, name):
        return getattr(self.inner, name)


def test_locked_and_unknown_users_get_the_same_answer_after_the_same_work(store, monkeypatch):
    store.accounts.create_user(username="lock", password=TEST_PASSWORD, roles=["clinician"])
    for _ in range(accounts_module.MAX_FAILURES):
        with pytest.raises(NotAuthenticated):
            store.accounts.authenticate("lock", "wrong password!")
    hasher = CountingHasher(store.accounts.hasher)
    monkeypatch.setattr(store.accounts, "hasher", hasher)
    writes = []
    real_write = store.accounts.db.write
    monkeypatch.setattr(store.accounts.db, "write", lambda w: writes.append(1) or real_write(w))
    work, answers = [], []
    for name in ("lock", "nobody"):
        hasher.checks, writes[:] = 0, []
        with pytest.raises(NotAuthenticated) as failed:
            store.accounts.authenticate(name, TEST_PASSWORD)
        answers.append(str(failed.value))
        work.append((hasher.checks, len(writes)))
    assert answers[0] == answers[1] == accounts_module.FAILED_LOGIN
    assert work[0] == work[1] == (1, 1)


def test_an_api_token_keeps_working_while_its_user_is_locked(client, store):
    user = store.accounts.create_user(username="script", password=TEST_PASSWORD,
                                      roles=["clinician"])
    secret, _ = store.accounts.create_token(user_id=user.id, name="nightly")
    for _ in range(accounts_module.MAX_FAILURES):
        assert log_in(client, "script", "wrong password!").status_code == 401
    assert log_in(client, "script").status_code == 401
    api = client.get("/api/v1/me", headers={"authorization": f"Bearer {secret}"})
    assert api.status_code == 200 and api.json()["username"] == "script"


# --- CSV ---------------------------------------------------------------------------------------
DANGEROUS = ["=1+1", " =1+1", "\n=1+1", "\t=1+1", "\r=1+1", "＝1+1", "|calc", "+1", "-1",
             "@SUM(A1)", "%0A", "\u00a0=1+1", "\u200b=1"]


@pytest.mark.parametrize("value", DANGEROUS)
def test_csv_cells_that_start_a_formula_are_neutralised(value):
    assert csv_cell(value).startswith("'")


def test_csv_safe_values_stay_as_they_are():
    assert [csv_cell(v) for v in ("Zoë", "a=1", 3.5, -1, "", None)] == \
        ["Zoë", "a=1", 3.5, -1, "", None]


def test_the_csv_export_neutralises_every_text_cell(bearer):
    api = bearer("clinician")
    patient = api.post("/api/v1/patients", json={"display_name": "A"}).json()
    lesion = api.post(f"/api/v1/patients/{patient['id']}/lesions",
                      json={"label": "＝HYPERLINK(1)"}).json()
    for value in DANGEROUS:
        made = api.post(f"/api/v1/patients/{patient['id']}/outcomes",
                        json={"measured_on": "2024-01-01", "pain": 3, "notes": value,
                              "lesion_id": lesion["id"]})
        assert made.status_code == 201, made.text
    text = api.get(f"/api/v1/patients/{patient['id']}/export?format=csv").text
    rows = list(csv.DictReader(io.StringIO(text)))
    notes = [r["notes"] for r in rows if r["record"] == "outcome"]
    assert len(notes) == len(DANGEROUS) and all(n.startswith("'") for n in notes)
    assert all(r["lesion_label"].startswith("'") for r in rows if r["lesion_label"])
    assert text.startswith('"record","id"')  # every cell quoted
