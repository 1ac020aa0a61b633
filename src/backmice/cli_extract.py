"""``backmice extract``: a clinical note's findings in the terminal, as JSON, or as OMOP NOTE_NLP
rows (the command itself is in cli.py; this module renders)."""

from __future__ import annotations

import datetime as dt
import json

import typer

from backmice.findings import FINDINGS, Kind
from backmice.kb.base import KnowledgeBase
from backmice.nlp import Extraction, Mention, extract
from backmice.nlp.note_nlp import note_nlp_rows

MODIFIERS = ("negated", "possible", "historical", "hypothetical", "other_person")


def nlp_system() -> str:
    from backmice import __version__

    return f"backmice {__version__}"


def shown(kb: KnowledgeBase, finding: str, value: object) -> str:
    """A value in words: yes/no, a category's label, a number with its unit."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    entry = kb.findings.get(finding)
    if FINDINGS[finding].kind is Kind.CATEGORY and entry is not None:
        return entry.value_label(str(value))
    unit = {"size_cm": " cm", "duration_weeks": " weeks", "age_years": " years"}.get(finding, "")
    if value == 1 and unit.endswith("s"):
        unit = unit[:-1]
    return (f"{value:g}" if isinstance(value, float) else str(value)) + unit


def _why(m: Mention) -> str:
    flags = [name.replace("_", " ") for name in MODIFIERS if getattr(m, name)]
    return ", ".join(flags)


def print_extraction(kb: KnowledgeBase, text: str, format: str, *, note_id: int = 0) -> None:
    result = extract(text)
    if format == "json":
        typer.echo(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
        return
    if format == "note_nlp":
        rows = note_nlp_rows(text, result, nlp_system=nlp_system(), nlp_date=dt.date.today(),
                             note_id=note_id)
        for row in rows:
            typer.echo(json.dumps(row, ensure_ascii=False))
        return
    _terminal(kb, result)


def _terminal(kb: KnowledgeBase, result: Extraction) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(soft_wrap=False)
    if not result.findings:
        console.print("No findings were read from this note.")
    else:
        table = Table(title="Findings read from the note")
        for col in ("finding", "value", "from the note", "how"):
            table.add_column(col)
        for fid, value in result.findings.items():
            entry = kb.findings.get(fid)
            evidence = result.evidence(fid)
            phrases = " · ".join(f'"{" ".join(m.text.split())}"' for m in evidence[:3])
            how = "; ".join(dict.fromkeys(
                [m.basis for m in evidence if m.basis]
                + [_why(m) for m in evidence if _why(m)]))
            table.add_row(entry.label if entry else fid, shown(kb, fid, value), phrases, how)
        console.print(table)
    unused = [m for m in result.mentions if not m.counted]
    if unused:
        table = Table(title="Mentions not used (possible, hypothetical, another person's or past)")
        for col in ("phrase", "finding", "why"):
            table.add_column(col)
        for m in unused:
            table.add_row(f'"{" ".join(m.text.split())}"', m.finding, _why(m) or "negated")
        console.print(table)
