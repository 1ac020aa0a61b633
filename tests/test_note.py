"""The clinician note and the readable findings and rules it shares with the clinician page."""

from __future__ import annotations

import re

import pytest

from backmice import assess_patient, read_document
from backmice.render.citing import reference_text
from backmice.render.finding_text import finding_label, findings_text, rule_text, value_text
from backmice.render.note import clinician_note, name_lumps

LARGE_DEEP = """{"patient": {"age_years": 15},
  "lumps": [{"id": "a", "findings": {"location": "buttock", "laterality": "right",
             "size_cm": 7, "depth": "deep_to_fascia", "mobile": false}}]}"""


@pytest.mark.parametrize(("rule", "text"), [
    ("size_cm >= 5", "Size ≥ 5 cm"),
    ("age_years < 18", "Age < 18 years"),
    ("fever == true", "Fever: yes"),
    ("mobile == false", "Mobile: no"),
    ("depth in [deep_to_fascia, intramuscular]", "Depth: deep to fascia or intramuscular"),
    ("consistency != hard", "Consistency: not hard"),
    ("history_of_cancer is unknown", "History of cancer not yet known"),
    ({"not": "palpable_lump == false"}, "Palpable lump: not recorded as no"),
    ({"not": {"any": ["fever == true", "warmth == true"]}}, "not (Fever: yes or Warmth: yes)"),
    ({"all": ["age_years < 18", {"any": ["growth in [slow, rapid]", "size_cm >= 5"]}]},
     "Age < 18 years and ((Growth: slow or rapid) or Size ≥ 5 cm)"),
])
def test_rule_text_reads_as_words(kb, rule, text):
    assert rule_text(kb, rule) == text


def test_rule_text_leaves_what_is_not_a_rule_as_it_is(kb):
    assert rule_text(kb, "not a rule at all!") == "not a rule at all!"


def test_every_red_flag_rule_reads_without_ids_or_operators(kb):
    for flag in kb.red_flags:
        text = rule_text(kb, flag.when)
        assert not re.search(r"[a-z]+_[a-z]+|==|>=|<=|!=|\bin \[", text), (flag.id, text)


def test_findings_use_the_knowledge_base_labels(kb):
    assert finding_label(kb, "size_cm") == "Size"
    assert finding_label(kb, "saddle_anaesthesia") == "Saddle numbness"
    assert finding_label(kb, "not_a_finding") == "not a finding"
    assert value_text(kb, "size_cm", 1.5) == "1.5 cm"
    assert value_text(kb, "consistency", "firm_rubbery") == "firm and rubbery"
    assert findings_text(kb, {"age_years": 47, "tender": True, "sex": None}) == [
        ("Age", "47 years"), ("Tender", "yes")]


def test_the_note_speaks_in_labels_and_readable_rules(kb):
    patient, _ = read_document(LARGE_DEEP)
    result = assess_patient(kb, patient)
    note = clinician_note(kb, result)
    assert "**Findings:** Age: 15 years; Location: on the buttock; Side: right;" in note
    assert "Size: 7 cm" in note and "Depth: deep to the fascia" in note
    assert "(rule: Size ≥ 5 cm; " in note
    assert "(rule: Age < 18 years and ((Growth: slow or rapid) or Size ≥ 5 cm); " in note
    assert "**Still to ask (safety):** " in note and "Saddle numbness" in note
    for id_style in ("size cm", "age years", "saddle anaesthesia", "size_cm", "\\u003e", "&gt;"):
        assert id_style not in note
    assert result.disclaimer and f"_{result.disclaimer}_" in note


def test_notes_name_lumps_by_the_names_given_and_leave_other_ids():
    names = {"lesion-1": "L PSIS", "lesion-12": "R crest"}
    text = "Lump lesion-1 (left): a. Lump lesion-12: b. Lump lesion-123: c. Lump lesion-1-2: d."
    assert name_lumps(text, names) == (
        "L PSIS (left): a. R crest: b. Lump lesion-123: c. Lump lesion-1-2: d.")
    assert name_lumps(text, {}) == text


def test_the_note_numbers_its_sources_and_lists_them(kb):
    patient, _ = read_document(LARGE_DEEP)
    note = clinician_note(kb, assess_patient(kb, patient))
    body, _, listed = note.partition("**References:**")
    assert listed, "the note has no reference list"
    cited = [int(n) for group in re.findall(r"\[(\d+(?:, \d+)*)\]", body)
             for n in group.split(", ")]
    assert cited, "the note cites nothing"
    numbers = [int(n) for n in re.findall(r"^(\d+)\. ", listed, re.M)]
    # numbered by first mention: the list is 1..n and the text first cites them in that order
    assert numbers == list(range(1, len(numbers) + 1))
    assert sorted(set(cited)) == numbers
    assert list(dict.fromkeys(cited)) == numbers
    assert not re.search(r"\bR\d+\b", body), "a source is named by its knowledge-base id"
    # each entry is the source's reference text, in the knowledge base's words
    entries = re.findall(r"^\d+\. (.+)$", listed, re.M)
    texts = {reference_text(c) for c in kb.citations.values()}
    assert entries and all(e in texts for e in entries), entries


def test_a_source_the_knowledge_base_no_longer_holds_is_listed_by_its_id(kb):
    from backmice.render.note import NoteReferences
    from backmice.results import Source

    refs = NoteReferences()
    known = next(iter(kb.citations))
    assert refs.basis(Source("estimate", (), "")) == "estimate"
    assert refs.basis(Source("evidence", (known, "R9999"), "")) == "evidence [1, 2]"
    assert refs.marks((known,)) == "[1]"
    assert refs.lines(kb)[1] == "2. R9999"
