"""Everywhere a case goes in, a note may go too: `backmice extract` (terminal, JSON, OMOP
NOTE_NLP), POST /api/v1/extract, and a "note" on a case or a lump of `backmice assess` and
POST /api/v1/assess (structured findings win; each conflict is a note)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from typer.testing import CliRunner

from backmice.cli import app
from backmice.interop.cases import read_case, read_document
from backmice.interop.notes import TextMode
from backmice.nlp import extract
from backmice.nlp.note_nlp import COLUMNS, note_nlp_rows

NOTE = ("A 47-year-old woman with a huge swelling over the L PSIS, getting bigger over the past "
        "week. Chills. No neurological deficit. Mother had a lipoma. Return if fever.")
runner = CliRunner()


@pytest.fixture
def note_file(tmp_path):
    path = tmp_path / "note.txt"
    path.write_text(NOTE, encoding="utf-8")
    return path


def test_cli_terminal_shows_each_finding_with_its_phrase(note_file):
    result = runner.invoke(app, ["extract", str(note_file)])
    assert result.exit_code == 0, result.output
    out = " ".join(result.stdout.split())
    assert "Findings read from the note" in out
    assert '"huge"' in out and "10 cm" in out
    assert "Mentions not used" in out and "hypothetical" in out and "other person" in out


def test_cli_json_is_findings_and_mentions(note_file):
    result = runner.invoke(app, ["extract", str(note_file), "--format", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert set(doc) == {"findings", "mentions"}
    assert doc["findings"]["size_cm"] == 10 and doc["findings"]["growth"] == "rapid"
    assert doc["findings"]["neurological_deficit"] is False
    for m in doc["mentions"]:
        assert NOTE[m["start"]:m["end"]] == m["text"]


def test_cli_reads_standard_input():
    result = runner.invoke(app, ["extract", "-", "--format", "json"], input="no fever or chills")
    assert json.loads(result.stdout)["findings"] == {"fever": False}


def test_cli_note_nlp_rows(note_file):
    result = runner.invoke(app, ["extract", str(note_file), "--format", "note_nlp",
                                 "--note-id", "42"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert rows and all(tuple(r) == COLUMNS for r in rows)
    assert {r["note_id"] for r in rows} == {42}
    assert [r["note_nlp_id"] for r in rows] == list(range(1, len(rows) + 1))
    assert rows[0]["nlp_system"].startswith("backmice ")
    fever = [r for r in rows if "finding=fever" in r["term_modifiers"]]
    assert [r["term_exists"] for r in fever] == ["Y", "N"]  # "Chills"; "Return if fever"
    deficit = next(r for r in rows if "finding=neurological_deficit" in r["term_modifiers"])
    assert deficit["term_exists"] == "N" and "negated=true" in deficit["term_modifiers"]
    lipoma = next(r for r in rows if "subject=other" in r["term_modifiers"])
    assert lipoma["term_exists"] == "N"


def test_note_nlp_rows_are_pure():
    text = "Previous lipoma excised; diabetic."
    rows = note_nlp_rows(text, extract(text), nlp_system="backmice test",
                         nlp_date=dt.date(2026, 1, 2), concept_ids={"prior_surgery_here": 123})
    surgery = next(r for r in rows if "finding=prior_surgery_here" in r["term_modifiers"])
    assert surgery["note_nlp_concept_id"] == 123 and surgery["term_temporal"] == "past"
    assert surgery["nlp_date"] == "2026-01-02"
    assert text[int(surgery["offset"]):].startswith(surgery["lexical_variant"])
    assert all(r["note_nlp_concept_id"] == 0 for r in rows if r is not surgery)


@pytest.mark.parametrize(("content", "expected_code"), [
    (b"", 0), (b"\x00\x01\x02", 0), ("Опухоль на пояснице".encode(), 0), (b"\xff\xfe\x00", 2),
])
def test_cli_bad_input_is_one_clean_answer(tmp_path, content, expected_code):
    path = tmp_path / "note.txt"
    path.write_bytes(content)
    result = runner.invoke(app, ["extract", str(path), "--format", "json"])
    assert result.exit_code == expected_code
    assert "Traceback" not in result.output
    if expected_code == 0:
        assert json.loads(result.stdout) == {"findings": {}, "mentions": []}


def test_cli_missing_file():
    result = runner.invoke(app, ["extract", "/no/such/note.txt"])
    assert result.exit_code == 2 and "no such file" in result.output


# --- a note in a case or a lump -------------------------------------------------------------------
def test_a_case_note_fills_unknowns_and_reports_conflicts():
    case = read_case({"id": "n1", "findings": {"size_cm": 4, "fever": None},
                      "note": "huge swelling, getting bigger over the past week, chills"})
    f = case.first_visit
    assert f["size_cm"] == 4  # structured wins
    assert f["growth"] == "rapid" and f["fever"] is True  # unknowns filled from the text
    conflict = [n for n in case.notes if "the note says size_cm is 10" in n]
    assert conflict and "the structured value was used" in conflict[0] and '"huge"' in conflict[0]
    assert any("read from the note" in n and "growth rapid" in n for n in case.notes)


def test_a_case_with_only_a_note_is_read():
    patient, notes = read_document(json.dumps({"note": "62M, fever, confused, hot red lump"}))
    f = patient.lumps[0].findings
    assert f["systemically_unwell"] is True and f["fever"] is True and f["age_years"] == 62
    assert notes


def test_a_lump_note_in_a_patient_document():
    doc = {"patient": {"age_years": 50, "fever": False}, "lumps": [
        {"id": "a", "note": "fluctuant red lump, fever, age 70"},
        {"id": "b", "findings": {"size_cm": 1}}]}
    patient, notes = read_document(json.dumps(doc))
    a, b = (lump.findings for lump in patient.lumps)
    assert a["consistency"] == "fluctuant" and a["fever"] is False and a["age_years"] == 50
    assert "consistency" not in b
    assert any(n.startswith("Lump a") and "fever is yes" in n for n in notes)
    assert any(n.startswith("Lump a") and "age_years is 70" in n for n in notes)


@pytest.mark.parametrize(("doc", "field"), [
    ({"findings": {}, "note": 5}, "note"),
    ({"findings": {}, "note": "x" * 100_001}, "note"),
    ({"lumps": [{"note": ["a"]}]}, "lumps.0.note"),
    ({"lumps": [{"note": "x" * 100_001}]}, "lumps.0.note"),
])
def test_a_bad_note_names_its_field(doc, field):
    from backmice.errors import InputError

    with pytest.raises(InputError) as err:
        read_document(json.dumps(doc))
    assert err.value.field == field


def test_text_modes_for_validation():
    obj = {"id": "v", "vignette": "A 47-year-old woman with a 3 cm lump, no fever.",
           "findings": {"size_cm": 2, "tender": True}}
    only = read_case(obj, strict=False, text_mode=TextMode.FROM_TEXT).first_visit
    assert only["size_cm"] == 3 and "tender" not in only and only["fever"] is False
    both = read_case(obj, strict=False, text_mode=TextMode.WITH_TEXT)
    assert both.first_visit["size_cm"] == 2 and both.first_visit["fever"] is False
    assert any("the vignette says size_cm is 3" in n for n in both.notes)
    plain = read_case(obj, strict=False).first_visit
    assert "fever" not in plain  # a vignette is read only when asked


def test_cli_assess_reads_a_note(tmp_path):
    path = tmp_path / "case.json"
    path.write_text(json.dumps({"findings": {"size_cm": 3}, "note": "confused, rigors, "
                               "spreading redness"}))
    result = runner.invoke(app, ["assess", str(path), "--format", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert any("read from the note" in n for n in doc["notes"])
    assert doc["triage"]["level"] in ("emergency", "urgent_same_day")


# --- the API ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def client(tmp_path_factory):
    from fastapi.testclient import TestClient

    from backmice.config import Settings
    from backmice.web.app import create_app

    app_ = create_app(Settings.load(data_dir=tmp_path_factory.mktemp("extract")))
    with TestClient(app_) as c:
        yield c


def test_api_extract(client):
    r = client.post("/api/v1/extract", json={"text": NOTE})
    assert r.status_code == 200
    doc = r.json()
    assert doc == json.loads(json.dumps(extract(NOTE).to_dict()))


@pytest.mark.parametrize(("body", "status", "field"), [
    ({"text": "x" * 100_001}, 413, "text"),
    ({"text": 5}, 422, "text"),
    ({"text": None}, 422, "text"),
    ({}, 422, "text"),
    ({"text": "lump", "other": 1}, 422, "other"),
])
def test_api_extract_bad_input(client, body, status, field):
    r = client.post("/api/v1/extract", json=body)
    assert r.status_code == status
    assert r.json()["error"]["field"] == field


@pytest.mark.parametrize("raw", [
    b'{"text": ""}', b'{"text": "\\u0001\\u001b"}', '{"text": "腰部有一个肿块"}'.encode(),
])
def test_api_extract_odd_text_is_clean(client, raw):
    r = client.post("/api/v1/extract", content=raw, headers={"Content-Type": "application/json"})
    assert r.status_code == 200
    assert set(r.json()) == {"findings", "mentions"}


@pytest.mark.parametrize("raw", [b'{"text": "\\u0000 lump"}', b'{"text": "\\ud800 lump \\udfff"}'])
def test_api_extract_refuses_nul_and_lone_surrogates_naming_text(client, raw):
    """The edge refuses, for every JSON route, text no database could store (hardening)."""
    r = client.post("/api/v1/extract", content=raw, headers={"Content-Type": "application/json"})
    assert r.status_code == 422
    assert r.json()["error"]["field"] == "text"


def test_api_assess_reads_a_note(client):
    r = client.post("/api/v1/assess", json={"findings": {"size_cm": 4},
                                            "note": "huge lump getting bigger, chills"})
    assert r.status_code == 200
    notes = r.json()["notes"]
    assert any("the note says size_cm is 10" in n for n in notes)
    r = client.post("/api/v1/assess", json={"lumps": [{"note": 7}]})
    assert r.status_code == 422 and r.json()["error"]["field"] == "lumps.0.note"


def test_openapi_documents_extract(client):
    spec = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/extract" in spec["paths"]


# --- validate from the text ---------------------------------------------------------------------
def _validate(tmp_path, *flags):
    cases = [
        {"id": "t1", "gold": "subcutaneous_abscess", "urgent_expected": True,
         "vignette": "A 51-year-old diabetic woman with a hot, red, fluctuant, tender 4 cm lump "
                     "on the right buttock for 4 days, discharging pus. Temperature 38.6.",
         "findings": {"location": "buttock", "tender": True}},
        {"id": "t2", "gold": "lipoma", "urgent_expected": False,
         "vignette": "A soft, mobile, painless 2 cm lump on the left flank, unchanged for years.",
         "findings": {"size_cm": 2, "consistency": "soft", "mobile": True}},
    ]
    path = tmp_path / "cases.jsonl"
    path.write_text("\n".join(json.dumps(c) for c in cases) + "\n")
    result = runner.invoke(app, ["validate", str(path), "--json", "--no-interview", *flags])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_validate_from_text_and_with_text(tmp_path):
    structured = _validate(tmp_path)
    from_text = _validate(tmp_path, "--from-text")
    with_text = _validate(tmp_path, "--with-text")
    assert structured["n"] == from_text["n"] == with_text["n"] == 2
    assert from_text["urgent_recall"] == 1.0 and with_text["urgent_recall"] == 1.0
    assert with_text["top1"] >= structured["top1"]


def test_validate_refuses_both_text_flags(tmp_path):
    path = tmp_path / "cases.jsonl"
    path.write_text("{}\n")
    result = runner.invoke(app, ["validate", str(path), "--from-text", "--with-text"])
    assert result.exit_code == 2 and "choose one" in result.output


def test_validate_terminal_title_names_the_text_mode(tmp_path):
    path = tmp_path / "cases.jsonl"
    path.write_text(json.dumps({"id": "x", "gold": "lipoma", "vignette": "soft lump"}) + "\n")
    result = runner.invoke(app, ["validate", str(path), "--no-interview", "--from-text"])
    assert result.exit_code == 0, result.output
    assert "from the text alone" in result.stdout


def test_a_note_that_says_both_is_reported():
    case = read_case({"id": "m", "note": "No fever at home. Rigors and chills today."})
    assert case.first_visit["fever"] is True
    assert any("also says fever is no" in n and '"fever"' in n for n in case.notes)
