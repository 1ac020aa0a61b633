"""Properties of the engine that must hold for every valid finding set (hypothesis).

Each test states the property in its name and docstring; the finding sets come from
``tests/strategies.py``, which reads the vocabulary, so new findings are covered automatically.
"""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backmice.engine import assess, assess_patient, bayes, red_flags
from backmice.engine.model import compile_model
from backmice.errors import InputError
from backmice.findings import FINDINGS, Kind, LumpInput, PatientInput, parse_findings, parse_value
from backmice.kb.loader import default_kb
from backmice.kb.schema import Urgency
from backmice.results import URGENCY_ORDER
from strategies import ALL_IDS, finding_sets, finding_values, invalid_values

KB = default_kb()
SETTINGS = KB.setting_ids
PROPERTY = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
TOL = 1e-9
LIKELIHOOD_IDS = tuple(f for f in ALL_IDS if f != "histopathology_finding")


def rank(level: str) -> int:
    return URGENCY_ORDER.index(level)  # type: ignore[arg-type]


def flag_ids(hits) -> set[str]:
    return {h.id for h in hits}


def same_to_12_places(a, b) -> bool:
    """The differential probabilities of two assessments, equal after rounding to 12 places.

    Summing the same logs in another order can change the last bits (up to ~1e-14), which in
    rare cases straddles a rounding boundary; such a pair still differs by far less than 1e-12.
    """
    pa = {d.id: d.probability for d in a.differential}
    pb = {d.id: d.probability for d in b.differential}
    return pa.keys() == pb.keys() and all(
        round(pa[k], 12) == round(pb[k], 12) or abs(pa[k] - pb[k]) < 1e-13 for k in pa)


# --- the strategies themselves --------------------------------------------------------------


@PROPERTY
@given(st.data())
def test_strategy_values_are_accepted_and_invalid_values_rejected(data):
    fid = data.draw(st.sampled_from(ALL_IDS), label="finding")
    spec = FINDINGS[fid]
    good = data.draw(finding_values(fid), label="valid")
    assert parse_value(spec, good, fid) is not None
    bad = data.draw(invalid_values(fid), label="invalid")
    with pytest.raises(InputError):
        parse_value(spec, bad, fid)


@PROPERTY
@given(finding_sets(exclude_later_tests=True))
def test_finding_sets_parse_and_can_exclude_later_tests(raw):
    parsed = parse_findings(raw)
    assert set(parsed) == set(raw)
    assert not any(FINDINGS[f].later_test for f in parsed)


# --- probabilities --------------------------------------------------------------------------


@PROPERTY
@given(finding_sets())
def test_posterior_is_a_distribution_in_every_setting(raw):
    findings = parse_findings(raw)
    for setting in SETTINGS:
        model = compile_model(KB, setting)
        post = bayes.posterior(model, findings)
        assert len(post) == len(model.outcomes)
        assert all(0.0 <= p <= 1.0 for p in post)
        assert math.isclose(sum(post), 1.0, rel_tol=0.0, abs_tol=TOL)

        a = assess(KB, findings, setting=setting, with_questions=False)
        assert all(0.0 <= d.probability <= 1.0 for d in a.differential)
        assert math.isclose(sum(d.probability for d in a.differential), 1.0,
                            rel_tol=0.0, abs_tol=TOL)
        assert math.isclose(sum(p for _, p in a.outcomes), 1.0, rel_tol=0.0, abs_tol=TOL)
        by_id = dict(a.outcomes)
        assert math.isclose(a.back_mouse_family_probability,
                            sum(by_id[o] for o in KB.family()), rel_tol=0.0, abs_tol=1e-12)
        # the engine's posterior and the assessment agree
        for outcome, p in zip(model.outcomes, post, strict=True):
            assert by_id[outcome] == p


@PROPERTY
@given(finding_sets(min_size=1), st.randoms(use_true_random=False), st.sampled_from(SETTINGS))
def test_order_of_findings_does_not_matter(raw, rnd: random.Random, setting):
    findings = dict(parse_findings(raw))  # validated values, vocabulary order
    reversed_ = dict(reversed(list(findings.items())))
    items = list(findings.items())
    rnd.shuffle(items)
    shuffled = dict(items)
    drawn = dict(raw)  # the order hypothesis drew the keys in (raw, unnormalised values)
    base = assess(KB, findings, setting=setting)
    for other_order in (reversed_, shuffled, drawn):
        other = assess(KB, other_order, setting=setting)
        # sums in another order may differ in the last bit: equal to 12 places is the claim
        assert same_to_12_places(other, base)
        assert [h.id for h in other.red_flags] == [h.id for h in base.red_flags]
        assert other.triage.level == base.triage.level
        assert other.triage.unanswered_red_flag_questions == \
            base.triage.unanswered_red_flag_questions


