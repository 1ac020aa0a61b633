"""Words shared by the renderers: probabilities in plain terms, finding values, citations."""

from __future__ import annotations

from backmice.results import Contribution, Source


def percent(p: float) -> str:
    if p < 0.01:
        return "<1%"
    if p > 0.99:
        return ">99%"
    return f"{p:.0%}"


def likelihood_ratio(lr: float) -> str:
    return f"{lr:.2g}" if lr < 10 else f"{lr:.0f}"


def cite(source: Source) -> str:
    refs = ", ".join(source.citations)
    grade = source.grade.replace("_", " ")
    return f"{grade}; {refs}" if refs else grade


def contribution_line(c: Contribution) -> str:
    return f"{c.label} = {c.value}: LR {likelihood_ratio(c.likelihood_ratio)} ({cite(c.source)})"


def plain_chance(p: float) -> str:
    """A hedged, plain-language phrase for a probability; never 'certain'."""
    if p >= 0.75:
        return "the most likely explanation"
    if p >= 0.4:
        return "a likely explanation"
    if p >= 0.15:
        return "a possible explanation"
    return "a less likely possibility"
