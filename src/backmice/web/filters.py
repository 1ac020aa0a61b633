"""Jinja2 filters: the shared wording of the renderers, made available to the templates."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jinja2 import Environment
from markupsafe import Markup, escape

from backmice.findings import FINDINGS, Kind
from backmice.kb.base import KnowledgeBase
from backmice.render.citing import split_markers
from backmice.render.finding_text import finding_label, findings_text, rule_text, value_text
from backmice.render.wording import likelihood_ratio, percent
from backmice.web.exam_order import as_toggles, exam_sections

GRADES = {"evidence": "evidence", "expert_opinion": "expert opinion", "estimate": "estimate"}
URGENCY_CLASS = {"emergency": "u-emergency", "urgent_same_day": "u-same-day",
                 "urgent_2_weeks": "u-2-weeks", "routine": "u-routine",
                 "self_care": "u-self-care", "soon": "u-soon"}  # soon: patient view only


def shown_value(value: Any) -> str:
    if value is True:
        return "yes"
    if value is False:
        return "no"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value).replace("_", " ")


CITE_PAGE = Markup('<sup class="cite"><a href="#ref-{0}" aria-label="reference {0}">[{0}]</a>'
                   '</sup>')
CITE_KB = Markup('<sup class="cite"><a href="/knowledge-base#{0}" aria-label="source {0}">[{0}]'
                 '</a></sup>')


def cite(text: str, numbers: Mapping[str, int] | None = None) -> Markup:
    """KB prose as HTML with each marker ([R40]) a superscript link: "[n]" to reference n of
    this page when ``numbers`` numbers the id, else to the source on the knowledge-base page."""
    out = []
    for i, part in enumerate(split_markers(str(text))):
        if i % 2 == 0:
            out.append(escape(part))
        elif numbers is not None and part in numbers:
            out.append(CITE_PAGE.format(numbers[part]))
        else:
            out.append(CITE_KB.format(part))
    return Markup("").join(out)


def install(env: Environment, kb: KnowledgeBase) -> None:
    env.filters["cite"] = cite
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
    # The finding forms' order and controls (templates/_fields.html).
    env.globals["exam_sections"] = exam_sections
    env.globals["as_toggles"] = as_toggles
    env.globals["NUMERIC_FINDINGS"] = frozenset(
        fid for fid, spec in FINDINGS.items() if spec.kind in (Kind.NUMBER, Kind.COUNT))