@PROPERTY
@given(finding_sets(), st.sampled_from(ALL_IDS), st.sampled_from(SETTINGS))
def test_an_unknown_finding_changes_nothing(raw, key, setting):
    findings = parse_findings(raw)
    assert parse_findings({key: None}) == parse_findings({})
    if key in findings:  # setting a known finding to None makes it unknown: not this property
        raw = {k: v for k, v in raw.items() if k != key}
        findings = parse_findings(raw)
    base = assess(KB, findings, setting=setting)
    via_with_values = findings.with_values(**{key: None})
    via_parse = parse_findings({**raw, key: None})
    assert via_with_values == findings
    assert via_parse == findings
    assert assess(KB, via_with_values, setting=setting) == base
    assert assess(KB, via_parse, setting=setting) == base



@PROPERTY
@given(finding_sets(), st.sets(st.sampled_from(ALL_IDS), max_size=6), st.sampled_from(SETTINGS))
def test_dont_know_is_not_a_no(raw, dont_know, setting):
    """Answering "don't know" fires nothing and changes no level, but every red flag that one of
    those answers alone could fire is named as not ruled out (and the triage is provisional)."""
    findings = {k: v for k, v in parse_findings(raw).items() if k not in dont_know}
    base = assess(KB, findings, setting=setting)
    unsure = assess(KB, findings, setting=setting, skip=dont_know)
    assert unsure.triage.level == base.triage.level
    assert flag_ids(unsure.red_flags) == flag_ids(base.red_flags)
    open_ = set(unsure.triage.red_flags_not_ruled_out)
    assert not open_ & flag_ids(base.red_flags)
    assert set(unsure.triage.unknown_red_flag_questions) <= set(dont_know)
    assert unsure.triage.provisional or not open_
    probes = red_flags._probe_values(KB)
    for fid in dont_know:
        for value in probes[fid]:
            new = flag_ids(red_flags.fired(KB, {**findings, fid: value})) - flag_ids(base.red_flags)
            assert new <= open_, (fid, value)


def _conditional_likelihoods(model, known: dict, fid: str, value) -> list[float]:
    """P(value | outcome, known) for every outcome."""
    n = len(model.outcomes)
    group = model.group_of.get(fid)
    if group is not None:
        extended = {**known, fid: value}
        return [bayes.group_likelihood(group, i, extended)
                / bayes.group_likelihood(group, i, known) for i in range(n)]
    table = model.tables[fid]
    row = table.probs[table.value_index(value)]
    return [row[i] for i in range(n)]


@st.composite
def _known_and_new(draw):
    raw = draw(finding_sets(max_size=len(LIKELIHOOD_IDS) - 1))
    known = dict(parse_findings(raw))
    fid = draw(st.sampled_from([f for f in LIKELIHOOD_IDS if f not in known]), label="new")
    value = parse_value(FINDINGS[fid], draw(finding_values(fid), label="value"), fid)
    setting = draw(st.sampled_from(SETTINGS), label="setting")
    return known, fid, value, setting


def _before_after(case):
    """The posterior before and after adding the new finding, and its conditional likelihoods."""
    known, fid, value, setting = case
    model = compile_model(KB, setting)
    post = bayes.posterior(model, known)
    after = bayes.posterior(model, {**known, fid: value})
    # the engine weights every log-likelihood (fit.yaml), so a finding multiplies by lik ** w
    lik = [x ** model.weight for x in _conditional_likelihoods(model, known, fid, value)]
    return model, post, after, lik


@PROPERTY
@given(_known_and_new())
def test_a_finding_that_favours_an_outcome_over_every_alternative_never_lowers_it(case):
    model, post, after, lik = _before_after(case)
    n = len(model.outcomes)
    checked = 0
    for i in range(n):
        rivals = [j for j in range(n) if j != i and post[j] > 0.0]
        if all(lik[i] >= lik[j] for j in rivals):
            checked += 1
            assert after[i] >= post[i] - 1e-12, (model.outcomes[i], post[i], after[i])
    # the outcome the finding favours most always qualifies, so the check is never vacuous
    assert checked >= 1


