"""Fuzzing the readers: any input gives a PatientInput or an InputError, never another exception.

Known crashes (integers beyond float range, more than 4300 digits, deeply nested JSON) are pinned
as xfail in test_cli_errors.py; the JSON generated here stays clear of them so that this file
guards everything else.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from backmice.cli import app
from backmice.errors import InputError
from backmice.findings import FINDINGS, PatientInput, Scope, parse_findings
from backmice.interop.cases import read_document
from strategies import ALL_IDS, finding_sets, finding_values, invalid_values, json_values

FUZZ = settings(max_examples=300, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
CLI = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=200)
runner = CliRunner()


def read_or_input_error(text: str) -> PatientInput | None:
    """read_document's result, or None when it raised InputError; any other exception fails."""
    try:
        patient, notes = read_document(text)
    except InputError as exc:
        assert str(exc), "an InputError always has a message"
        event(f"InputError at {exc.field.split('.')[0]}")
        return None
    event("accepted")
    assert isinstance(patient, PatientInput)
    assert patient.lumps
    assert all(isinstance(n, str) for n in notes)
    return patient


@st.composite
def mutated(draw: st.DrawFn, base: st.SearchStrategy[str]) -> str:
    """A JSON text with a few characters cut, changed or inserted."""
    text = draw(base)
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(text)))
        how = draw(st.sampled_from(["cut", "insert", "truncate"]))
        if how == "truncate":
            text = text[:at]
        elif how == "cut":
            text = text[:at] + text[at + 1:]
        else:
            text = text[:at] + draw(st.sampled_from(list('{}[]",:0-.eE ntfaNI\\'))) + text[at:]
    return text


def dumps(value: Any) -> str:
    return json.dumps(value)  # NaN and Infinity are written as such, as json.loads accepts them


CASE_DOCS = finding_sets().map(lambda f: {"id": "fuzz", "findings": f})
NATIVE_DOCS = st.builds(
    lambda patient, lumps, setting: {"setting": setting, "patient": patient,
                                     "lumps": [{"findings": f} for f in lumps]},
    finding_sets(max_size=4, scope=Scope.PATIENT),  # each finding in its one place
    st.lists(finding_sets(max_size=6, scope=Scope.LUMP), min_size=1, max_size=3),
    st.sampled_from([None, "primary_care", "spine_pain_clinic", "dermatology_surgery"]),
)


@FUZZ
@given(json_values())
def test_arbitrary_json_value(value):
    read_or_input_error(dumps(value))


@FUZZ
@given(st.one_of(
    st.fixed_dictionaries({"findings": json_values()},
                          optional={"later_tests": json_values(), "id": json_values(),
                                    "gold": json_values(), "urgent_expected": json_values()}),
    st.fixed_dictionaries({"lumps": st.lists(json_values(), max_size=3)},
                          optional={"patient": json_values(), "setting": json_values()}),
    st.fixed_dictionaries({"lumps": st.lists(st.fixed_dictionaries(
        {}, optional={"id": json_values(), "findings": json_values(),
                      "later_tests": json_values()}), max_size=3)},
        optional={"patient": json_values()}),
))
def test_arbitrary_json_in_the_shape_of_a_case(doc):
    read_or_input_error(dumps(doc))


@FUZZ
@given(TEXT)
def test_arbitrary_text(text):
    read_or_input_error(text)


@FUZZ
@given(mutated(st.one_of(CASE_DOCS, NATIVE_DOCS, json_values()).map(dumps)))
def test_mutated_json_text(text):
    read_or_input_error(text)


@FUZZ
@given(st.one_of(
    st.fixed_dictionaries({"later_tests": st.fixed_dictionaries({}, optional={
        "ultrasound": TEXT, "mri": TEXT, "histopathology": TEXT,
        "injection_pain_before": st.one_of(st.integers(-2, 12), st.floats()),
        "injection_pain_after": st.one_of(st.integers(-2, 12), st.floats()),
        "anesthetic_injection_relief": st.one_of(st.none(), st.booleans()),
    })}),
))
def test_free_text_reports(doc):
    read_or_input_error(dumps({"findings": {}, **doc}))


