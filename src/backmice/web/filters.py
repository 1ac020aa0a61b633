"""Jinja2 filters: the shared wording of the renderers, made available to the templates."""

from __future__ import annotations

from typing import Any

from jinja2 import Environment

from backmice.findings import FINDINGS, Kind
from backmice.kb.base import KnowledgeBase
from backmice.render.finding_text import finding_label, findings_text, rule_text, value_text
from backmice.render.wording import likelihood_ratio, percent

GRADES = {"evidence": "evidence", "expert_opinion": "expert opinion", "estimate": "estimate"}
URGENCY_CLASS = {"emergency": "u-emergency", "urgent_same_day": "u-same-day",
                 "urgent_2_weeks": "u-2-weeks", "routine": "u-routine",
                 "self_care": "u-self-care"}


def shown_value(value: Any) -> str:
    if value is True:
        return "yes"
    if value is False:
        return "no"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value).replace("_", " ")


def install(env: Environment, kb: KnowledgeBase) -> None:
    env.filters["percent"] = percent
    env.filters["lr"] = likelihood_ratio
    env.filters["grade"] = lambda g: GRADES.get(g, str(g).replace("_", " "))
    env.filters["urgency_class"] = lambda level: URGENCY_CLASS.get(level, "")
    env.filters["shown"] = shown_value
    env.filters["words"] = lambda s: str(s).replace("_", " ")
    # The knowledge base's words for findings and rules (as in the clinician note).
    env.filters["finding_label"] = lambda fid: finding_label(kb, str(fid))
    env.filters["findings_text"] = lambda findings: findings_text(kb, findings or {})
    env.filters["finding_value"] = lambda value, fid: value_text(kb, str(fid), value)
    env.filters["rule_text"] = lambda rule: rule_text(kb, rule)
    env.globals["NUMERIC_FINDINGS"] = frozenset(
        fid for fid, spec in FINDINGS.items() if spec.kind in (Kind.NUMBER, Kind.COUNT))
