"""Reading cases and patient documents: the anaesthetic test, ignored keys, lump ids.

Each test pins one reading rule of :mod:`backmice.interop.cases` and the note it leaves for the
clinician (notes are shown on the page and in the Markdown note, so their wording is checked).
"""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from backmice.errors import InputError
from backmice.interop.cases import read_case, read_document
from backmice.kb.base import INJECTION_FINDING
from backmice.kb.schema import InjectionReading

PSIS = {"location": "posterior_superior_iliac_spine", "laterality": "left", "size_cm": 1.2,
        "mobile": True, "tender": True}
BUTTOCK = {"location": "buttock", "laterality": "right", "size_cm": 3.0}


def native(*lumps: dict) -> str:
    return json.dumps({"lumps": list(lumps)})


def injection(before=None, after=None, minutes=None) -> dict:
    tests = {"injection_pain_before": before, "injection_pain_after": after,
             "minutes_after": minutes}
    return {k: v for k, v in tests.items() if v is not None}


def relief_of(patient, i=0):
    return patient.lumps[i].findings.get(INJECTION_FINDING)


# --- the anaesthetic test ---------------------------------------------------------------------

def test_each_injection_note_names_its_lump():
    patient, notes = read_document(native(
        {"id": "left-psis", "findings": PSIS, "later_tests": injection(8, 1)},
        {"id": "right-buttock", "findings": BUTTOCK, "later_tests": injection(8, 6)}))
    assert relief_of(patient, 0) is True and relief_of(patient, 1) is False
    relief, no_relief = notes
    assert relief.startswith("Lump left-psis (left posterior superior iliac spine): ")
    assert "8 → 1" in relief and "counted as relief" in relief
    assert no_relief.startswith("Lump right-buttock (right buttock): ")
    assert "8 → 6" in no_relief and "counted as no relief" in no_relief


def test_a_lump_without_id_is_named_by_its_place_in_the_list():
    _, notes = read_document(native({"findings": PSIS},
                                     {"findings": BUTTOCK, "later_tests": injection(8, 1)}))
    assert notes[0].startswith("Lump 2 (right buttock): ")


def test_a_case_format_note_names_the_case_and_site():
    _, notes = read_document(json.dumps({"id": "dev-9", "findings": PSIS,
                                         "later_tests": injection(8, 1)}))
    assert notes[0].startswith("Lump dev-9 (left posterior superior iliac spine): ")


@pytest.mark.parametrize(("tests", "missing", "given"), [
    (injection(before=8), "after the injection is missing", "before, 8,"),
    (injection(after=1), "before the injection is missing", "after, 1,"),
    (injection(before=8, minutes=15), "after the injection is missing", "before, 8,"),
], ids=["only-before", "only-after", "before-and-time"])
def test_one_pain_score_alone_is_not_used_and_says_so(tests, missing, given):
    patient, notes = read_document(native({"id": "a", "findings": PSIS, "later_tests": tests}))
    assert relief_of(patient) is None
    (note,) = notes
    assert note.startswith("Lump a (left posterior superior iliac spine): anaesthetic test "
                           "not used: ")
    assert missing in note and given in note


def test_a_time_without_pain_scores_is_not_used_and_says_so():
    patient, notes = read_document(native({"id": "a", "later_tests": {"minutes_after": 20}}))
    assert relief_of(patient) is None
    assert notes == ["Lump a: anaesthetic test not used: a time after the injection was given "
                     "but no pain scores."]


@pytest.mark.parametrize(("minutes", "relief"), [(0, True), (15, True), (60, True),
                                                 (61, None), (600, None)])
def test_relief_is_read_only_within_the_window_of_the_knowledge_base(minutes, relief):
    patient, notes = read_document(native({"id": "a", "findings": PSIS,
                                           "later_tests": injection(8, 1, minutes)}))
    assert relief_of(patient) is relief
    (note,) = notes
    if relief is None:
        assert "not used" in note
        assert f"scored {minutes} minutes after the injection, later than the 60 minutes" in note
    else:
        assert f"8 → 1 at {minutes} minutes counted as relief" in note


def test_no_relief_read_late_is_not_used_either():
    """Pain back at 10 hours says nothing: the anaesthetic has worn off by then."""
    patient, notes = read_document(native({"id": "a", "later_tests": injection(8, 7, 600)}))
    assert relief_of(patient) is None
    assert "not used" in notes[0]


def test_without_a_time_the_scores_are_read_and_the_note_says_the_time_is_missing():
    patient, notes = read_document(native({"id": "a", "later_tests": injection(8, 2)}))
    assert relief_of(patient) is True
    assert "the time of the second score was not given" in notes[0]


def test_threshold_and_window_come_from_the_knowledge_base(kb):
    rule = kb.findings[INJECTION_FINDING].reading
    assert isinstance(rule, InjectionReading)
    assert rule.provenance.citations, "the window and threshold cite their sources"
    text = native({"id": "a", "later_tests": injection(10, 4, 90)})
    strict = replace(kb, findings={**kb.findings, INJECTION_FINDING: kb.findings[
        INJECTION_FINDING].model_copy(update={"reading": rule.model_copy(
            update={"min_relief": 0.5, "within_minutes": 120})})})
    assert relief_of(read_document(text, kb=kb)[0]) is None  # 90 minutes: too late at 60
    patient, notes = read_document(text, kb=strict)
    assert relief_of(patient) is True  # 60% fall, within 120 minutes
    assert "at least 50% within 120 minutes" in notes[0]


