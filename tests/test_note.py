"""The clinician note and the readable findings and rules it shares with the clinician page."""

from __future__ import annotations

import re

import pytest

from backmice import assess_patient, read_document
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
    assert "(rule: Size ≥ 5 cm)" in note
    assert "(rule: Age < 18 years and ((Growth: slow or rapid) or Size ≥ 5 cm))" in note
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
