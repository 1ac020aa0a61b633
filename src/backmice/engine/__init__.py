"""The reasoning engine: ``assess(kb, findings)`` is a pure function from findings to Assessment.

Same input, same output: no I/O, no clock, no randomness. The steps are
differential (bayes) → red flags → triage → next questions → work-up and treatments → explanation.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from operator import itemgetter

from backmice.engine import bayes, explain, questions, recommend, red_flags, triage
from backmice.engine.model import CompiledModel, compile_model
from backmice.errors import InputError
from backmice.findings import FindingSet, PatientInput, Value
from backmice.kb.base import MALIGNANT, OTHER, KnowledgeBase
from backmice.kb.schema import ConditionRole, Urgency
from backmice.results import URGENCY_ORDER, Assessment, PatientAssessment, RankedDiagnosis

ENGINE_VERSION = "0.3.0"
EXPLAINED = 3  # differential entries that carry a for/against explanation
_PROBABILITY = itemgetter(0)
_SECOND = itemgetter(1)
CLUSTER_MIN = 5  # this many lumps without a nodule count: point to the cluster option


@functools.cache
def _setting_ids(kb: KnowledgeBase) -> frozenset[str]:
    return frozenset(kb.setting_ids)


def _setting(kb: KnowledgeBase, setting: str | None) -> str:
    setting = setting or kb.priors.default_setting
    if setting not in _setting_ids(kb):
        raise InputError("setting", f"unknown care setting {setting!r}", ", ".join(kb.setting_ids))
    return setting


@dataclass(frozen=True, slots=True)
class _Layout:
    """How the outcomes of one compiled model map onto differential entries (fixed per model)."""

    conditions: tuple[tuple[int, str, str, str, bool], ...]  # (index, id, name, role, family)
    others: tuple[tuple[int, str, str], ...]  # the mimics and "none": (index, id, name)
    other_entry: tuple[str, bool]  # the "other" entry's (role, family)


@functools.cache
def _layout(kb: KnowledgeBase, model: CompiledModel) -> _Layout:
    conditions, others = [], []
    for i, o in enumerate(model.outcomes):
        page = kb.conditions[o]
        if page.role is ConditionRole.CONDITION:
            conditions.append((i, o, page.name, page.role.value, page.back_mouse_family))
        else:
            others.append((i, o, page.name))
    page = kb.conditions[OTHER]
    return _Layout(tuple(conditions), tuple(others), (page.role.value, page.back_mouse_family))


def _differential(kb: KnowledgeBase, model: CompiledModel, post: Sequence[float],
                  findings: Mapping[str, Value], rows: list[bayes.Row] | None = None
                  ) -> tuple[RankedDiagnosis, ...]:
    """The seven conditions and one "other" entry that holds the mimics, most likely first."""
    layout = _layout(kb, model)
    # stable sorts by falling probability: ties keep the outcomes' order
    others = sorted([(post[i], i, o, name) for i, o, name in layout.others],
                    key=_PROBABILITY, reverse=True)
    entries: list[tuple[float, int, str, str, str, bool]] = [
        (post[i], i, o, name, role, family) for i, o, name, role, family in layout.conditions
    ]
    # "other" is explained through its most likely member
    # min: the sum of many small probabilities can pass 1 by a rounding error
    entries.append((min(1.0, sum([t[0] for t in others])), others[0][1], OTHER,
                    "Other / none of these",
                    *layout.other_entry))
    entries.sort(key=_PROBABILITY, reverse=True)
    items = explain.evidence(kb, model, findings, rows, [t[1] for t in entries[:EXPLAINED]])
    includes = tuple([(o, name, p) for p, _, o, name in others])
    # RankedDiagnosis(id, name, probability, role, back_mouse_family, supporting, opposing,
    # includes), built with positional arguments: eight per assessment, and faster so
    ranked = [
        RankedDiagnosis(oid, name, p, role, family, *explain.explain(items, explain_index),
                        includes if oid == OTHER else ())
        for p, explain_index, oid, name, role, family in entries[:EXPLAINED]
    ]
    ranked.extend([
        RankedDiagnosis(oid, name, p, role, family, (), (), includes if oid == OTHER else ())
        for p, _, oid, name, role, family in entries[EXPLAINED:]
    ])
    return tuple(ranked)


def assess(kb: KnowledgeBase, findings: Mapping[str, Value], *, setting: str | None = None,
           lump_id: str = "lump-1", with_questions: bool = True,
           skip: Collection[str] = (), not_asked: Collection[str] = ()) -> Assessment:
    """Assess one lump. ``skip`` lists questions already asked and answered "don't know".

    ``not_asked`` lists red-flag questions never asked because the interview was stopped early:
    like "don't know" they are not a "no", so the red flags they could fire are named as not
    ruled out, but the triage keeps them apart (``unanswered_red_flag_questions``)."""
    setting = _setting(kb, setting)
    model = compile_model(kb, setting)
    # plain dict: faster look-ups than a Mapping wrapper (a FindingSet holds one to copy)
    findings = dict(findings.values if isinstance(findings, FindingSet) else findings)
    rows = bayes.table_rows(model, findings)
    post = bayes.posterior(model, findings, rows)
    screening = red_flags.screen(kb, findings)
    hits = screening.hits
    by_id = dict(zip(model.outcomes, post, strict=True))
    p_malignant = sum([by_id[o] for o in MALIGNANT])
    red = questions.red_flag_questions(kb, findings, skip, screening=screening)
    # "don't know" answers fire no rule, but what they leave open is named (never a "no")
    open_unknown = {*skip, *not_asked}
    left_open = (red_flags.left_open(kb, findings, open_unknown, [h.id for h in hits])
                 if open_unknown else ())
    tri = triage.decide(kb, hits, p_malignant, findings, tuple(red), left_open=left_open,
                        not_asked=not_asked)
    family = kb.family()
    ctx = recommend.derived_context(findings, model.outcomes, post, family, len(hits),
                                    URGENCY_ORDER.index(tri.level))
    qs = questions.rank(kb, model, findings, post, skip=skip, red=red) if with_questions else ()
    notes = []
    if "histopathology_finding" in findings:
        notes.append("A histopathology result is recorded: outcomes it excludes are set to 0.")
    if findings.get("anesthetic_injection_relief") is True and hits:
        notes.append("Relief after the anaesthetic injection does not cancel the red flags.")
    deferred = recommend.invasive_deferred(kb, hits, findings)
    if deferred:  # first, so that every view shows it before the work-up
        notes.insert(0, kb.texts.invasive_deferred.clinician)
    ranked = sorted(by_id.items(), key=_SECOND, reverse=True)
    return Assessment(
        lump_id=lump_id, kb_version=kb.version, engine_version=ENGINE_VERSION, setting=setting,
        findings=findings, differential=_differential(kb, model, post, findings, rows),
        outcomes=tuple(ranked), back_mouse_family_probability=ctx["p_family"],
        red_flags=hits, triage=tri, questions=qs,
        workup=recommend.workup(kb, ctx, allow_invasive=not deferred),
        treatments=recommend.treatments(kb, ctx,
                                        recommend.leading(model.outcomes, post, ranked),
                                        allow_invasive=not deferred),
        post_procedure_warning=kb.texts.post_procedure_warning.clinician,
        disclaimer=kb.texts.disclaimer.clinician, notes=tuple(notes),
        dont_miss=recommend.dont_miss(kb, model.outcomes, post, hits),
        invasive_deferred=deferred,
    )


def assess_patient(kb: KnowledgeBase, patient: PatientInput, *,
                   with_questions: bool = True) -> PatientAssessment:
    """Assess every lump of a patient, returned most urgent first; the patient's triage is the
    most urgent lump's.

    Each lump is assessed on its own findings (with the patient-level ones): another lump of
    the same patient never changes its result. In particular the number of lumps is not read
    as a nodule count, since lumps elsewhere are not evidence of similar nodules at this site;
    a cluster of similar nodules is entered as one lump with its ``nodule_count``.
    """
    if not patient.lumps:
        raise InputError("lumps", "at least one lump is needed")
    count = len(patient.lumps)
    lumps = [assess(kb, lump.findings, setting=patient.setting, lump_id=lump.id,
                    with_questions=with_questions) for lump in patient.lumps]
    notes = []
    uncounted = sum(1 for lump in patient.lumps if "nodule_count" not in lump.findings)
    if count > 1 and uncounted:
        notes.append(f"Each of the {count} lumps is assessed on its own findings; for several "
                     "similar nodules at one site, give their number as that lump's nodule "
                     "count.")
    if count >= CLUSTER_MIN and uncounted:
        notes.append("If these are many small similar nodules, liposuction may be an option "
                     "(no study in back mice); give their number as the nodule count to see it "
                     "among the treatment options.")
    # most urgent lump first (a stable sort: equally urgent lumps keep the order given)
    lumps.sort(key=lambda a: Urgency(a.triage.level).rank)
    worst = lumps[0]
    return PatientAssessment(
        kb_version=kb.version, engine_version=ENGINE_VERSION, setting=lumps[0].setting,
        lumps=tuple(lumps), triage=worst.triage, notes=tuple(notes),
        disclaimer=kb.texts.disclaimer.clinician,
    )


__all__ = ["ENGINE_VERSION", "assess", "assess_patient"]
