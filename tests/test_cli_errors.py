"""Bad input through the command line: one error line naming the field, exit code 2, no traceback.

Click 8.2+ has no ``mix_stderr``: ``result.output`` interleaves stdout and stderr, while
``result.stdout`` and ``result.stderr`` hold each stream alone. The error line must be on stderr
and be the only output.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from backmice.cli import app

DATA = Path(__file__).parent / "data"
runner = CliRunner()


def invoke(args: list[str], input: str | None = None):
    return runner.invoke(app, args, input=input)


def assert_one_error_line(result, field: str, *, allowed: bool = True) -> str:
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    assert "Traceback" not in result.output
    lines = result.output.splitlines()
    assert len(lines) == 1, result.output
    line = lines[0]
    assert line.startswith("backmice: error:"), line
    assert result.stderr.splitlines() == [line], "the error goes to stderr"
    assert result.stdout == ""
    assert field in line, (field, line)
    if allowed:
        assert "allowed" in line, line
    return line


def assess_json(doc) -> object:
    return invoke(["assess", "-"], input=json.dumps(doc))


def good_cases(n: int) -> list[str]:
    lines = [line for line in (DATA / "dev_cases.jsonl").read_text("utf-8").splitlines()
             if line.strip()]
    chosen = lines[:n]
    assert all(json.loads(line).get("gold") for line in chosen)
    return chosen




# --- one case through `assess` ----------------------------------------------------------------

BAD_DOCUMENTS = [
    pytest.param({"findings": {"colour": "red"}}, "findings.colour", id="unknown-finding"),
    pytest.param({"findings": {"location": "moon"}}, "findings.location", id="not-in-value-set"),
    pytest.param({"findings": {"depth": "deep"}}, "findings.depth", id="not-in-value-set-2"),
    pytest.param({"findings": {"size_cm": "big"}}, "findings.size_cm", id="string-for-number"),
    pytest.param({"findings": {"size_cm": "3"}}, "findings.size_cm", id="numeric-string"),
    pytest.param({"findings": {"mobile": 1}}, "findings.mobile", id="number-for-boolean"),
    pytest.param({"findings": {"fever": "yes"}}, "findings.fever", id="boolean-as-yes"),
    pytest.param({"findings": {"fever": "true"}}, "findings.fever", id="boolean-as-string"),
    pytest.param({"findings": {"size_cm": -1}}, "findings.size_cm", id="size-negative"),
    pytest.param({"findings": {"age_years": 500}}, "findings.age_years", id="age-500"),
    pytest.param({"findings": {"nodule_count": 2.5}}, "findings.nodule_count", id="count-2.5"),
    pytest.param({"findings": {"nodule_count": "lots"}}, "findings.nodule_count",
                 id="count-word"),
    pytest.param({"findings": {"location": ["sacroiliac"]}}, "findings.location",
                 id="list-for-category"),
    pytest.param({"findings": {}, "later_tests": {"xray": "normal"}}, "later_tests.xray",
                 id="later-tests-unknown-key"),
    pytest.param({"findings": {}, "later_tests": {"ultrasound_finding": "lump"}},
                 "later_tests.ultrasound_finding", id="later-tests-bad-category"),
    pytest.param({"findings": {}, "later_tests": {"injection_pain_before": 11,
                                                  "injection_pain_after": 1}},
                 "later_tests.injection_pain_before", id="pain-score-out-of-range"),
    pytest.param({"lumps": [{"findings": {"colour": "red"}}]}, "lumps.0.findings.colour",
                 id="native-unknown-finding"),
    pytest.param({"patient": {"age_years": -3}, "lumps": [{}]}, "patient.age_years",
                 id="native-patient-out-of-range"),
    pytest.param({"patient": {"fever": True}, "lumps": [{"findings": {"fever": False}}]},
                 "lumps.0.findings.fever", id="patient-vs-lump-contradiction"),
    pytest.param({"lumps": [{"findings": {"size_cm": 2}}, {"findings": {"size_cm": 200}}]},
                 "lumps.1.findings.size_cm", id="second-lump-out-of-range"),
    pytest.param({"setting": "hospital", "findings": {}}, "setting", id="unknown-setting"),
    pytest.param({"lumps": []}, "lumps", id="native-empty-lumps"),
    pytest.param({"lumps": [{"findings": {}, "colour": "red"}]}, "lumps.0.colour",
                 id="native-unknown-lump-key"),
    pytest.param({"lumps": [{"id": "a"}, {"id": "b"}, {"id": "a"}]}, "lumps.2.id",
                 id="duplicate-lump-id"),
]


@pytest.mark.parametrize(("doc", "field"), BAD_DOCUMENTS)
def test_bad_document_gives_one_error_line(doc, field):
    if "setting" in doc and "lumps" not in doc:  # the case format takes the setting as option
        result = invoke(["assess", "--setting", doc["setting"], "-"],
                        input=json.dumps({k: v for k, v in doc.items() if k != "setting"}))
    else:
        result = assess_json(doc)
    assert_one_error_line(result, field)


def test_a_finding_out_of_its_place_names_its_place():
    """A patient document holds each finding once, in its place: a patient-level finding in
    a lump (which could contradict the patient's) is refused, naming where it belongs."""
    line = assert_one_error_line(
        assess_json({"patient": {"fever": True}, "lumps": [{"findings": {"fever": False}}]}),
        "lumps.0.findings.fever")
    assert "give it once for the patient: patient.fever" in line


BAD_TEXTS = [
    pytest.param('{"findings": {"size_cm": 3', "(input)", id="broken-json"),
    pytest.param("not json at all", "(input)", id="not-json"),
    pytest.param("[1, 2, 3]", "(input)", id="json-array"),
    pytest.param('"a string"', "(input)", id="json-string"),
    pytest.param('{"id": "x"}', "(input)", id="neither-findings-nor-lumps"),
    pytest.param('{"findings": {"size_cm": NaN}}', "findings.size_cm", id="nan"),
    pytest.param('{"findings": {"age_years": Infinity}}', "findings.age_years", id="infinity"),
    pytest.param('{"findings": {"size_cm": -Infinity}}', "findings.size_cm", id="-infinity"),
    pytest.param('{"findings": {"nodule_count": NaN}}', "findings.nodule_count", id="nan-count"),
    pytest.param('{"findings": {"size_cm": 1e999}}', "findings.size_cm", id="overflow-float"),
    pytest.param('{"lumps": [{"findings": {"duration_weeks": NaN}}]}',
                 "lumps.0.findings.duration_weeks", id="nan-native"),
]


@pytest.mark.parametrize(("text", "field"), BAD_TEXTS)
def test_bad_text_on_stdin_gives_one_error_line(text, field):
    assert_one_error_line(invoke(["assess", "-"], input=text), field)


@pytest.mark.parametrize("text", ['{"findings": {"size_cm": NaN}}',
                                  '{"findings": {"age_years": Infinity}}'])
def test_nan_and_infinity_are_rejected_naming_the_field(text):
    line = assert_one_error_line(invoke(["assess", "-"], input=text), "findings.")
    assert "is not a number JSON allows" in line and "I-JSON" in line


@pytest.mark.parametrize("content", ["", "   \n\n", "\n"])
def test_empty_file(tmp_path, content):
    path = tmp_path / "case.json"
    path.write_text(content, encoding="utf-8")
    line = assert_one_error_line(invoke(["assess", str(path)]), "(input)")
    assert "empty" in line


def test_json_array_file(tmp_path):
    path = tmp_path / "case.json"
    path.write_text(json.dumps([{"findings": {}}]), encoding="utf-8")
    assert_one_error_line(invoke(["assess", str(path)]), "(input)")


def test_missing_file_and_directory(tmp_path):
    for target in (tmp_path / "nope.json", tmp_path):
        result = invoke(["assess", str(target)])
        assert result.exit_code == 2
        assert len(result.output.splitlines()) == 1
        assert result.output.startswith("backmice: error:")


def test_not_utf8_file(tmp_path):
    path = tmp_path / "case.json"
    path.write_bytes(b'{"findings": {"location": "\xff"}}')
    result = invoke(["assess", str(path)])
    assert result.exit_code == 2
    assert result.output.splitlines() == [f"backmice: error: {path}: not UTF-8 text"]




@pytest.mark.parametrize(("text", "field"), [
    pytest.param('{"findings": {"size_cm": 1' + "0" * 400 + "}}", "findings.size_cm",
                 id="int-beyond-float-range"),
    pytest.param('{"findings": {"nodule_count": 1' + "0" * 400 + "}}", "findings.nodule_count",
                 id="count-beyond-float-range"),
    pytest.param('{"findings": {"size_cm": 1' + "0" * 5000 + "}}", "(input)",
                 id="int-too-many-digits"),
    pytest.param('{"findings": ' + "[" * 100_000 + "]" * 100_000 + "}", "(input)",
                 id="deeply-nested"),
])
def test_pathological_json_gives_one_error_line(text, field):
    assert_one_error_line(invoke(["assess", "-"], input=text), field)


# --- validate -----------------------------------------------------------------------------------


def _mixed_file(tmp_path: Path) -> tuple[Path, int]:
    good = good_cases(4)
    bad_value = json.dumps({"id": "bad-4", "gold": "episacral_lipoma",
                            "findings": {"location": "moon"}})
    lines = [good[0], '{"id": "bad-2", "findings": ', good[1], bad_value, good[2], "", good[3]]
    path = tmp_path / "cases.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path, len(good)


def test_validate_reports_bad_lines_and_scores_the_good(tmp_path):
    path, _ = _mixed_file(tmp_path)
    result = invoke(["validate", str(path), "--no-interview"])
    assert result.exit_code == 0, (result.output, result.exception)
    assert "Traceback" not in result.output
    errors = result.stderr.splitlines()
    assert len(errors) == 2, errors
    assert errors[0].startswith("line 2:") and "not valid JSON" in errors[0]
    assert errors[1].startswith("line 4:") and "findings.location" in errors[1]
    assert "allowed" in errors[1]


def test_validate_json_counts_only_good_lines(tmp_path):
    path, n_good = _mixed_file(tmp_path)
    result = invoke(["validate", str(path), "--no-interview", "--json"])
    assert result.exit_code == 0, (result.output, result.exception)
    m = json.loads(result.stdout)
    assert m["n"] == n_good
    assert [(b["line"], "location" in b["error"]) for b in m["bad_lines"]] == \
        [(2, False), (4, True)]


def test_validate_survives_a_huge_integer(tmp_path):
    good = good_cases(1)
    huge = '{"id": "x", "gold": "lipoma", "findings": {"size_cm": 1' + "0" * 400 + "}}"
    path = tmp_path / "cases.jsonl"
    path.write_text("\n".join([good[0], huge]) + "\n", encoding="utf-8")
    result = invoke(["validate", str(path), "--no-interview", "--json"])
    assert result.exit_code == 0, result.exception
    assert [b["line"] for b in json.loads(result.stdout)["bad_lines"]] == [2]


# --- knowledge base, schema, json output ----------------------------------------------------------


def test_kb_check_ok():
    result = invoke(["kb", "check"])
    assert result.exit_code == 0, result.output
    assert "OK" in result.stdout


def test_kb_show_a_condition():
    result = invoke(["kb", "show", "episacral_lipoma"])
    assert result.exit_code == 0, result.output
    assert "References" in result.stdout


def test_kb_show_unknown_condition():
    line = assert_one_error_line(invoke(["kb", "show", "nonsense"]), "condition", allowed=False)
    assert "nonsense" in line


@pytest.mark.parametrize("which", [[], ["input"], ["assessment"]])
def test_schema_prints_json(which):
    result = invoke(["schema", *which])
    assert result.exit_code == 0, result.output
    schema = json.loads(result.stdout)
    assert isinstance(schema, dict) and schema


def test_assess_names_an_ignored_key_in_the_note():
    doc = {"id": "x", "findings": {"location": "buttock", "size_cm": 3},
           "later_test": {"histopathology": "myxoid liposarcoma"}}
    result = invoke(["assess", "--format", "markdown", "-"], input=json.dumps(doc))
    assert result.exit_code == 0, (result.output, result.exception)
    assert "_Ignored key 'later_test' (did you mean 'later_tests'?)" in result.stdout


def test_validate_reads_cases_with_unknown_keys(tmp_path):
    """case-format.md: extra keys are ignored, at the top level and (leniently) inside."""
    case = json.loads(good_cases(1)[0])
    case |= {"reviewer": "me", "later_tests": {**(case.get("later_tests") or {}), "xray": "-"}}
    case["findings"]["colour"] = "red"
    path = tmp_path / "cases.jsonl"
    path.write_text(json.dumps(case) + "\n", encoding="utf-8")
    result = invoke(["validate", str(path), "--no-interview", "--json", "--later-tests"])
    assert result.exit_code == 0, result.exception
    m = json.loads(result.stdout)
    assert m["n"] == 1 and m["bad_lines"] == []


def test_assess_json_output():
    result = invoke(["assess", "--format", "json", "-"], input=good_cases(1)[0])
    assert result.exit_code == 0, (result.output, result.exception)
    doc = json.loads(result.stdout)
    assert doc["format"] == "backmice.assessment"


def test_serve_with_an_unreachable_database_is_one_line():
    from typer.testing import CliRunner

    from backmice.cli import app

    result = CliRunner().invoke(app, ["serve", "--database-url",
                                      "postgresql+psycopg://u:secret@127.0.0.1:1/x"])
    assert result.exit_code == 2
    assert "cannot open the database" in result.output
    assert "secret" not in result.output and "Traceback" not in result.output
