"""``backmice kb fit``: fit the knowledge base on a corpus file, choosing its two global
settings by cross-validation over sources, and stamp the result with the corpus it used."""

from __future__ import annotations

import dataclasses
import datetime as dt

from backmice.errors import InputError
from backmice.evaluation.crossval import INNER_FOLDS, choose
from backmice.evaluation.fitting import count, fit_kb
from backmice.evaluation.report import digest, load
from backmice.kb.base import KnowledgeBase
from backmice.kb.schema import CorpusStamp, Grade, Provenance


def refit(kb: KnowledgeBase, text: str, *, file_name: str, on: dt.date,
          folds: int = INNER_FOLDS) -> KnowledgeBase:
    """The knowledge base fitted on every case of ``text`` (a JSON Lines corpus)."""
    cases, report = load(kb, text)
    if report.bad_lines:
        first = report.bad_lines[0]
        raise InputError(f"{file_name}: line {first.line}", first.error)
    if not cases:
        raise InputError(file_name, "no case with a gold label", "a JSON Lines corpus of cases")
    choice = choose(kb, cases, folds=folds)
    fitted = fit_kb(kb, count(kb, cases), scale=choice.scale, weight=choice.weight)
    sources = len({c.source or c.id for c in cases})
    selection = [
        f"pseudo-count scale {choice.scale:g} and log-likelihood weight {choice.weight:g} "
        f"chosen by {folds}-fold cross-validation grouped by source (log loss of the gold "
        f"differential entry {choice.log_loss}; one-standard-error rule: the setting nearest the "
        "expert model within one standard error of the lowest loss)",
        f"fitted on {len(cases)} published cases from {sources} sources",
    ]
    fit = fitted.fit.model_copy(update={
        "corpus": CorpusStamp(file=file_name, sha256=digest(text), cases=len(cases),
                              sources=sources),
        "selection": selection,
        "fitted_on": on,
        "provenance": Provenance(
            grade=Grade.FITTED,
            remark=f"weight and pseudo-count scale chosen by cross-validation on {len(cases)} "
                   "published cases"),
    })
    return dataclasses.replace(fitted, fit=fit)
