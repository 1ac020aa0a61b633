"""Clinical behaviour of the engine on hand-made findings (each test states the rule it pins)."""

from __future__ import annotations

from backmice.engine import assess, assess_patient
from backmice.findings import FindingSet, LumpInput, PatientInput, parse_findings

BACK_MOUSE = {
    "age_years": 47, "sex": "female", "location": "posterior_superior_iliac_spine",
    "palpable_lump": True, "size_cm": 1.5, "depth": "subcutaneous",
    "consistency": "firm_rubbery", "mobile": True, "tender": True, "pain": True,
    "pain_reproduced_by_pressure": True, "growth": "stable", "erythema": False,
    "warmth": False, "fever": False, "neurological_deficit": False,
}


def run(kb, **findings):
    return assess(kb, parse_findings(findings))


def probability(a, outcome):
    return dict(a.outcomes)[outcome]


def test_typical_back_mouse_leads_with_family_and_no_flag(kb):
    a = run(kb, **BACK_MOUSE)
    assert a.top.back_mouse_family
    assert a.back_mouse_family_probability > 0.8
    assert not a.red_flags
    assert a.triage.level == "routine"
    assert any(w.id == "anaesthetic_injection_test" for w in a.workup)
    assert a.top.supporting, "the reasoning behind the suggestion is shown"
    assert all(c.source.grade in {"evidence", "expert_opinion", "estimate", "fitted"}
               for c in a.top.supporting)


def test_differential_has_seven_conditions_and_other(kb):
    a = run(kb)
    assert len(a.differential) == 8
    assert {d.id for d in a.differential} >= {"other", "liposarcoma", "episacral_lipoma"}
    other = next(d for d in a.differential if d.id == "other")
    assert {oid for oid, _, _ in other.includes} >= {"lumbar_radiculopathy", "pilonidal_abscess"}


def test_injection_relief_favours_family_but_never_cancels_a_sarcoma_flag(kb):
    lump = {**BACK_MOUSE, "size_cm": 7.0, "depth": "deep_to_fascia"}
    before = run(kb, **lump)
    after = run(kb, **lump, anesthetic_injection_relief=True)
    assert after.back_mouse_family_probability > before.back_mouse_family_probability
    assert {h.id for h in after.red_flags} == {h.id for h in before.red_flags}
    assert after.triage.level == "urgent_2_weeks"
    assert any("does not cancel" in n for n in after.notes)


def test_no_relief_lowers_the_family(kb):
    assert (run(kb, **BACK_MOUSE, anesthetic_injection_relief=False)
            .back_mouse_family_probability
            < run(kb, **BACK_MOUSE).back_mouse_family_probability)


def test_histopathology_settles_the_diagnosis(kb):
    a = run(kb, **BACK_MOUSE,
            histopathology_finding="atypical_lipomatous_tumour_or_liposarcoma")
    assert a.top.id == "liposarcoma"
    assert a.top.probability == 1.0
    assert probability(a, "episacral_lipoma") == 0.0


def test_correlated_inflammation_signs_are_not_triple_counted(kb):
    """Warmth after redness adds much less than redness did: one process, counted once."""
    base = run(kb, location="buttock")
    red = run(kb, location="buttock", erythema=True)
    red_warm = run(kb, location="buttock", erythema=True, warmth=True)

    def odds(a):
        p = probability(a, "subcutaneous_abscess")
        return p / (1 - p)

    # every log-likelihood is weighted (fit.yaml), so the steps are compared on that scale
    w = kb.fit.likelihood_weight
    first_step = odds(red) / odds(base)
    second_step = odds(red_warm) / odds(red)
    assert first_step > 5 ** w
    assert second_step < first_step / 3 ** w


def test_emergency_flag_beats_any_probability(kb):
    a = run(kb, **BACK_MOUSE, bladder_or_bowel_dysfunction=True)
    assert a.top.back_mouse_family  # the lump still looks like a back mouse...
    assert a.triage.level == "emergency"  # ...but the red flag decides the urgency
    assert a.red_flags[0].id == "cauda_equina"


def test_painless_small_lump_without_flags_is_self_care(kb):
    a = run(kb, **{**BACK_MOUSE, "pain": False, "tender": False})
    assert a.triage.level == "self_care"


def test_red_flag_questions_come_first(kb):
    a = run(kb, **BACK_MOUSE)
    assert a.questions
    assert a.questions[0].red_flag
    assert a.triage.provisional


def test_a_cluster_given_as_a_nodule_count_brings_up_liposuction_and_triage_is_the_worst(kb):
    """A cluster of similar nodules is one lump with its nodule count (the clinician says so)."""
    cluster = FindingSet(parse_findings({**BACK_MOUSE, "nodule_count": 40}).values)
    big = FindingSet(parse_findings(BACK_MOUSE).values).with_values(size_cm=8.0)
    result = assess_patient(kb, PatientInput(lumps=(LumpInput("cluster", cluster),
                                                    LumpInput("big", big))))
    assert result.triage.level == "urgent_2_weeks"
    by_id = {a.lump_id: a for a in result.lumps}
    assert any(t.kind == "liposuction" for t in by_id["cluster"].treatments)
    assert not any(t.kind == "liposuction" for t in by_id["big"].treatments)
    assert [a.lump_id for a in result.lumps] == ["big", "cluster"]  # most urgent first


