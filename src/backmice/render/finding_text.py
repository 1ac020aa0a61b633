"""Findings and rules in the knowledge base's own words, for clinicians to read.

Shared by the clinician note and the web pages, so both print "Size ≥ 5 cm" and "Saddle
numbness", never the ids and operators of the rule language ("size_cm >= 5").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from backmice.kb import rules
from backmice.kb.base import KnowledgeBase

# The unit of a numeric finding, read from the suffix of its id (size_cm, duration_weeks, ...).
UNITS = {"cm": "cm", "weeks": "weeks", "years": "years"}
_ORDER_SIGNS = {">": ">", ">=": "≥", "<": "<", "<=": "≤"}


def finding_label(kb: KnowledgeBase, finding: str) -> str:
    """The knowledge base's label of a finding ("Size"); the id in words if it has none."""
    entry = kb.findings.get(finding)
    return entry.label if entry is not None else finding.replace("_", " ")


def unit(finding: str) -> str | None:
    return UNITS.get(finding.rsplit("_", 1)[-1])


def _plain_value(finding: str, value: Any) -> str:
    """yes/no, a number with its unit ("5 cm"), or a category's id in words ("deep to fascia")."""
    if value is True:
        return "yes"
    if value is False:
        return "no"
    if isinstance(value, int | float):
        number = f"{value:g}" if isinstance(value, float) else str(value)
        suffix = unit(finding)
        return f"{number} {suffix}" if suffix else number
    return str(value).replace("_", " ")


def value_text(kb: KnowledgeBase, finding: str, value: Any) -> str:
    """A finding's value as a clinician would write it: yes/no, "1.5 cm", a category's label."""
    if isinstance(value, bool | int | float):
        return _plain_value(finding, value)
    entry = kb.findings.get(finding)
    return entry.value_label(str(value)) if entry is not None else str(value).replace("_", " ")


def findings_text(kb: KnowledgeBase, findings: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(label, value) for every known finding, in the order they were given."""
    return [(finding_label(kb, fid), value_text(kb, fid, v))
            for fid, v in findings.items() if v is not None]


def rule_text(kb: KnowledgeBase, rule: Any) -> str:
    """A red-flag (or work-up) rule as readable text: ``size_cm >= 5`` becomes "Size ≥ 5 cm".

    ``rule`` is the rule as data (a string or an all/any/not mapping), as an assessment
    records it; text that is not a rule is returned as it is.
    """
    try:
        node = rules.parse(rule)
    except rules.RuleSyntaxError:
        return str(rule)
    return _text(kb, node, nested=False)


def _text(kb: KnowledgeBase, node: rules.Rule, *, nested: bool) -> str:
    if isinstance(node, rules.Compare):
        text = _compare_text(kb, node)
        several = node.op == "in" and isinstance(node.value, tuple) and len(node.value) > 1
        return f"({text})" if nested and several else text
    if isinstance(node, rules.Known):
        label = finding_label(kb, node.name)
        return f"{label} is known" if node.known else f"{label} not yet known"
    if isinstance(node, rules.Not):
        inner = node.part
        if isinstance(inner, rules.Compare) and inner.op == "==":
            value = _plain_value(inner.name, inner.value)
            return f"{finding_label(kb, inner.name)}: not recorded as {value}"
        return f"not ({_text(kb, inner, nested=False)})"
    joiner = " and " if isinstance(node, rules.All) else " or "
    text = joiner.join(_text(kb, part, nested=True) for part in node.parts)
    return f"({text})" if nested and len(node.parts) > 1 else text


def _compare_text(kb: KnowledgeBase, node: rules.Compare) -> str:
    # Values are kept short ("deep to fascia or intramuscular"): a category's label is a phrase
    # of its own ("slowly, over months") and a list of them would not read as alternatives.
    label = finding_label(kb, node.name)
    if node.op == "in":
        values = node.value if isinstance(node.value, tuple) else (node.value,)
        return f"{label}: " + " or ".join(_plain_value(node.name, v) for v in values)
    value = _plain_value(node.name, node.value)
    if node.op == "==":
        return f"{label}: {value}"
    if node.op == "!=":
        return f"{label}: not {value}"
    return f"{label} {_ORDER_SIGNS[node.op]} {value}"
