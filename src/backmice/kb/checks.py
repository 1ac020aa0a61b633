"""Cross-file integrity checks of the knowledge base.

Each check returns problems as ``"<file>: <path>: <what is wrong>"`` so that a reviewer editing the
YAML can go straight to the place. ``backmice kb check`` and the test suite run the same checks
(through :func:`backmice.kb.loader.load_kb`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping

from backmice.findings import FINDINGS, HISTOPATHOLOGY, Kind
from backmice.kb.base import (
    DERIVED_NAMES,
    INFECTION,
    INJECTION_FINDING,
    MALIGNANT,
    OTHER,
    KnowledgeBase,
)
from backmice.kb.rules import Compare, Rule
from backmice.kb.schema import (
    CITATION_MARKER,
    ConditionRole,
    FindingEntry,
    Likelihood,
    LikelihoodFile,
    Provenance,
    Urgency,
)

SUM_TOLERANCE = 0.005

# The time frame a patient reads in a red flag's texts must be its urgency level's, the one the
# interview's heading gives ("See a doctor today" ...): each patient_message names its level's
# phrase, and no patient text names a less urgent level's phrase or any other time frame.
TIME_PHRASES: dict[Urgency, str] = {
    Urgency.EMERGENCY: r"\bnow\b",
    Urgency.URGENT_SAME_DAY: r"\btoday\b",
    Urgency.URGENT_2_WEEKS: r"\bwithin (?:the next )?two weeks\b",
}
OTHER_TIME_FRAMES = re.compile(
    r"\b(?:tomorrow|(?:one|two|three|a few|few|\d+) days?|a day or two|\d+ hours|this week|"
    r"next week|(?:one|three|four|a few|few|\d+) weeks|months?)\b", re.IGNORECASE)


def value_ids(entry: FindingEntry) -> tuple[str, ...]:
    """The values a likelihood must cover: bin ids for numbers, the value set for categories."""
    spec = FINDINGS[entry.id]
    if spec.kind in (Kind.NUMBER, Kind.COUNT):
        return tuple(b.id for b in entry.bins)
    if spec.kind is Kind.CATEGORY:
        return spec.values
    return ("true", "false")


def _check_distribution(where: str, entry: FindingEntry, lk: Likelihood) -> Iterator[str]:
    spec = FINDINGS[entry.id]
    if spec.kind is Kind.BOOLEAN:
        if lk.p is None:
            yield f"{where}: a boolean finding takes p (the probability of true), not values"
        return
    if lk.values is None:
        yield f"{where}: give values for each of {', '.join(value_ids(entry))}"
        return
    expected = set(value_ids(entry))
    if set(lk.values) != expected:
        missing = sorted(expected - set(lk.values))
        extra = sorted(set(lk.values) - expected)
        yield (f"{where}: values must be exactly {sorted(expected)} "
               f"(missing {missing}, unknown {extra})")
    total = sum(lk.values.values())
    if abs(total - 1.0) > SUM_TOLERANCE:
        yield f"{where}: values sum to {total:.4f}, must sum to 1"


def _check_bins(entry: FindingEntry) -> Iterator[str]:
    spec = FINDINGS[entry.id]
    where = f"findings.yaml: {entry.id}.bins"
    if spec.kind not in (Kind.NUMBER, Kind.COUNT):
        if entry.bins:
            yield f"{where}: only numeric findings have bins"
        return
    if not entry.bins:
        yield f"{where}: a numeric finding needs bins"
        return
    if entry.bins[0].low != spec.minimum:
        yield f"{where}: the first bin must start at {spec.minimum:g}"
    if entry.bins[-1].high is not None:
        yield f"{where}: the last bin must be open-ended (no high)"
    for a, b in zip(entry.bins, entry.bins[1:], strict=False):
        if a.high is None or a.high != b.low:
            yield f"{where}: bin {a.id} must end where {b.id} starts"


def _provenances(kb: KnowledgeBase) -> Iterator[tuple[str, Provenance]]:
    for f in kb.findings.values():
        yield f"findings.yaml: {f.id}.default.provenance", f.default.provenance
        if f.reading is not None:
            yield f"findings.yaml: {f.id}.reading.provenance", f.reading.provenance
    for g in kb.dependence_groups:
        for m in g.members:
            yield f"findings.yaml: {g.id}.{m.finding}.provenance", m.provenance
    for s in kb.priors.settings:
        for o, p in s.priors.items():
            yield f"priors.yaml: {s.id}.{o}.provenance", p.provenance
    for lf in kb.likelihoods.values():
        for fid, lk in lf.findings.items():
            yield f"likelihoods/{lf.condition}.yaml: {fid}.provenance", lk.provenance
        for gid, lat in lf.latent.items():
            yield f"likelihoods/{lf.condition}.yaml: latent.{gid}.provenance", lat.provenance
    for r in kb.red_flags:
        yield f"red_flags.yaml: {r.id}.provenance", r.provenance
    for w in kb.workup:
        yield f"workup.yaml: {w.id}.provenance", w.provenance
    for t in kb.treatments:
        yield f"treatments.yaml: {t.id}.provenance", t.provenance
    for rid, h in kb.histopathology.results.items():
        yield f"histopathology.yaml: {rid}.provenance", h.provenance


def _texts(kb: KnowledgeBase) -> Iterator[tuple[str, str]]:
    for c in kb.conditions.values():
        for name in ("summary", "what_it_is", "causes", "presentation", "diagnosis", "treatment",
                     "alternatives", "when_to_see_a_doctor"):
            yield f"conditions/{c.id}.yaml: {name}.clinician", getattr(c, name).clinician
        for i, feature in enumerate(c.distinguishing_features):
            yield f"conditions/{c.id}.yaml: distinguishing_features.{i}", feature
        for i, code in enumerate(c.codes):
            if code.note:
                yield f"conditions/{c.id}.yaml: codes.{i}.note", code.note
    for t in kb.treatments:
        yield f"treatments.yaml: {t.id}.summary", t.summary.clinician
        yield f"treatments.yaml: {t.id}.evidence_summary", t.evidence_summary
    for f in kb.findings.values():
        if f.question.help:
            yield f"findings.yaml: {f.id}.question.help", f.question.help


def _check_citations(kb: KnowledgeBase) -> Iterator[str]:
    known = kb.citations
    for where, prov in _provenances(kb):
        for cid in prov.citations:
            if cid not in known:
                yield f"{where}: unknown citation id {cid}"
    for c in kb.conditions.values():
        for cid in c.references:
            if cid not in known:
                yield f"conditions/{c.id}.yaml: references: unknown citation id {cid}"
    for where, text in _texts(kb):
        for cid in CITATION_MARKER.findall(text):
            if cid not in known:
                yield f"{where}: text cites unknown id [{cid}]"


def _check_rule_names(where: str, rule: Rule, allowed: Iterable[str]) -> Iterator[str]:
    allowed = set(allowed)
    for name in sorted(rule.names() - allowed):
        yield f"{where}: unknown name {name!r} in rule"
    yield from _check_rule_values(where, rule)


def _check_rule_values(where: str, rule: Rule) -> Iterator[str]:
    if isinstance(rule, Compare):
        spec = FINDINGS.get(rule.name)
        if spec is not None and spec.kind is Kind.CATEGORY:
            values = rule.value if isinstance(rule.value, tuple) else (rule.value,)
            for v in values:
                if v not in spec.values:
                    yield f"{where}: {v!r} is not a value of {rule.name} ({', '.join(spec.values)})"
        return
    for part in getattr(rule, "parts", ()) or ((rule.part,) if hasattr(rule, "part") else ()):
        yield from _check_rule_values(where, part)


def _check_outcomes(kb: KnowledgeBase) -> Iterator[str]:
    modelled = {c.id for c in kb.conditions.values()
                if c.role in (ConditionRole.CONDITION, ConditionRole.MIMIC, ConditionRole.OTHER)}
    for s in kb.priors.settings:
        if set(s.priors) != modelled:
            yield (f"priors.yaml: {s.id}.priors: must list exactly the modelled conditions; "
                   f"missing {sorted(modelled - set(s.priors))}, "
                   f"unknown {sorted(set(s.priors) - modelled)}")
        total = sum(p.p for p in s.priors.values())
        if abs(total - 1.0) > SUM_TOLERANCE:
            yield f"priors.yaml: {s.id}.priors: sum to {total:.4f}, must sum to 1"
    if kb.priors.default_setting not in kb.setting_ids:
        yield f"priors.yaml: default_setting: {kb.priors.default_setting!r} is not a setting"
    for oid in sorted(modelled - set(kb.likelihoods)):
        yield f"likelihoods/{oid}.yaml: file is missing for a modelled condition"
    for oid in sorted(set(kb.likelihoods) - modelled):
        yield f"likelihoods/{oid}.yaml: condition is not a modelled condition page"
    roles = [c for c in kb.conditions.values() if c.role is ConditionRole.OTHER]
    if [c.id for c in roles] != [OTHER]:
        yield f"conditions/{OTHER}.yaml: exactly one condition with role other, id {OTHER!r}"
    for oid in (*MALIGNANT, *INFECTION):
        if oid not in modelled:
            yield f"conditions/{oid}.yaml: the engine groups this outcome and needs it modelled"
    for c in kb.conditions.values():
        for rel in c.related:
            if rel not in kb.conditions:
                yield f"conditions/{c.id}.yaml: related: unknown condition {rel!r}"
        if c.back_mouse_family and c.role is not ConditionRole.CONDITION:
            yield f"conditions/{c.id}.yaml: back_mouse_family: only role condition can be in it"


def _check_findings(kb: KnowledgeBase) -> Iterator[str]:
    for fid in FINDINGS:
        if fid not in kb.findings:
            yield f"findings.yaml: findings: missing entry for {fid!r}"
    for entry in kb.findings.values():
        if entry.id not in FINDINGS:
            yield f"findings.yaml: {entry.id}: not a finding of the vocabulary"
            continue
        yield from _check_bins(entry)
        yield from _check_distribution(f"findings.yaml: {entry.id}.default", entry, entry.default)
        spec = FINDINGS[entry.id]
        if (entry.reading is None) == (entry.id == INJECTION_FINDING):
            yield (f"findings.yaml: {entry.id}.reading: "
                   + ("needed (how pain scores around the injection are read)"
                      if entry.reading is None else f"only {INJECTION_FINDING} has one"))
        if spec.kind is Kind.CATEGORY:
            for name in ("value_labels", "patient_value_labels"):
                for v in getattr(entry, name):
                    if v not in spec.values:
                        yield f"findings.yaml: {entry.id}.{name}: {v!r} is not a value"
        elif entry.patient_value_labels:
            yield f"findings.yaml: {entry.id}.patient_value_labels: only categories have labels"
    for g in kb.dependence_groups:
        for m in g.members:
            spec = FINDINGS.get(m.finding)
            if spec is None or spec.kind is not Kind.BOOLEAN:
                yield f"findings.yaml: {g.id}.members: {m.finding!r} must be a boolean finding"


def _check_likelihoods(kb: KnowledgeBase, files: Mapping[str, LikelihoodFile]) -> Iterator[str]:
    grouped = {m.finding for g in kb.dependence_groups for m in g.members}
    group_ids = {g.id for g in kb.dependence_groups}
    for stem, lf in files.items():
        name = f"likelihoods/{stem}.yaml"
        if lf.condition != stem:
            yield f"{name}: condition: {lf.condition!r} must equal the file name"
        for fid, lk in lf.findings.items():
            where = f"{name}: {fid}"
            if fid not in kb.findings:
                yield f"{where}: unknown finding"
                continue
            if fid in grouped:
                yield f"{where}: this finding belongs to a dependence group; give latent instead"
                continue
            if fid == "histopathology_finding":
                yield f"{where}: histopathology is decided by histopathology.yaml"
                continue
            yield from _check_distribution(where, kb.findings[fid], lk)
            yield from _check_fitted(where, kb.findings[fid], lk)
        for gid in lf.latent:
            if gid not in group_ids:
                yield f"{name}: latent.{gid}: unknown dependence group"
        for gid in sorted(group_ids - set(lf.latent)):
            yield f"{name}: latent: missing probability of {gid!r}"


def _check_rules(kb: KnowledgeBase) -> Iterator[str]:
    findings = set(FINDINGS)
    derived = findings | DERIVED_NAMES | {f"p_{o}" for o in kb.outcomes}
    for key, rule in kb.rules.items():
        file, _, item = key.partition(":")
        where = f"{file}.yaml: {item}.when"
        yield from _check_rule_names(where, rule, findings if file == "red_flags" else derived)


def _check_misc(kb: KnowledgeBase) -> Iterator[str]:
    if set(kb.histopathology.results) != set(HISTOPATHOLOGY):
        yield f"histopathology.yaml: results: must cover exactly {list(HISTOPATHOLOGY)}"
    for rid, res in kb.histopathology.results.items():
        for oid in res.compatible:
            if oid not in kb.outcomes:
                yield f"histopathology.yaml: {rid}.compatible: {oid!r} is not a modelled condition"
    for t in kb.treatments:
        for cid in t.conditions:
            if cid not in kb.conditions:
                yield f"treatments.yaml: {t.id}.conditions: unknown condition {cid!r}"
    for r in kb.red_flags:
        for cid in r.related_conditions:
            if cid not in kb.conditions:
                yield f"red_flags.yaml: {r.id}.related_conditions: unknown condition {cid!r}"
    ids = [r.id for r in kb.red_flags] + [w.id for w in kb.workup] + [t.id for t in kb.treatments]
    for dup in sorted({i for i in ids if ids.count(i) > 1}):
        yield f"red_flags/workup/treatments: duplicate id {dup!r}"
    covered = {c for t in kb.treatments for c in t.conditions}
    for oid in kb.outcomes:
        if oid != OTHER and oid not in covered:
            yield f"treatments.yaml: no treatment option for {oid!r}"


def _check_red_flag_time_frames(kb: KnowledgeBase) -> Iterator[str]:
    for r in kb.red_flags:
        own = TIME_PHRASES.get(r.urgency)
        where = f"red_flags.yaml: {r.id}"
        if own and not re.search(own, r.patient_message, re.IGNORECASE):
            yield (f"{where}.patient_message: must give the time frame of {r.urgency.value} "
                   f"(matching {own!r})")
        less = [p for u, p in TIME_PHRASES.items() if u.rank > r.urgency.rank]
        for field in ("patient_message", "patient_meaning"):
            text = getattr(r, field)
            wrong = [m.group(0) for p in less for m in re.finditer(p, text, re.IGNORECASE)]
            wrong += [m.group(0) for m in OTHER_TIME_FRAMES.finditer(text)]
            if wrong:
                yield (f"{where}.{field}: time frame {wrong[0]!r} does not match the urgency "
                       f"level {r.urgency.value}")


def _check_fitted(where: str, entry: FindingEntry, lk: Likelihood) -> Iterator[str]:
    """A fitted number names only known values in its counts, and its expert value covers the
    same values as the number."""
    if lk.fit is None or lk.expert is None:
        return
    keys = set(value_ids(entry))
    unknown = sorted(set(lk.fit.counts) - keys)
    if unknown:
        yield f"{where}.fit.counts: unknown values {unknown} (allowed: {sorted(keys)})"
    if lk.expert.values is not None and set(lk.expert.values) != keys:
        yield f"{where}.expert.values: must be exactly {sorted(keys)}"


def _check_fit(kb: KnowledgeBase) -> Iterator[str]:
    for fid in kb.fit.not_fitted:
        if fid not in kb.findings:
            yield f"fit.yaml: not_fitted.{fid}: unknown finding"
    for name, target in kb.fit.aliases.items():
        if target not in kb.outcomes:
            yield (f"fit.yaml: aliases.{name}: {target!r} is not a modelled outcome "
                   f"(allowed: {', '.join(kb.outcomes)})")


def check_kb(kb: KnowledgeBase, *, likelihood_files: Mapping[str, LikelihoodFile]) -> list[str]:
    """Every cross-file problem of ``kb``, as a list of located messages (empty when sound)."""
    problems: list[str] = []
    for check in (_check_outcomes, _check_findings, _check_rules, _check_citations, _check_misc,
                  _check_red_flag_time_frames, _check_fit):
        problems.extend(check(kb))
    problems.extend(_check_likelihoods(kb, likelihood_files))
    return problems
