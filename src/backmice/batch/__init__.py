"""Screening many cases at once: the engine's differential and red flags, vectorised with NumPy.

``encode`` turns finding mappings into columns (one per finding; -1 or NaN for unknown),
``differential`` computes every case's posterior with the same tables as the single-case path
(``backmice.engine.bayes``; a test checks both agree) by adding a few precomputed *joint tables*
per case (see ``_Joint``), and ``red_flag_matrix`` evaluates every red flag rule column-wise.
Used by ``make bench``; large-scale (Dask) screening builds on it.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from backmice.engine.bayes import group_likelihoods
from backmice.engine.model import CompiledModel
from backmice.findings import FINDINGS, FindingSet, Kind, Value
from backmice.kb.base import KnowledgeBase
from backmice.kb.rules import All, Any_, Compare, Known, Not, Rule


@dataclass(frozen=True)
class Columns:
    """Findings of n cases: numbers as float (NaN unknown, inf for "many"), others as codes."""

    n: int
    numbers: dict[str, np.ndarray]
    codes: dict[str, np.ndarray]  # booleans: 1 true, 0 false; categories: index; -1 unknown


def encode(cases: Iterable[Mapping[str, Value]]) -> Columns:
    """Columns of the cases' findings (keys that are not findings are ignored).

    Each case is read once, item by item, into plain lists that become arrays at the end: a case
    knows only some of the ~40 findings, and asking every case for every finding cost more.
    """
    rows = list(cases)
    n = len(rows)
    # finding id -> (its column as a list, value -> code, or None for numbers)
    numbers: dict[str, list[float]] = {}
    codes: dict[str, list[int]] = {}
    slots: dict[str, tuple[list, dict | None]] = {}
    for fid, spec in FINDINGS.items():
        if spec.kind in (Kind.NUMBER, Kind.COUNT):
            numbers[fid] = [math.nan] * n
            slots[fid] = (numbers[fid], None)
        else:
            codes[fid] = [-1] * n
            lookup = {True: 1, False: 0} if spec.kind is Kind.BOOLEAN else {
                v: i for i, v in enumerate(spec.values)}
            slots[fid] = (codes[fid], lookup)
    for i, case in enumerate(rows):
        # a FindingSet's own dict reads faster than its Mapping interface
        items = case.values.items() if isinstance(case, FindingSet) else case.items()
        for fid, v in items:
            slot = slots.get(fid)
            if slot is None:
                continue
            column, lookup = slot
            if lookup is None:
                if v is not None:
                    column[i] = math.inf if v == "many" else float(v)  # type: ignore[arg-type]
            else:
                column[i] = lookup.get(v, -1)
    return Columns(n, {f: np.array(c, dtype=float) for f, c in numbers.items()},
                   {f: np.array(c, dtype=np.int16) for f, c in codes.items()})


CHUNK = 4096  # cases per block: a block's score matrix (512 KB) stays in the CPU cache
JOINT_STATES = 256  # at most this many value combinations per joint table (32 KB each)

# A finding's *state* in a case is its column's code + 1: 0 unknown, then its values in code
# order (booleans: 1 false, 2 true; categories: their value order; numbers: their bins).
_BOOLEAN_STATES = (None, False, True)


@dataclass(frozen=True)
class _Part:
    """One term of the log posterior, tabulated by the states of the findings it reads."""

    members: tuple[str, ...]
    states: tuple[int, ...]  # per member: how many states it has
    logs: np.ndarray  # (product of states, outcomes), first member most significant


@dataclass(frozen=True)
class _Joint(_Part):
    """Several parts added up in advance for every combination of their members' states.

    A case's row in ``logs`` is its *key*: its members' states in mixed radix. Adding
    ``logs[key]`` adds every part at once, so a case costs one gather per joint table instead of
    one per finding. The numbers are the single-case path's, added in another order, so sums may
    differ from it in the last bits.
    """


def _parts(model: CompiledModel) -> list[_Part]:
    """Every term of ``bayes.log_scores`` as a table over states: the finding tables, each
    dependence group (its log likelihood for each combination of its members' states, exactly
    as the single-case path computes it) and the histopathology exclusions (-inf)."""
    outcomes = len(model.outcomes)
    zeros = np.zeros((1, outcomes))
    parts = []
    for fid, table in model.tables.items():
        logs = np.array(table.logs)
        if FINDINGS[fid].kind is Kind.BOOLEAN:  # table rows are (true, false): state order
            logs = logs[::-1]
        parts.append(_Part((fid,), (len(logs) + 1,), np.vstack([zeros, logs])))
    for group in model.groups:
        rows = []
        for states in itertools.product(range(3), repeat=len(group.members)):
            known = {m: _BOOLEAN_STATES[s] for m, s in zip(group.members, states, strict=True)
                     if s}
            # weighted like every other log-likelihood (fit.yaml likelihood_weight)
            rows.append([model.weight * math.log(x) for x in group_likelihoods(group, known)]
                        if known else [0.0] * outcomes)
        parts.append(_Part(group.members, (3,) * len(group.members), np.array(rows)))
    values = FINDINGS["histopathology_finding"].values
    excluded = np.zeros((len(values) + 1, outcomes))
    for code, value in enumerate(values, start=1):
        excluded[code] = -np.inf
        excluded[code, list(model.histology[value])] = 0.0
    parts.append(_Part(("histopathology_finding",), (len(values) + 1,), excluded))
    return parts


def _join(parts: list[_Part]) -> _Joint:
    logs = np.zeros((1, parts[0].logs.shape[1]))
    for part in parts:
        logs = (logs[:, None, :] + part.logs[None, :, :]).reshape(-1, logs.shape[1])
    return _Joint(tuple(m for p in parts for m in p.members),
                  tuple(n for p in parts for n in p.states), logs)


@dataclass(frozen=True)
class _Tables:
    """The batch form of a compiled model: joint tables, the first one holding the prior."""

    joints: tuple[_Joint, ...]
    edges: dict[str, np.ndarray]  # per number: the lower edges of its bins after the first


@functools.cache
def _tables(model: CompiledModel) -> _Tables:
    joints, pending, size = [], [], 1
    for part in _parts(model):  # packed greedily in order
        count = len(part.logs)
        if pending and size * count > JOINT_STATES:
            joints.append(_join(pending))
            pending, size = [], 1
        pending.append(part)
        size *= count
    joints.append(_join(pending))
    joints[0].logs[:] += model.log_prior  # every case reads the first table exactly once
    edges = {fid: np.array([low for low, _ in t.bins[1:]])
             for fid, t in model.tables.items() if t.bins}
    return _Tables(tuple(joints), edges)


def _keys(tables: _Tables, cols: Columns) -> np.ndarray:
    """(joint tables, cases): each case's row in each joint table."""
    keys = np.zeros((len(tables.joints), cols.n), dtype=np.intp)
    for key, joint in zip(keys, tables.joints, strict=True):
        for fid, states in zip(joint.members, joint.states, strict=True):
            key *= states
            if fid in tables.edges:  # a number: the bin's position, state 0 when unknown
                col = cols.numbers[fid]
                state = np.searchsorted(tables.edges[fid], col, side="right") + 1
                state[np.isnan(col)] = 0
                key += state
            else:  # a code: -1 unknown, 0, 1, ... becomes state 0, 1, 2, ...
                key += cols.codes[fid]
                key += 1
    return keys


