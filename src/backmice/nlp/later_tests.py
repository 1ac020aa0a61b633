"""Free-text ultrasound, MRI and histopathology reports → the categories the engine uses.

Deliberately simple and inspectable: phrase lists per category (``data/later_tests.yaml``), tried
in a fixed order of clinical priority (a report mentioning both "lipoma" and "thick septa" is read
as atypical), skipping any phrase whose clause is negated ("no internal vascularity"). A report
that matches nothing yields no finding and a note, never a guess.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from importlib import resources

import yaml

from backmice.findings import FINDINGS

_CLAUSE = re.compile(r"[.;:!?\n]|,\s*(?:but|however|although)\b|\bbut\b")


@dataclass(frozen=True)
class ReportRules:
    finding: str
    categories: tuple[tuple[str, tuple[str, ...]], ...]


@dataclass(frozen=True)
class Rules:
    negations: tuple[str, ...]
    post_negations: tuple[str, ...]
    reports: dict[str, ReportRules]


@functools.cache
def rules() -> Rules:
    text = resources.files("backmice.nlp").joinpath("data/later_tests.yaml").read_text("utf-8")
    data = yaml.safe_load(text)
    reports = {}
    for kind, spec in data["reports"].items():
        finding = spec["finding"]
        allowed = FINDINGS[finding].values
        cats = tuple((c, tuple(p.lower() for p in phrases))
                     for c, phrases in spec["categories"].items())
        unknown = [c for c, _ in cats if c not in allowed]
        if unknown:
            raise ValueError(f"nlp/data/later_tests.yaml: {kind}: unknown categories {unknown}")
        reports[kind] = ReportRules(finding, cats)
    return Rules(tuple(n.lower() for n in data["negations"]),
                 tuple(n.lower() for n in data["post_negations"]), reports)


def _negated(clause: str, at: int, end: int, r: Rules) -> bool:
    before, after = clause[:at], clause[end:]
    return any(n in before for n in r.negations) or any(n in after for n in r.post_negations)


def read_report(kind: str, text: str) -> str | None:
    """The category of a free-text report of ``kind`` (ultrasound, mri, histopathology)."""
    r = rules()
    report = r.reports[kind]
    clauses = [c.strip().lower() + " " for c in _CLAUSE.split(text) if c and c.strip()]
    for category, phrases in report.categories:
        for clause in clauses:
            for phrase in phrases:
                at = clause.find(phrase)
                if at >= 0 and not _negated(clause, at, at + len(phrase), r):
                    return category
    return None


def finding_for(kind: str) -> str:
    return rules().reports[kind].finding