@PROPERTY
@given(_known_and_new())
def test_a_finding_likelier_under_an_outcome_than_on_average_raises_it(case):
    """Bayes: P(i | F, v) = P(i | F) * P(v | i, F) / sum_j P(j | F) P(v | j, F)."""
    model, post, after, lik = _before_after(case)
    average = sum(p * q for p, q in zip(post, lik, strict=True))
    for i, outcome in enumerate(model.outcomes):
        if lik[i] > average:
            assert after[i] >= post[i] - 1e-12, (outcome, post[i], after[i])
        elif lik[i] < average:
            assert after[i] <= post[i] + 1e-12, (outcome, post[i], after[i])
        assert math.isclose(after[i], post[i] * lik[i] / average, rel_tol=1e-9, abs_tol=1e-12)


# --- red flags and triage -------------------------------------------------------------------


def _candidate_values(fid: str, extra) -> list:
    spec = FINDINGS[fid]
    if spec.kind is Kind.BOOLEAN:
        return [True, False]
    if spec.kind is Kind.CATEGORY:
        return list(spec.values)
    lo, hi = spec.minimum, spec.maximum
    points = {lo, hi, (lo + hi) / 2}
    if extra is not None:
        points.add(extra)
    for threshold in (1, 2, 5, 10, 13, 18, 30, 50, 52, 70):  # rule thresholds and bin edges
        points |= {math.nextafter(threshold, -math.inf), float(threshold),
                   math.nextafter(threshold, math.inf)}
    values = [float(p) for p in points if lo <= p <= hi]
    if spec.kind is Kind.COUNT:
        values = [int(v) for v in values if float(v).is_integer()] + ["many"]
    return sorted(values, key=str)


@PROPERTY
@given(finding_sets(), st.data())
def test_adding_a_red_flag_never_lowers_the_urgency(raw, data):
    findings = dict(parse_findings(raw))
    before_flags = flag_ids(red_flags.fired(KB, findings))
    before = assess(KB, findings, with_questions=False).triage.level
    for fid in ALL_IDS:
        if fid in findings:
            continue
        spec = FINDINGS[fid]
        extra = (data.draw(finding_values(fid), label=fid)
                 if spec.kind in (Kind.NUMBER, Kind.COUNT) else None)
        for value in _candidate_values(fid, extra if extra != "many" else None):
            extended = {**findings, fid: value}
            if not flag_ids(red_flags.fired(KB, extended)) - before_flags:
                continue
            after = assess(KB, extended, with_questions=False).triage.level
            assert rank(after) <= rank(before), (fid, value, before, after)


@PROPERTY
@given(finding_sets())
def test_red_flags_ignore_the_setting_and_bound_the_triage(raw):
    findings = parse_findings(raw)
    expected = red_flags.fired(KB, findings)
    for setting in SETTINGS:
        a = assess(KB, findings, setting=setting, with_questions=False)
        assert a.red_flags == expected
        if a.red_flags:
            most_urgent = min(rank(h.urgency) for h in a.red_flags)
            assert rank(a.triage.level) <= most_urgent
            assert rank(a.triage.level) == most_urgent  # the flag, not a probability, decides


@PROPERTY
@given(finding_sets(), st.sampled_from(SETTINGS))
def test_assessment_is_deterministic(raw, setting):
    findings = parse_findings(raw)
    first = assess(KB, findings, setting=setting)
    second = assess(KB, findings, setting=setting)
    assert first == second
    assert assess(KB, dict(findings), setting=setting) == first


@PROPERTY
@given(finding_sets(), st.lists(finding_sets(max_size=8), min_size=1, max_size=4),
       st.sampled_from(SETTINGS))
def test_other_lumps_never_change_a_lumps_assessment(raw, others, setting):
    """A lump's result depends on its own findings only, however many lumps are recorded."""
    own = LumpInput("own", parse_findings(raw))
    alone = assess_patient(KB, PatientInput(lumps=(own,), setting=setting)).lumps[0]
    lumps = (own, *(LumpInput(f"o{i}", parse_findings(f)) for i, f in enumerate(others)))
    together = assess_patient(KB, PatientInput(lumps=lumps, setting=setting))
    assert next(a for a in together.lumps if a.lump_id == "own") == alone


@settings(max_examples=60, deadline=None)
@given(st.lists(finding_sets(), min_size=1, max_size=5))
def test_lumps_come_most_urgent_first_in_a_stable_order(raws):
    """The most urgent lump leads; equally urgent lumps keep the order they were given in."""
    lumps = tuple(LumpInput(f"l{i}", parse_findings(f)) for i, f in enumerate(raws))
    result = assess_patient(KB, PatientInput(lumps=lumps))
    keys = [(Urgency(a.triage.level).rank, int(a.lump_id[1:])) for a in result.lumps]
    assert keys == sorted(keys)
    assert result.triage == result.lumps[0].triage