def test_many_lumps_without_counts_are_not_taken_as_a_cluster(kb):
    """Five lumps recorded one by one: each is assessed alone, and a note points to the count.

    Before this rule the number of lumps was written into every lump's nodule count, so five
    lumps anywhere made each one "many nodules" (and offered liposuction for each)."""
    small = FindingSet(parse_findings(BACK_MOUSE).values)
    lumps = tuple(LumpInput(f"l{i}", small) for i in range(5))
    result = assess_patient(kb, PatientInput(lumps=lumps))
    alone = assess(kb, small, lump_id="l0")
    assert result.lumps[0].outcomes == alone.outcomes
    assert "nodule_count" not in result.lumps[0].findings
    assert not any(t.kind == "liposuction" for t in result.lumps[0].treatments)
    assert any("nodule count" in n and "liposuction" in n for n in result.notes)
    assert not any("taken as" in n for n in result.notes)


ABSCESS = {"location": "buttock", "laterality": "right", "size_cm": 3.0, "erythema": True,
           "warmth": True, "consistency": "fluctuant", "tender": True, "pain": True}


def test_an_unrelated_lump_does_not_change_another_lumps_result(kb):
    """The reviewer's case: a buttock abscess kept its probability only when it was alone."""
    abscess = parse_findings(ABSCESS)
    psis = parse_findings({"location": "posterior_superior_iliac_spine", "laterality": "left",
                           "size_cm": 1.2, "mobile": True, "tender": True})
    alone = assess_patient(kb, PatientInput(lumps=(LumpInput("a", abscess),)))
    both = assess_patient(kb, PatientInput(lumps=(LumpInput("a", abscess),
                                                  LumpInput("b", psis))))
    assert both.lumps[0].outcomes == alone.lumps[0].outcomes
    assert both.lumps[0].differential == alone.lumps[0].differential
    assert both.lumps[0].triage == alone.lumps[0].triage
    assert both.lumps[1].outcomes == assess(kb, psis).outcomes
    assert any("own findings" in n for n in both.notes)


def test_an_explicit_nodule_count_is_kept_for_its_lump_only(kb):
    counted = parse_findings({**BACK_MOUSE, "nodule_count": 3})
    other = parse_findings(ABSCESS)
    result = assess_patient(kb, PatientInput(lumps=(LumpInput("a", counted),
                                                    LumpInput("b", other))))
    by_id = {a.lump_id: a for a in result.lumps}
    assert by_id["a"].findings["nodule_count"] == 3
    assert "nodule_count" not in by_id["b"].findings
    assert len(result.notes) == 1 and "own findings" in result.notes[0]


def test_weak_evidence_is_stated_for_complementary_options(kb):
    a = run(kb, **BACK_MOUSE)
    complementary = [t for t in a.treatments if t.kind == "complementary"]
    assert complementary
    assert all(t.evidence_level in {"very_low", "low"} for t in complementary)


def test_every_setting_gives_a_full_assessment(kb):
    for setting in kb.setting_ids:
        a = assess(kb, parse_findings(BACK_MOUSE), setting=setting)
        assert abs(sum(d.probability for d in a.differential) - 1) < 1e-9


def test_treatments_per_outcome_list_each_treatment_for_it_in_kb_order(kb):
    from backmice.engine import recommend

    options = [option for _, _, option in recommend._treatments(kb)]
    by_outcome = recommend._treatments_for(kb)
    for outcome in kb.outcomes:
        expected = [option for t, _, option in recommend._treatments(kb)
                    if outcome in t.conditions]
        listed = by_outcome.get(outcome, ())
        assert [option for _, option, _ in listed] == expected
        for _, option, key in listed:
            assert options[key] == option  # equal options share a key


def _treatments_checked_at_each_appearance(kb, ctx, lead):
    """The treatments as first written: each appearance of an option checks its rule."""
    from backmice.engine import recommend

    chosen, keys = [], set()
    for outcome in lead:
        for check, option, key in recommend._treatments_for(kb).get(outcome, ()):
            if key not in keys and (check is None or check(ctx)):
                chosen.append(option)
                keys.add(key)
    return tuple(chosen)


def test_treatment_plans_choose_as_checking_each_appearance(kb):
    import itertools
    import random

    from backmice.engine import recommend

    rnd = random.Random(3)
    flags = ["pain", "tender", "erythema", "warmth", "fever", "systemically_unwell",
             "immunocompromised_or_diabetic", "recurrent_after_excision", "spreading_redness"]
    for _ in range(300):
        ctx = {f: rnd.choice((True, False)) for f in flags if rnd.random() < 0.6}
        ctx.update(size_cm=rnd.choice((1.0, 5.0, 7.5)), nodule_count=rnd.choice((1, 5, "many")),
                   depth=rnd.choice(("subcutaneous", "intramuscular")),
                   consistency=rnd.choice(("soft", "hard", "fluctuant")))
        for lead in itertools.islice(itertools.permutations(kb.outcomes, 3), 0, None, 97):
            for size in (1, 2, 3):
                assert recommend.treatments(kb, ctx, lead[:size]) == \
                    _treatments_checked_at_each_appearance(kb, ctx, lead[:size])


def test_leading_outcomes_from_the_ranking_equal_sorting_again():
    from backmice.engine import recommend

    outcomes = ("a", "b", "c", "d", "e")
    for post in ([0.5, 0.2, 0.15, 0.1, 0.05], [0.3, 0.3, 0.2, 0.1, 0.1],
                 [0.05, 0.2, 0.2, 0.2, 0.35], [0.4, 0.3, 0.2, 0.1, 0.0], [0.2] * 5):
        ranked = sorted(zip(outcomes, post, strict=True), key=lambda t: t[1], reverse=True)
        top = sorted(zip(post, outcomes, strict=True), reverse=True)[:3]
        expected = [o for i, (p, o) in enumerate(top) if i == 0 or p >= recommend.LEADING_MIN]
        assert recommend.leading(outcomes, post, ranked) == expected
        assert recommend.leading(outcomes, post) == expected
