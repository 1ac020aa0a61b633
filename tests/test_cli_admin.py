"""The operator's commands: users and tokens from the command line, the refusal to serve beyond
this machine without a secret key and an admin, and backup / restore across backends."""

from __future__ import annotations

import datetime as dt
import gzip
import json

import pytest
from sqlalchemy import select, text
from typer.testing import CliRunner

from backmice.cli import app
from backmice.storage import open_store
from backmice.storage.backup import backup, restore
from backmice.storage.tables import Base
from backmice.storage.visits import EncounterDraft
from backmice.testing import TEST_PASSWORD, fast_password_hasher, make_user

runner = CliRunner()


@pytest.fixture
def sqlite_url(tmp_path):
    return f"sqlite:///{tmp_path / 'ops.sqlite3'}"


def run(*args, env=None):
    return runner.invoke(app, list(args), env={"BACKMICE_PASSWORD": TEST_PASSWORD, **(env or {})})


def test_users_and_tokens_from_the_command_line(sqlite_url):
    made = run("user", "create", "ada", "--admin", "--name", "Ada L.", "--database-url",
               sqlite_url)
    assert made.exit_code == 0, made.output
    assert "created user ada (clinician, admin)" in made.output
    assert "ada\tclinician admin\tMain clinic\tactive" in run(
        "user", "list", "--database-url", sqlite_url).output
    token = run("token", "create", "ada", "--name", "nightly", "--database-url", sqlite_url)
    assert token.exit_code == 0
    secret = token.stdout.strip().splitlines()[0]
    with open_store(sqlite_url, password_hasher=fast_password_hasher()) as store:
        assert store.accounts.user_for_token(secret).username == "ada"
    again = run("user", "create", "ada", "--database-url", sqlite_url)
    assert again.exit_code == 2 and "taken" in again.output
    weak = run("user", "create", "bob", "--database-url", sqlite_url,
               env={"BACKMICE_PASSWORD": "short"})
    assert weak.exit_code == 2 and "password" in weak.output
    last = run("user", "disable", "ada", "--database-url", sqlite_url)
    assert last.exit_code == 2 and "last active admin" in last.output
    assert run("user", "create", "eve", "--admin", "--database-url", sqlite_url).exit_code == 0
    assert run("user", "disable", "ada", "--database-url", sqlite_url).exit_code == 0
    with open_store(sqlite_url, password_hasher=fast_password_hasher()) as store:
        assert store.accounts.user_for_token(secret) is None


def test_serve_refuses_other_addresses_without_a_key_and_an_admin(sqlite_url, monkeypatch):
    started = []
    monkeypatch.setattr("uvicorn.run", lambda *a, **k: started.append(k["host"]))
    bare = run("serve", "--host", "0.0.0.0", "--database-url", sqlite_url,
               env={"BACKMICE_SECRET_KEY": ""})
    assert bare.exit_code == 2 and "BACKMICE_SECRET_KEY" in bare.output
    assert "backmice user create NAME --admin" in bare.output
    key = {"BACKMICE_SECRET_KEY": "k" * 40}
    no_admin = run("serve", "--host", "0.0.0.0", "--database-url", sqlite_url, env=key)
    assert no_admin.exit_code == 2 and "admin user" in no_admin.output
    assert run("user", "create", "root", "--admin", "--database-url", sqlite_url).exit_code == 0
    ok = run("serve", "--host", "0.0.0.0", "--database-url", sqlite_url, env=key)
    assert ok.exit_code == 0, ok.output
    assert run("serve", "--database-url", sqlite_url).exit_code == 0  # loopback: no key needed
    assert started == ["0.0.0.0", "127.0.0.1"]
    short = run("serve", "--database-url", sqlite_url, env={"BACKMICE_SECRET_KEY": "short"})
    assert short.exit_code == 2 and "BACKMICE_SECRET_KEY" in short.output


def _fill(store):
    me = make_user(store, "doc", ["clinician", "admin"], clinic="Ward Ä")
    p = store.patients.create(me, {"display_name": "Zoë", "birth_date": "1970-01-02"})
    lesion = store.patients.add_lesion(me, p.id, {"label": "A", "x": 0.25, "size_cm": 1.5})
    store.visits.add_procedure(me, p.id, {"lesion_id": lesion.id, "kind": "excision",
                                          "performed_on": dt.date.today().isoformat(),
                                          "histopathology": "adipose_tissue"})
    store.visits.add_outcome(me, p.id, {"measured_on": dt.date.today().isoformat(),
                                        "pain": 2.5})
    store.save_assessment(input_doc={"a": [1, "é"]}, result_doc={"b": None},
                          kb_version="k", engine_version="e")
    # The tables of migration 0003: a referral, an alert review, corrections, a must-change flag.
    today = dt.date.today()
    urgent = store.visits.record_encounter(me, p.id, EncounterDraft(
        occurred_on=today - dt.timedelta(days=20), note="ü", input_doc={"lumps": []},
        result_doc={"lumps": []}, kb_version="k", engine_version="e", triage="urgent_2_weeks",
        lesions=((lesion.id, f"lesion-{lesion.id}", "liposarcoma", 0.3, "urgent_2_weeks", 7.0),)))
    store.worklist.review_alert(me, p.id, f"triage:{urgent.id}:{lesion.id}", "seen")
    outcome = store.visits.add_outcome(me, p.id, {"measured_on": today.isoformat(), "pain": 4})
    store.corrections.correct_outcome(me, outcome.id, version=1, reason="was 3",
                                      data={"pain": 3})
    store.corrections.correct_encounter(me, urgent.id, version=1, reason="date",
                                        data={"occurred_on": today.isoformat()})
    admin = store.accounts.find_user("doc")
    nurse = store.accounts.create_user(username="nurse", password=TEST_PASSWORD,
                                       roles=["clinician"], clinic="Ward Ä")
    store.accounts.reset_password(nurse.id, password="temporary 1234", acting_user_id=admin.id)
    return me, p


