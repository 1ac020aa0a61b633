"""The reasoning engine: ``assess(kb, findings)`` is a pure function from findings to Assessment.

Same input, same output: no I/O, no clock, no randomness. The steps are
differential (bayes) → red flags → triage → next questions → work-up and treatments → explanation.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from backmice.engine import bayes, explain, questions, recommend, red_flags, triage
from backmice.engine.model import compile_model
from backmice.errors import InputError
from backmice.findings import FindingSet, PatientInput, Value
from backmice.kb.base import MALIGNANT, OTHER, KnowledgeBase
from backmice.kb.schema import ConditionRole, Urgency
from backmice.results import Assessment, PatientAssessment, RankedDiagnosis

ENGINE_VERSION = "0.1.0"
EXPLAINED = 3  # differential entries that carry a for/against explanation
CLUSTER_MIN = 5  # this many lumps make "many nodules" treatments relevant


def _setting(kb: KnowledgeBase, setting: str | None) -> str:
    setting = setting or kb.priors.default_setting
    if setting not in kb.setting_ids:
        raise InputError("setting", f"unknown care setting {setting!r}", ", ".join(kb.setting_ids))
    return setting


def _differential(kb: KnowledgeBase, model, by_id: Mapping[str, float],
                  findings: Mapping[str, Value]) -> tuple[RankedDiagnosis, ...]:
    """The seven conditions and one "other" entry that holds the mimics, most likely first."""
    others = sorted(((o, p) for o, p in by_id.items()
                     if kb.conditions[o].role is not ConditionRole.CONDITION),
                    key=lambda t: -t[1])
    entries: list[tuple[float, str, int]] = [
        (p, o, model.index(o)) for o, p in by_id.items()
        if kb.conditions[o].role is ConditionRole.CONDITION
    ]
    # "other" is explained through its most likely member
    entries.append((sum(p for _, p in others), OTHER, model.index(others[0][0])))
    entries.sort(key=lambda t: -t[0])
    ranked = []
    for rank, (p, oid, explain_index) in enumerate(entries):
        page = kb.conditions[oid]
        support, oppose = (explain.contributions(kb, model, explain_index, findings)
                           if rank < EXPLAINED else ((), ()))
        includes = tuple((o, kb.conditions[o].name, q) for o, q in others) if oid == OTHER else ()
        ranked.append(RankedDiagnosis(
            id=oid, name=page.name if oid != OTHER else "Other / none of these", probability=p,
            role=page.role.value, back_mouse_family=page.back_mouse_family,
            supporting=support, opposing=oppose, includes=includes,
        ))
    return tuple(ranked)


def assess(kb: KnowledgeBase, findings: Mapping[str, Value], *, setting: str | None = None,
           lump_id: str = "lump-1", with_questions: bool = True,
           skip: Collection[str] = ()) -> Assessment:
    """Assess one lump. ``skip`` lists questions already asked and answered "don't know"."""
    setting = _setting(kb, setting)
    model = compile_model(kb, setting)
    findings = dict(findings)  # plain dict: faster look-ups than a Mapping wrapper
    post = bayes.posterior(model, findings)
    hits = red_flags.fired(kb, findings)
    by_id = dict(zip(model.outcomes, post, strict=True))
    p_malignant = sum(by_id[o] for o in MALIGNANT)
    red = questions.red_flag_questions(kb, findings, skip)
    tri = triage.decide(kb, hits, p_malignant, findings, tuple(red))
    family = kb.family()
    ctx = recommend.derived_context(findings, by_id, family, len(hits), Urgency(tri.level).rank)
    qs = questions.rank(kb, model, findings, post, skip=skip, red=red) if with_questions else ()
    notes = []
    if "histopathology_finding" in findings:
        notes.append("A histopathology result is recorded: outcomes it excludes are set to 0.")
    if findings.get("anesthetic_injection_relief") is True and hits:
        notes.append("Relief after the anaesthetic injection does not cancel the red flags.")
    return Assessment(
        lump_id=lump_id, kb_version=kb.version, engine_version=ENGINE_VERSION, setting=setting,
        findings=findings, differential=_differential(kb, model, by_id, findings),
        outcomes=tuple(sorted(by_id.items(), key=lambda t: -t[1])),
        back_mouse_family_probability=sum(by_id[o] for o in family),
        red_flags=hits, triage=tri, questions=qs,
        workup=recommend.workup(kb, ctx),
        treatments=recommend.treatments(kb, ctx, recommend.leading(model.outcomes, post)),
        post_procedure_warning=kb.texts.post_procedure_warning.clinician,
        disclaimer=kb.texts.disclaimer.clinician, notes=tuple(notes),
    )


def assess_patient(kb: KnowledgeBase, patient: PatientInput, *,
                   with_questions: bool = True) -> PatientAssessment:
    """Assess every lump of a patient; the patient's triage is the most urgent lump's."""
    if not patient.lumps:
        raise InputError("lumps", "at least one lump is needed")
    count = len(patient.lumps)
    notes = []
    lumps = []
    for lump in patient.lumps:
        findings: FindingSet = lump.findings
        if count > 1 and "nodule_count" not in findings:
            findings = findings.with_values(nodule_count=count)
        lumps.append(assess(kb, findings, setting=patient.setting, lump_id=lump.id,
                            with_questions=with_questions))
    if count > 1:
        notes.append(f"{count} lumps recorded; where a lump's nodule count was not given it is "
                     f"taken as {count}.")
    if count >= CLUSTER_MIN:
        notes.append("Many nodules: fluid liposuction may be an option for many small similar "
                     "nodules (no study in back mice; see the treatment options).")
    worst = min(lumps, key=lambda a: Urgency(a.triage.level).rank)
    return PatientAssessment(
        kb_version=kb.version, engine_version=ENGINE_VERSION, setting=lumps[0].setting,
        lumps=tuple(lumps), triage=worst.triage, notes=tuple(notes),
        disclaimer=kb.texts.disclaimer.clinician,
    )


__all__ = ["ENGINE_VERSION", "assess", "assess_patient"]
