"""The terminal side of ``backmice validate`` and ``backmice kb fit``: run, print, write.

Thin: the numbers come from :mod:`backmice.evaluation`; this module prints them with Rich,
draws the plot on request and writes a fit into a copy of the knowledge-base files.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from backmice.evaluation.report import HEADLINE, validation_report
from backmice.interop.notes import TextMode
from backmice.kb.base import KnowledgeBase


def _interval(m: dict[str, Any], key: str) -> str:
    span = m.get("intervals_95", {}).get(key)
    return f"{span[0]}–{span[1]}" if span else ""


def print_report(m: dict[str, Any], title: str, console: Console) -> None:
    summary = Table(title=title)
    summary.add_column("metric")
    summary.add_column("value", justify="right")
    summary.add_column("95% interval", justify="right")
    for key in HEADLINE:
        if key in m:
            summary.add_row(key, str(m[key]), _interval(m, key))
    console.print(summary)
    if m.get("warning"):
        console.print(f"[bold yellow]Note:[/] {m['warning']}")
    near = m.get("family_near_misses", {}).get("count")
    if near:
        console.print(f"{near} miss(es) inside the back-mouse family (right family, other name).")
    if m.get("misses"):
        table = Table(title="Misses")
        for col in ("id", "gold", "predicted", "leading outcome", "triage", "urgent expected"):
            table.add_column(col)
        for x in m["misses"]:
            table.add_row(x["id"], x["gold"], x["predicted"], x["leading_named"], x["triage"],
                          str(x["urgent_expected"]))
        console.print(table)


def run_validate(kb: KnowledgeBase, text: str, *, name: str, json_out: bool, later: bool,
                 setting: str | None, interview: bool, folds: int, plot: Path | None,
                 console: Console, case_mix_priors: bool = False,
                 text_mode: TextMode = TextMode.NOTE) -> None:
    m = validation_report(kb, text, later=later, setting=setting, interview=interview,
                          folds=folds, case_mix_priors=case_mix_priors, text_mode=text_mode)
    if plot is not None and m.get("n"):
        from backmice.evaluation.plots import plot as draw

        draw(m, plot)
    if json_out:
        typer.echo(json.dumps(m, indent=2))
    else:
        kind = f"{folds}-fold cross-validation by source" if folds else "knowledge base as is"
        findings = {TextMode.FROM_TEXT: "findings from the text alone",
                    TextMode.WITH_TEXT: "findings with the text"}.get(text_mode, "findings")
        console.print(f"Cases: {name}; {findings}" + (", with later tests" if later else ""))
        print_report(m, f"Validation ({kind})", console)
    for bad in m.get("bad_lines", []):
        typer.echo(f"line {bad['line']}: {bad['error']}", err=True)


def run_fit(kb: KnowledgeBase, text: str, *, name: str, folder: Path, on: dt.date,
            folds: int) -> str:
    """Fit, write the files into ``folder`` (a kb/data directory), reload them to check."""
    from backmice.evaluation.kb_writer import write_fit, write_likelihoods
    from backmice.evaluation.refit import refit
    from backmice.kb.loader import load_kb

    fitted = refit(kb, text, file_name=name, on=on, folds=folds)
    written = write_likelihoods(fitted, kb, folder, on)
    write_fit(fitted, folder)
    reloaded = load_kb(folder)  # raises KnowledgeBaseError if the written files are wrong
    n_fitted = sum(1 for lf in reloaded.likelihoods.values() for lk in lf.findings.values()
                   if lk.fit is not None)
    lines = [*reloaded.fit.selection,
             f"{n_fitted} likelihoods fitted; {len(written)} likelihood files and fit.yaml "
             f"written in {folder}"]
    return "\n".join(lines)
