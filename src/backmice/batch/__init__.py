"""Screening many cases at once: the engine's differential and red flags, vectorised with NumPy.

``encode`` turns finding mappings into columns (one per finding; -1 or NaN for unknown),
``differential`` computes every case's posterior with the same tables as the single-case path
(``backmice.engine.bayes``; a test checks both agree), and ``red_flag_matrix`` evaluates every red
flag rule column-wise. Used by ``make bench``; large-scale (Dask) screening builds on it.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from backmice.engine.model import CompiledModel
from backmice.findings import FINDINGS, Kind, Value
from backmice.kb.base import KnowledgeBase
from backmice.kb.rules import All, Any_, Compare, Known, Not, Rule


@dataclass(frozen=True)
class Columns:
    """Findings of n cases: numbers as float (NaN unknown, inf for "many"), others as codes."""

    n: int
    numbers: dict[str, np.ndarray]
    codes: dict[str, np.ndarray]  # booleans: 1 true, 0 false; categories: index; -1 unknown


def encode(cases: Iterable[Mapping[str, Value]]) -> Columns:
    rows = list(cases)
    n = len(rows)
    numbers: dict[str, np.ndarray] = {}
    codes: dict[str, np.ndarray] = {}
    for fid, spec in FINDINGS.items():
        if spec.kind in (Kind.NUMBER, Kind.COUNT):
            col = np.full(n, np.nan)
            for i, r in enumerate(rows):
                v = r.get(fid)
                if v is not None:
                    col[i] = np.inf if v == "many" else float(v)  # type: ignore[arg-type]
            numbers[fid] = col
        else:
            lookup = {True: 1, False: 0} if spec.kind is Kind.BOOLEAN else {
                v: i for i, v in enumerate(spec.values)}
            codes[fid] = np.fromiter((lookup.get(r.get(fid), -1) for r in rows), np.int16, n)
    return Columns(n, numbers, codes)


CHUNK = 4096  # cases per block: a block's score matrix stays in the CPU cache


def _rows_for(model: CompiledModel, fid: str, cols: Columns, part: slice) -> np.ndarray:
    """Row index into the finding's table for each case of ``part`` (-1 unknown)."""
    table = model.tables[fid]
    if table.bins:
        col = cols.numbers[fid][part]
        idx = np.searchsorted(_edges(model, fid), col, side="right")
        return np.where(np.isnan(col), -1, idx)
    code = cols.codes[fid][part].astype(np.intp)
    if FINDINGS[fid].kind is Kind.BOOLEAN:  # table rows are ("true", "false")
        return np.where(code < 0, -1, 1 - code)
    return code


@functools.cache
def _edges_cache(model: CompiledModel) -> dict[str, np.ndarray]:
    return {fid: np.array([low for low, _ in t.bins[1:]])
            for fid, t in model.tables.items() if t.bins}


def _edges(model: CompiledModel, fid: str) -> np.ndarray:
    return _edges_cache(model)[fid]


@functools.cache
def _log_tables(model: CompiledModel) -> dict[str, np.ndarray]:
    """Each finding's log-likelihood rows plus a final row of zeros, which index -1 (unknown)
    selects, so unknown findings add nothing without any masking."""
    return {fid: np.vstack([np.array(t.logs), np.zeros(len(model.outcomes))])
            for fid, t in model.tables.items()}


def _block(model: CompiledModel, cols: Columns, part: slice, n: int) -> np.ndarray:
    scores = np.tile(np.array(model.log_prior), (n, 1))
    for fid, logs in _log_tables(model).items():
        scores += logs[_rows_for(model, fid, cols, part)]
    for group in model.groups:
        with_cause = np.ones(n)
        without = np.ones(n)
        seen = np.zeros(n, dtype=bool)
        for member, a, b in zip(group.members, group.if_present, group.if_absent, strict=True):
            code = cols.codes[member][part]
            seen |= code >= 0
            with_cause *= np.where(code == 1, a, np.where(code == 0, 1 - a, 1.0))
            without *= np.where(code == 1, b, np.where(code == 0, 1 - b, 1.0))
        if seen.any():
            q = np.array(group.cause)
            lik = np.outer(with_cause, q) + np.outer(without, 1 - q)
            scores[seen] += np.log(lik[seen])
    histo = cols.codes["histopathology_finding"][part]
    if (histo >= 0).any():
        for code, value in enumerate(FINDINGS["histopathology_finding"].values):
            mask = np.zeros(len(model.outcomes), dtype=bool)
            mask[list(model.histology[value])] = True
            scores[np.ix_(histo == code, ~mask)] = -np.inf
    scores -= scores.max(axis=1, keepdims=True)
    weights = np.exp(scores)
    return weights / weights.sum(axis=1, keepdims=True)


def differential(model: CompiledModel, cols: Columns) -> np.ndarray:
    """Posterior matrix (n cases × outcomes), rows summing to 1, computed block by block."""
    out = np.empty((cols.n, len(model.outcomes)))
    for start in range(0, cols.n, CHUNK):
        part = slice(start, min(start + CHUNK, cols.n))
        out[part] = _block(model, cols, part, part.stop - part.start)
    return out


def _rule(rule: Rule, cols: Columns) -> np.ndarray:
    if isinstance(rule, All):
        out = np.ones(cols.n, dtype=bool)
        for p in rule.parts:
            out &= _rule(p, cols)
        return out
    if isinstance(rule, Any_):
        out = np.zeros(cols.n, dtype=bool)
        for p in rule.parts:
            out |= _rule(p, cols)
        return out
    if isinstance(rule, Not):
        return ~_rule(rule.part, cols)
    if isinstance(rule, Known):
        col = cols.numbers.get(rule.name)
        known = ~np.isnan(col) if col is not None else cols.codes[rule.name] >= 0
        return known if rule.known else ~known
    assert isinstance(rule, Compare)
    spec = FINDINGS[rule.name]
    if rule.name in cols.numbers:
        col = cols.numbers[rule.name]
        value = float(rule.value)  # type: ignore[arg-type]
        with np.errstate(invalid="ignore"):
            result = {">": col > value, ">=": col >= value, "<": col < value,
                      "<=": col <= value, "==": col == value, "!=": col != value}[rule.op]
        return result & ~np.isnan(col)
    code = cols.codes[rule.name]
    if spec.kind is Kind.BOOLEAN:
        targets = [{True: 1, False: 0}[v] for v in _as_tuple(rule.value) if isinstance(v, bool)]
    else:
        targets = [spec.values.index(v) for v in _as_tuple(rule.value) if v in spec.values]
    hit = np.isin(code, targets)
    if rule.op == "!=":
        return ~hit & (code >= 0)
    return hit


def _as_tuple(value: object) -> tuple:
    return value if isinstance(value, tuple) else (value,)


def red_flag_matrix(kb: KnowledgeBase, cols: Columns) -> tuple[tuple[str, ...], np.ndarray]:
    """(flag ids, n cases × flags boolean matrix)."""
    ids = tuple(f.id for f in kb.red_flags)
    matrix = np.column_stack([_rule(kb.rules[f"red_flags:{i}"], cols) for i in ids])
    return ids, matrix
