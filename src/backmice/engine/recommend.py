"""Work-up steps and treatment options, chosen by rules over the findings and the differential.

Rules are evaluated through their compiled closures (``backmice.kb.rules.compiled``), and the
treatments of each set of leading outcomes are listed once per knowledge base, so an assessment
only evaluates the rules of the treatments its leading outcomes can use, each once.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from backmice.engine.model import source_of
from backmice.kb.base import (
    DONT_MISS,
    INFECTION,
    INFECTION_ESTABLISHED,
    INVASIVE_KINDS,
    MALIGNANT,
    KnowledgeBase,
)
from backmice.kb.rules import Check, compiled
from backmice.results import DontMiss, RedFlagHit, TreatmentOption, WorkupStep

LEADING_MIN = 0.10  # an outcome counts as "leading" from this probability (top 3 only)
DONT_MISS_MIN = 0.02  # a serious possibility is named from this probability


def derived_context(findings: Mapping[str, object], outcomes: tuple[str, ...],
                    post: Sequence[float], family: Sequence[str], red_flags: int,
                    urgency_rank: int) -> dict[str, object]:
    """The findings plus the values work-up and treatment rules may use (kb.base.DERIVED_NAMES):
    ``post`` is P(outcome) in ``outcomes`` order."""
    names = _names(outcomes, tuple(family))
    ctx: dict[str, object] = dict(findings)
    ctx.update(zip(names.p_names, post, strict=True))
    ctx["top"] = outcomes[post.index(max(post))]  # the first outcome with the largest p
    ctx["p_family"] = sum([post[i] for i in names.family])
    ctx["p_malignant"] = sum([post[i] for i in names.malignant])
    ctx["p_infection"] = sum([post[i] for i in names.infection])
    ctx["red_flags"] = red_flags
    ctx["urgency_rank"] = urgency_rank
    return ctx


@dataclass(frozen=True)
class _Names:
    """Per list of outcomes: the context names of their probabilities, and the positions of
    the outcomes each derived sum adds (in the order of its list)."""

    p_names: tuple[str, ...]
    family: tuple[int, ...]
    malignant: tuple[int, ...]
    infection: tuple[int, ...]


@functools.cache
def _names(outcomes: tuple[str, ...], family: tuple[str, ...]) -> _Names:
    return _Names(
        p_names=tuple(f"p_{o}" for o in outcomes),
        family=tuple(outcomes.index(o) for o in family),
        malignant=tuple(outcomes.index(o) for o in MALIGNANT),
        infection=tuple(outcomes.index(o) for o in INFECTION),
    )


def leading(outcomes: Sequence[str], post: Sequence[float],
            ranked: Sequence[tuple[str, float]] = ()) -> list[str]:
    """The most likely outcome, and the next two if at least LEADING_MIN likely; equally likely
    outcomes are ordered by id, last first.

    ``ranked`` is every (outcome, probability), most likely first, when the caller has it: with
    four different leading probabilities it gives the same first three without another sort.
    """
    if len(ranked) > 3 and ranked[0][1] > ranked[1][1] > ranked[2][1] > ranked[3][1]:
        top = [(p, o) for o, p in ranked[:3]]
    else:
        top = sorted(zip(post, outcomes, strict=True), reverse=True)[:3]
    return [o for i, (p, o) in enumerate(top) if i == 0 or p >= LEADING_MIN]


@functools.cache
def _workup(kb: KnowledgeBase) -> tuple[tuple[Check, WorkupStep], ...]:
    return tuple((compiled(kb.rules[f"workup:{w.id}"]),
                  WorkupStep(id=w.id, name=w.name, purpose=w.purpose,
                             source=source_of(w.provenance)))
                 for w in kb.workup)


@functools.cache
def _treatments(kb: KnowledgeBase) -> tuple[tuple[object, object, TreatmentOption], ...]:
    out = []
    for t in kb.treatments:
        option = TreatmentOption(
            id=t.id, name=t.name, kind=t.kind, for_conditions=tuple(t.conditions),
            summary=t.summary.clinician, patient_summary=t.summary.patient,
            evidence_level=t.evidence_level.value, evidence_summary=t.evidence_summary,
            complications=tuple(t.complications), source=source_of(t.provenance),
        )
        out.append((t, kb.rules.get(f"treatments:{t.id}"), option))
    return tuple(out)


Choice = tuple[Check | None, TreatmentOption, int]


@functools.cache
def _treatments_for(kb: KnowledgeBase) -> dict[str, tuple[Choice, ...]]:
    """Outcome id -> (compiled rule or None, option, key) of each treatment for it, in kb order.

    Equal options share one key (the position of the first of them), so "already chosen" is a
    set look-up instead of comparing dataclasses field by field.
    """
    options = [option for _, _, option in _treatments(kb)]
    out: dict[str, list[Choice]] = {}
    for t, rule, option in _treatments(kb):
        check = None if rule is None else compiled(rule)  # type: ignore[arg-type]
        for outcome in dict.fromkeys(t.conditions):
            out.setdefault(outcome, []).append((check, option, options.index(option)))
    return {o: tuple(v) for o, v in out.items()}


@functools.cache
def _invasive_steps(kb: KnowledgeBase) -> frozenset[str]:
    return frozenset(w.id for w in kb.workup if w.invasive)


@functools.cache
def _deferring_flags(kb: KnowledgeBase) -> frozenset[str]:
    return frozenset(f.id for f in kb.red_flags if f.defers_invasive)


def invasive_deferred(kb: KnowledgeBase, hits: Sequence[RedFlagHit],
                      findings: Mapping[str, object]) -> bool:
    """True while a sarcoma feature fired and no infection is established: then nothing that
    cuts into or punctures the lump is offered (imaging first, then a sarcoma service)."""
    deferring = _deferring_flags(kb)
    if not any(h.id in deferring for h in hits):
        return False
    return not compiled(kb.rules[INFECTION_ESTABLISHED])(findings)


def workup(kb: KnowledgeBase, ctx: Mapping[str, object], *,
           allow_invasive: bool = True) -> tuple[WorkupStep, ...]:
    invasive = () if allow_invasive else _invasive_steps(kb)
    return tuple([step for check, step in _workup(kb) if step.id not in invasive and check(ctx)])


Planned = tuple[Check | None, TreatmentOption]


@functools.cache
def _plan(kb: KnowledgeBase, lead: tuple[str, ...]) -> tuple[Planned, ...]:
    """The treatments of the leading outcomes, in order, each once: (compiled rule or None,
    option). Fixed per knowledge base and lead (at most a few thousand leads).

    An option listed under two leading outcomes is the same treatment with the same rule, so
    on one context its rule gives the same answer both times: listing it once, where it first
    appears, chooses the same options as checking it at each appearance.
    """
    plan: list[Planned] = []
    keys: set[int] = set()
    by_outcome = _treatments_for(kb)
    for outcome in lead:
        for check, option, key in by_outcome.get(outcome, ()):
            if key not in keys:
                plan.append((check, option))
                keys.add(key)
    return tuple(plan)


def treatments(kb: KnowledgeBase, ctx: Mapping[str, object], lead: Sequence[str], *,
               allow_invasive: bool = True) -> tuple[TreatmentOption, ...]:
    return tuple([option for check, option in _plan(kb, tuple(lead))
                  if (allow_invasive or option.kind not in INVASIVE_KINDS)
                  and (check is None or check(ctx))])


def dont_miss(kb: KnowledgeBase, outcomes: Sequence[str], post: Sequence[float],
              hits: Sequence[RedFlagHit]) -> tuple[DontMiss, ...]:
    """The serious possibilities to rule out: first the one the most urgent red flag points to
    (hits come most urgent first), then every modelled one at DONT_MISS_MIN or more, most likely
    first; with a red flag that points nowhere serious, the likeliest serious one is named."""
    p_of = dict(zip(outcomes, post, strict=True))
    named: list[DontMiss] = []
    for hit in hits:
        pointed = [c for c in kb.red_flags_by_id[hit.id].related_conditions if c in DONT_MISS]
        if pointed:
            best = max(pointed, key=lambda c: p_of.get(c, -1.0))
            named.append(DontMiss(best, kb.conditions[best].name, p_of.get(best),
                                  f"the red flag \"{hit.title}\" points to it"))
            break
    serious = sorted(((p_of[o], o) for o in DONT_MISS if o in p_of), reverse=True)
    first = {m.id for m in named}
    named += [DontMiss(o, kb.conditions[o].name, p, "a serious possibility at this probability")
              for p, o in serious if p >= DONT_MISS_MIN and o not in first]
    if hits and not named:
        p, o = serious[0]
        named.append(DontMiss(o, kb.conditions[o].name, p, "the likeliest serious possibility "
                              "while a red flag is present"))
    return tuple(named)