@FUZZ
@given(CASE_DOCS)
def test_valid_case_is_read_exactly(doc):
    patient = read_or_input_error(dumps(doc))
    assert patient is not None
    (lump,) = patient.lumps
    assert lump.id == "fuzz"
    assert lump.findings == parse_findings(doc["findings"])


@FUZZ
@given(NATIVE_DOCS)
def test_valid_native_document_merges_patient_findings(doc):
    patient, _ = read_document(dumps(doc))
    shared = parse_findings(doc["patient"])
    assert len(patient.lumps) == len(doc["lumps"])
    assert patient.setting == doc["setting"]
    for lump, raw in zip(patient.lumps, doc["lumps"], strict=True):
        expected = {**shared, **parse_findings(raw["findings"])}
        assert dict(lump.findings) == expected


@FUZZ
@given(st.data())
def test_a_finding_out_of_its_place_is_refused_naming_the_place(data):
    """A patient document holds each finding in one place, as its schema says: a lump's
    finding or a later test in ``patient``, a patient-level one or a later test in a lump's
    ``findings``, is refused (whatever its value), and the error says where it belongs."""
    fid = data.draw(st.sampled_from(ALL_IDS))
    spec = FINDINGS[fid]
    value = data.draw(finding_values(fid))
    places = []
    if spec.later_test or spec.scope is Scope.LUMP:
        places.append(({"patient": {fid: value}, "lumps": [{}]}, f"patient.{fid}"))
    if spec.later_test or spec.scope is Scope.PATIENT:
        places.append(({"lumps": [{"findings": {fid: value}}]}, f"lumps.0.findings.{fid}"))
    belongs = ("later_tests." if spec.later_test else
               "findings." if spec.scope is Scope.LUMP else "patient.") + fid
    for doc, where in places:
        try:
            read_document(dumps(doc))
        except InputError as exc:
            assert exc.field == where
            assert exc.allowed and belongs in exc.allowed
        else:
            raise AssertionError(f"{where} was accepted")


@FUZZ
@given(st.data())
def test_one_invalid_value_is_named(data):
    fid = data.draw(st.sampled_from(ALL_IDS))
    # a patient document holds each finding in its place (a later test in later_tests)
    native = data.draw(st.booleans()) and not FINDINGS[fid].later_test
    findings = data.draw(finding_sets(max_size=8, scope=FINDINGS[fid].scope if native
                                      else None))
    findings[fid] = data.draw(invalid_values(fid))
    if native and FINDINGS[fid].scope is Scope.PATIENT:
        doc, where = {"patient": findings, "lumps": [{}]}, f"patient.{fid}"
    elif native:
        doc, where = {"lumps": [{"findings": findings}]}, f"lumps.0.findings.{fid}"
    else:
        doc, where = {"findings": findings}, f"findings.{fid}"
    try:
        read_document(dumps(doc))
    except InputError as exc:  # a value inside a list or object is named by its own path
        assert exc.field == where or exc.field.startswith(where + ".")
        assert exc.allowed
    else:
        raise AssertionError(f"{fid}={findings[fid]!r} was accepted")


@CLI
@given(st.one_of(
    TEXT,
    mutated(st.one_of(CASE_DOCS, NATIVE_DOCS).map(dumps)),
    json_values(max_leaves=10).map(dumps),
))
def test_cli_assess_on_arbitrary_text(text):
    result = runner.invoke(app, ["assess", "-"], input=text)
    assert result.exit_code in (0, 2), (result.exit_code, result.exception)
    event(f"exit {result.exit_code}")
    assert "Traceback" not in result.output
    if result.exit_code == 2:
        lines = result.output.splitlines()
        assert len(lines) == 1 and lines[0].startswith("backmice: error:"), result.output