def _utc(moment):
    return moment.astimezone(dt.UTC).replace(tzinfo=None) if moment.tzinfo else moment


def _snapshot(store):
    """Every row of every table, as typed values (times compared in UTC)."""
    out = {}
    with store.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            rows = connection.execute(select(table).order_by(*table.primary_key)).mappings()
            out[table.name] = [{k: _utc(v) if isinstance(v, dt.datetime) else v
                           for k, v in r.items()} for r in rows]
    return out


def test_backup_restores_into_the_other_backend_exactly(store, tmp_path, postgres_url):
    """Whatever the fixture's backend, restore into the other one and compare every row."""
    me, p = _fill(store)
    path = tmp_path / "backup.jsonl.gz"
    counts = backup(store.engine, path)
    assert counts["patient"] == 1 and counts["audit_event"] >= 4
    assert (counts["referral"], counts["alert_review"], counts["record_correction"]) == (1, 1, 2)
    other_url = f"sqlite:///{tmp_path / 'restored.sqlite3'}" if store.dialect == "postgresql" \
        else postgres_url
    with open_store(other_url, password_hasher=fast_password_hasher()) as other:
        if other.dialect == "postgresql":
            with other.engine.begin() as c:
                c.execute(text("TRUNCATE clinic, app_user, patient, audit_event, "
                               "saved_assessment, feedback RESTART IDENTITY CASCADE"))
        assert restore(other.engine, path) == counts
        assert _snapshot(other) == _snapshot(store)
        assert other.accounts.authenticate("doc", TEST_PASSWORD).username == "doc"
        # New rows continue after the restored ids.
        assert other.patients.create(me, {"display_name": "New"}).id == p.id + 1
        with pytest.raises(Exception, match="not empty"):
            restore(other.engine, path)  # never merges into a database in use


def test_a_damaged_backup_restores_nothing(store, tmp_path, sqlite_url):
    _fill(store)
    path = tmp_path / "b.jsonl.gz"
    backup(store.engine, path)
    lines = gzip.decompress(path.read_bytes()).decode().splitlines()
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(gzip.compress("\n".join(lines[:-2]).encode()))
    with open_store(sqlite_url, password_hasher=fast_password_hasher()) as target:
        with pytest.raises(Exception, match="cut short"):
            restore(target.engine, cut)
        with target.engine.connect() as c:
            assert c.execute(text("SELECT count(*) FROM patient")).scalar() == 0
    assert run("db", "restore", str(tmp_path / "missing.gz"), "--database-url",
               sqlite_url).exit_code == 2
    junk = tmp_path / "junk.gz"
    junk.write_bytes(b"not a backup")
    bad = run("db", "restore", str(junk), "--database-url", sqlite_url)
    assert bad.exit_code == 2 and "not a backmice backup" in bad.output


def test_db_commands_from_the_command_line(sqlite_url, tmp_path):
    up = run("db", "upgrade", "--database-url", sqlite_url)
    assert up.exit_code == 0 and "schema revision" in up.output
    path = tmp_path / "b.gz"
    assert run("db", "backup", str(path), "--database-url", sqlite_url).exit_code == 0
    assert run("db", "backup", str(path), "--database-url", sqlite_url).exit_code == 2
    fresh = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    done = run("db", "restore", str(path), "--database-url", fresh)
    assert done.exit_code == 0 and "restored" in done.output


def test_cds_clients_from_the_command_line(sqlite_url, tmp_path):
    from joserfc.jwk import ECKey, KeySet

    key = ECKey.generate_key("P-384", parameters={"kid": "k"}, private=True)
    public, private = tmp_path / "public.json", tmp_path / "private.json"
    public.write_text(json.dumps(KeySet([key]).as_dict(private=False)))
    private.write_text(json.dumps(KeySet([key]).as_dict(private=True)))
    added = run("cds-client", "add", "https://ehr.example", "--jwks", str(public),
                "--database-url", sqlite_url)
    assert added.exit_code == 0, added.output
    by_url = run("cds-client", "add", "https://other.example", "--jwks",
                 "https://other.example/jwks.json", "--database-url", sqlite_url)
    assert by_url.exit_code == 0, by_url.output
    listed = run("cds-client", "list", "--database-url", sqlite_url).output
    assert "https://ehr.example\t1 key(s) on file" in listed
    assert "https://other.example\thttps://other.example/jwks.json" in listed
    refused = run("cds-client", "add", "https://x.example", "--jwks", str(private),
                  "--database-url", sqlite_url)
    assert refused.exit_code == 2 and "private or symmetric key" in refused.output
    removed = run("cds-client", "remove", "https://ehr.example", "--database-url", sqlite_url)
    assert removed.exit_code == 0
    again = run("cds-client", "remove", "https://ehr.example", "--database-url", sqlite_url)
    assert again.exit_code == 2 and "no CDS Hooks client" in again.output