# --- precomputed structures equal the plain definitions -------------------------------------


def _reference_red_flags(findings, candidates):
    """Red flags and red-flag questions by their definition: every rule evaluated as written, and
    every unanswered finding tried at every probe value (no memo, no compiled rules)."""
    compiled_flags = red_flags._compiled(KB)
    hits = tuple(hit for _, rule, hit in compiled_flags if rule.evaluate(findings))
    probes = red_flags._probe_values(KB)
    out = {}
    for fid in candidates:
        for flag, rule, _ in compiled_flags:
            if fid not in rule.names() or rule.evaluate(findings):
                continue
            if fid in out and out[fid].urgency.rank <= flag.urgency.rank:
                continue
            if any(rule.evaluate({**findings, fid: v}) for v in probes[fid]):
                out[fid] = flag
    return hits, out


_RED_FLAG_NAMES = sorted(set().union(*(r.names() for _, r, _ in red_flags._compiled(KB))))
# values parse_findings would reject: the screening must evaluate these directly
_ODD_VALUES = st.sampled_from([1, 0, 1.0, "true", "many", -1.0, 1e9, math.nan, "big", 17.5])


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(finding_sets(), st.dictionaries(st.sampled_from(_RED_FLAG_NAMES), _ODD_VALUES,
                                       max_size=2), st.booleans(), st.booleans())
def test_red_flag_screening_equals_the_rules_as_written(raw, odd, use_odd, fresh):
    findings = dict(parse_findings(raw))
    if use_odd:
        findings.update(odd)
    if fresh:  # both with an empty memo and with one filled by earlier examples
        red_flags._verdicts.cache_clear()
    candidates = [f for f in KB.findings if f not in findings]
    hits, questions_ = _reference_red_flags(findings, candidates)
    assert red_flags.fired(KB, findings) == hits
    got = red_flags.completing_findings(KB, findings, candidates)
    assert got == questions_
    assert list(got) == list(questions_)  # the same order, too


def _reference_group_ratio(model, group, outcome, findings):
    """The group's likelihood ratio for one outcome against the prior-weighted others."""
    liks = [bayes.group_likelihood(group, j, findings) for j in range(len(model.prior))]
    rest = sum(p * lik for p, lik in zip(model.prior, liks, strict=True)) \
        - model.prior[outcome] * liks[outcome]
    # shown on the scale the engine uses: every log-likelihood is weighted (fit.yaml)
    return (liks[outcome] / (rest / (1.0 - model.prior[outcome]))) ** model.weight


def _reference_contributions(model, outcome, findings):
    """The explanation by its definition, recomputed from the tables for one outcome."""
    from backmice.engine.explain import NEUTRAL, show_value
    from backmice.engine.model import source_of
    from backmice.results import Contribution

    items = []
    for fid, value in findings.items():
        table = model.tables.get(fid)
        if table is None:
            continue
        vi = table.value_index(value)
        shown = show_value(KB, fid, value)
        if table.bins:
            shown = f"{shown} ({KB.findings[fid].bins[vi].label})"
        items.append(Contribution(fid, KB.findings[fid].label, shown, table.lrs[vi][outcome],
                                  source_of(table.sources[outcome])))
    for group in model.groups:
        known = [m for m in group.members if m in findings]
        if known:
            shown = ", ".join(f"{KB.findings[m].label.lower()}: {show_value(KB, m, findings[m])}"
                              for m in known)
            lr = _reference_group_ratio(model, group, outcome, findings)
            items.append(Contribution(group.id, group.label, shown, lr,
                                      source_of(group.sources[outcome])))
    supporting = sorted((c for c in items if c.likelihood_ratio > 1 + NEUTRAL),
                        key=lambda c: -c.likelihood_ratio)
    opposing = sorted((c for c in items if c.likelihood_ratio < 1 - NEUTRAL),
                      key=lambda c: c.likelihood_ratio)
    return tuple(supporting), tuple(opposing)


@PROPERTY
@given(finding_sets(), st.sampled_from(SETTINGS))
def test_precomputed_explanations_equal_the_direct_computation(raw, setting):
    from backmice.engine import explain

    findings = dict(parse_findings(raw))
    model = compile_model(KB, setting)
    for outcome in range(len(model.outcomes)):
        assert explain.contributions(KB, model, outcome, findings) == \
            _reference_contributions(model, outcome, findings)