def _block(tables: _Tables, keys: np.ndarray, buffer: np.ndarray, scores: np.ndarray) -> None:
    """Posteriors of one block of cases, written into ``scores`` (a view of the output).

    ``keys`` are the block's joint-table keys (:func:`_keys`); ``buffer`` is scratch space.
    """
    first, *rest = tables.joints
    np.take(first.logs, keys[0], axis=0, out=scores)
    row = buffer[:len(scores)]
    for joint, key in zip(rest, keys[1:], strict=True):
        np.take(joint.logs, key, axis=0, out=row)  # one gather and one in-place addition
        scores += row
    # Softmax per case. Outcome by outcome (columns) is several times faster than numpy's
    # reductions along rows of 16 numbers.
    columns = scores.T
    top = columns[0].copy()
    for column in columns[1:]:
        np.maximum(top, column, out=top)
    scores -= top[:, None]
    np.exp(scores, out=scores)
    total = columns[0].copy()
    for column in columns[1:]:
        total += column
    scores /= total[:, None]


def differential(model: CompiledModel, cols: Columns) -> np.ndarray:
    """Posterior matrix (n cases × outcomes), rows summing to 1, computed block by block."""
    tables = _tables(model)
    out = np.empty((cols.n, len(model.outcomes)))
    if cols.n == 0:
        return out
    keys = _keys(tables, cols)
    buffer = np.empty((min(CHUNK, cols.n), len(model.outcomes)))
    for start in range(0, cols.n, CHUNK):
        part = slice(start, min(start + CHUNK, cols.n))
        _block(tables, keys[:, part], buffer, out[part])
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