def test_a_recorded_relief_answer_wins_over_the_scores():
    patient, notes = read_document(native({"id": "a", "later_tests": {
        INJECTION_FINDING: False, "injection_pain_before": 8}}))
    assert relief_of(patient) is False and notes == []


@pytest.mark.parametrize(("recorded", "before", "after", "reads_as"),
                         [(False, 10, 1, "relief"), (True, 8, 7, "no relief")])
def test_a_recorded_answer_the_scores_contradict_is_used_with_a_note(recorded, before, after,
                                                                   reads_as):
    patient, notes = read_document(native({"id": "left-psis", "findings": PSIS, "later_tests": {
        INJECTION_FINDING: recorded, **injection(before, after, 20)}}))
    assert relief_of(patient) is recorded  # the documented rule: the answer is used
    (note,) = notes
    assert note.startswith("Lump left-psis (left posterior superior iliac spine): ")
    said = "relief" if recorded else "no relief"
    assert f"recorded as {said}, but the pain scores {before} → {after} read as {reads_as}" \
        in note


@pytest.mark.parametrize("tests", [injection(10, 1, 20), injection(8, 7, 90), injection(10),
                                   injection(0, 0, 10)])
def test_a_recorded_answer_the_scores_agree_with_or_cannot_speak_to_leaves_no_note(tests):
    patient, notes = read_document(native({"id": "a", "later_tests": {
        INJECTION_FINDING: True, **tests}}))
    assert relief_of(patient) is True and notes == []


@pytest.mark.parametrize("bad", [-1, "15", True, float("inf")])
def test_minutes_after_is_checked(bad):
    with pytest.raises(InputError) as err:
        read_document(native({"later_tests": {**injection(8, 1), "minutes_after": bad}}))
    assert err.value.field == "lumps.0.later_tests.minutes_after"


# --- ignored keys -----------------------------------------------------------------------------

SARCOMA = {"histopathology": "myxoid liposarcoma"}


def test_a_mistyped_top_level_key_is_ignored_with_a_note_naming_the_nearest_key():
    patient, notes = read_document(json.dumps({"id": "x", "findings": BUTTOCK,
                                               "later_test": SARCOMA}))
    assert "histopathology_finding" not in patient.lumps[0].findings
    assert notes == ["Ignored key 'later_test' (did you mean 'later_tests'?): it is not part of "
                     "the case format, so it was not used."]


def test_every_unknown_top_level_key_gets_a_note_and_known_keys_none():
    case = {"id": "x", "gold": "lipoma", "source": {"kind": "synthetic"}, "vignette": "v",
            "findings": {}, "later_tests": None, "urgent_expected": False, "notes": "",
            "reviewer": "me", "zzz": 1}
    notes = list(read_case(case).notes)
    assert len(notes) == 2
    assert notes[0].startswith("Ignored key 'reviewer': ")  # nothing close: no suggestion
    assert notes[1].startswith("Ignored key 'zzz': ")


def test_lenient_reading_notes_ignored_finding_and_later_test_keys():
    case = {"id": "x", "findings": {"sizecm": 3, "size_cm": 2},
            "later_tests": {"ultrasond": "normal"}}
    record = read_case(case, strict=False)
    assert record.first_visit["size_cm"] == 2
    assert record.notes == (
        "Lump x: ignored finding 'sizecm' (did you mean 'size_cm'?): it is not part of the case "
        "format, so it was not used.",
        "Lump x: ignored later test 'ultrasond' (did you mean 'ultrasound'?): it is not part of "
        "the case format, so it was not used.")
    with pytest.raises(InputError, match="did you mean 'ultrasound'"):
        read_case(case | {"findings": {}})  # strict (CLI and API): refused, with the hint


def test_many_unknown_keys_are_summed_up():
    case = {"findings": {}, **{f"extra_{i}": i for i in range(25)}}
    notes = read_case(case).notes
    assert len(notes) == 11 and notes[-1] == "15 more unknown keys were ignored."


def test_a_native_document_refuses_an_unknown_key_and_suggests_the_nearest():
    with pytest.raises(InputError) as err:
        read_document(native({"id": "a", "later_test": SARCOMA}))
    assert err.value.field == "lumps.0.later_test"
    assert "did you mean 'later_tests'?" in str(err.value)


def test_a_document_with_a_mistyped_findings_key_gets_a_hint():
    with pytest.raises(InputError, match="did you mean 'findings'"):
        read_document(json.dumps({"finding": BUTTOCK}))


# --- lump ids ---------------------------------------------------------------------------------

def test_duplicate_lump_ids_are_refused_with_the_field_path():
    with pytest.raises(InputError) as err:
        read_document(native({"id": "a"}, {"id": "b"}, {"id": "a"}))
    assert err.value.field == "lumps.2.id"
    assert "must be unique" in err.value.message and "lumps.0.id" in err.value.message


def test_default_ids_never_collide_with_given_ones():
    patient, _ = read_document(native({"id": "lump-2"}, {}, {"id": "lump-3-2"}, {}))
    ids = [lump.id for lump in patient.lumps]
    assert ids[0] == "lump-2" and ids[2] == "lump-3-2"
    assert len(set(ids)) == 4