def test_group_ratios_equal_one_outcome_at_a_time():
    model = compile_model(KB, KB.priors.default_setting)
    for findings in ({"erythema": True}, {"warmth": False, "fever": True},
                     {"erythema": True, "warmth": True, "fever": False, "spreading_redness": True}):
        for group in model.groups:
            ratios = bayes.group_ratios(model, group, findings)
            likelihoods = bayes.group_likelihoods(group, findings)
            for i in range(len(model.outcomes)):
                assert ratios[i] == _reference_group_ratio(model, group, i, findings)
                assert bayes.group_likelihood_ratio(model, group, i, findings) == ratios[i]
                assert likelihoods[i] == bayes.group_likelihood(group, i, findings)


# --- next questions -------------------------------------------------------------------------


def _reference_rows(model, fid: str, known: dict) -> list[list[float]]:
    """P(value | outcome, known) of every value of one unknown finding, one outcome at a time."""
    table = model.tables.get(fid)
    if table is not None:
        return [list(row) for row in table.probs]
    group = model.group_of[fid]
    n = len(model.outcomes)
    base = [bayes.group_likelihood(group, i, known) for i in range(n)]
    p_true = [bayes.group_likelihood(group, i, {**known, fid: True}) / base[i] for i in range(n)]
    return [p_true, [1.0 - p for p in p_true]]


def _reference_questions(model, findings: dict, skip, limit):
    """questions.rank computed the plain way: every candidate's exact gain, then one sort."""
    from backmice.engine import information, questions
    from backmice.results import Question

    todo = questions.candidates(KB, findings, skip)
    red = red_flags.completing_findings(KB, findings, todo)
    post = bayes.posterior(model, findings)
    h = information.entropy(post)
    scored = []
    for fid in todo:
        gain = max(0.0, information.gain(post, _reference_rows(model, fid, findings), h))
        flag = red.get(fid)
        if flag is None and gain < questions.MIN_GAIN:
            continue
        key = (0, flag.urgency.rank, -gain) if flag else (1, 0, -gain)
        scored.append((key, fid, gain, flag))
    scored.sort(key=lambda t: t[0])
    return tuple(
        Question(finding=fid, clinician=KB.findings[fid].question.clinician,
                 patient=KB.findings[fid].question.patient,
                 reason=f"red flag: {flag.title}" if flag else "information gain",
                 expected_information_gain=round(gain, 4), red_flag=flag is not None,
                 options=questions.options(KB, fid))
        for _, fid, gain, flag in scored[:limit])


@PROPERTY
@given(finding_sets(), st.sampled_from(SETTINGS), st.sampled_from((5, 1, 3, None)),
       st.sets(st.sampled_from(ALL_IDS), max_size=4))
def test_question_ranking_equals_computing_every_gain_exactly(raw, setting, limit, skip):
    from backmice.engine import questions

    findings = dict(parse_findings(raw))
    model = compile_model(KB, setting)
    post = bayes.posterior(model, findings)
    assert questions.rank(KB, model, findings, post, skip=skip, limit=limit) == \
        _reference_questions(model, findings, skip, limit)


@PROPERTY
@given(finding_sets(), st.sampled_from(SETTINGS))
def test_gain_estimates_are_far_within_their_tolerance(raw, setting):
    """The ranking relies on |estimate - exact gain| < TOLERANCE; the real error is ~1e-15."""
    from backmice.engine import information, questions

    findings = dict(parse_findings(raw))
    model = compile_model(KB, setting)
    post = bayes.posterior(model, findings)
    h = information.entropy(post)
    for fid in questions.candidates(KB, findings):
        answers = information.answers(model, fid, findings)
        exact = information.gain(post, _reference_rows(model, fid, findings), h)
        assert abs(information.estimate(post, answers) - exact) < information.TOLERANCE / 1000


def test_group_likelihoods_read_members_by_truth_value():
    """The cached group log likelihoods equal the direct computation, whatever value a member
    holds (only its truth value counts)."""
    model = compile_model(KB, KB.priors.default_setting)
    for known in ({"erythema": True}, {"erythema": 1, "fever": 0.0},
                  {"warmth": "yes", "spreading_redness": False, "fever": None}):
        scores = bayes.log_scores(model, known)
        direct = list(model.log_prior)
        for group in model.groups:
            if any(known.get(m) is not None for m in group.members):
                direct = [s + model.weight * math.log(lik)
                          for s, lik in zip(direct, bayes.group_likelihoods(group, known),
                                            strict=True)]
        assert scores == direct
