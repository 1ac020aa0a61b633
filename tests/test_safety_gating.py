"""Advice never contradicts a red flag: sarcoma features hold back every invasive option unless an
infection is established, a "don't miss" possibility is named whenever a red flag fires, and the
red flags fire on what real presentations say (fever with back pain, pain in both legs)."""

from __future__ import annotations

from hypothesis import given, settings

from backmice.engine import assess
from backmice.engine.recommend import invasive_deferred
from backmice.findings import parse_findings
from backmice.kb.base import INVASIVE_KINDS
from backmice.kb.loader import default_kb
from strategies import finding_sets

KB = default_kb()
INVASIVE_STEPS = {w.id for w in KB.workup if w.invasive}
# The lump of the real-case review: 7 cm, intramuscular, growing fast, fever and redness unknown.
SARCOMA_LIKE = {"size_cm": 7, "depth": "intramuscular", "growth": "rapid", "location": "buttock",
                "pain": True, "tender": True}


def _run(**findings):
    return assess(KB, parse_findings(findings))


def test_sarcoma_features_hold_back_cutting_and_needling():
    a = _run(**SARCOMA_LIKE)
    assert a.invasive_deferred
    assert not INVASIVE_STEPS & {w.id for w in a.workup}
    assert not [t.id for t in a.treatments if t.kind in INVASIVE_KINDS]
    assert a.notes[0] == KB.texts.invasive_deferred.clinician  # shown before the work-up
    assert "urgent_ultrasound_two_weeks" in {w.id for w in a.workup}
    assert {"liposarcoma", "other_soft_tissue_sarcoma"} & {m.id for m in a.dont_miss}


def test_an_established_abscess_is_drained_despite_sarcoma_features():
    a = _run(**SARCOMA_LIKE, consistency="fluctuant", fever=True, erythema=True)
    assert not a.invasive_deferred
    assert "drainage_and_culture" in {w.id for w in a.workup}
    assert "abscess_incision_and_drainage" in {t.id for t in a.treatments}


def test_fluctuance_alone_does_not_establish_an_infection():
    a = _run(**SARCOMA_LIKE, consistency="fluctuant")
    assert a.invasive_deferred
    assert not INVASIVE_STEPS & {w.id for w in a.workup}


def test_fever_with_back_pain_is_a_same_day_red_flag():
    a = _run(age_years=11, location="buttock", pain=True, fever=True)
    assert a.triage.level in ("urgent_same_day", "emergency")
    assert "fever_with_back_lump_or_pain" in {h.id for h in a.red_flags}


def test_pain_in_both_legs_is_a_same_day_red_flag():
    a = _run(location="lumbar_paraspinal", pain=True, bilateral_leg_symptoms=True,
             bladder_or_bowel_dysfunction=False, saddle_anaesthesia=False)
    assert a.triage.level == "urgent_same_day"
    assert {m.id for m in a.dont_miss} & {"cauda_equina_syndrome", "spinal_epidural_abscess"}


@settings(max_examples=300, deadline=None)
@given(finding_sets())
def test_no_invasive_advice_while_a_sarcoma_feature_stands(raw):
    a = assess(KB, parse_findings(raw))
    if invasive_deferred(KB, a.red_flags, a.findings):
        assert not INVASIVE_STEPS & {w.id for w in a.workup}
        assert not [t for t in a.treatments if t.kind in INVASIVE_KINDS]


@settings(max_examples=300, deadline=None)
@given(finding_sets())
def test_a_red_flag_always_names_a_possibility_not_to_miss(raw):
    a = assess(KB, parse_findings(raw))
    if a.red_flags:
        assert a.dont_miss
    assert all(m.probability is None or 0 <= m.probability <= 1 for m in a.dont_miss)
