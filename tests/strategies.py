"""Hypothesis strategies for finding values and finding sets, shared by the property tests.

Every strategy reads the vocabulary (``backmice.findings.FINDINGS``), so a finding added there is
fuzzed without touching this file. The values are *raw* values as a case file would hold them
(numbers may be ints or floats); run them through ``parse_findings`` to get a FindingSet.
"""

from __future__ import annotations

import json
import math
from typing import Any

from hypothesis import strategies as st

from backmice.findings import FINDINGS, FindingSpec, Kind, Scope

__all__ = [
    "ALL_IDS",
    "FIRST_VISIT_IDS",
    "finding_sets",
    "finding_values",
    "hostile_json_texts",
    "invalid_values",
    "json_values",
]

ALL_IDS: tuple[str, ...] = tuple(FINDINGS)
FIRST_VISIT_IDS: tuple[str, ...] = tuple(f for f, s in FINDINGS.items() if not s.later_test)


def _spec(fid: str) -> FindingSpec:
    spec = FINDINGS.get(fid)
    if spec is None:
        raise KeyError(f"{fid!r} is not a finding id")
    return spec


def _numbers(spec: FindingSpec) -> st.SearchStrategy[float | int]:
    lo, hi = spec.minimum, spec.maximum
    assert lo is not None and hi is not None
    return st.one_of(
        st.floats(min_value=lo, max_value=hi, allow_nan=False, allow_infinity=False),
        st.integers(min_value=math.ceil(lo), max_value=math.floor(hi)),
    )


def finding_values(fid: str) -> st.SearchStrategy[Any]:
    """A valid, known (non-None) value for finding ``fid``, as its spec allows."""
    spec = _spec(fid)
    if spec.kind is Kind.BOOLEAN:
        return st.booleans()
    if spec.kind is Kind.CATEGORY:
        return st.sampled_from(spec.values)
    if spec.kind is Kind.COUNT:
        assert spec.minimum is not None and spec.maximum is not None
        return st.one_of(
            st.integers(min_value=math.ceil(spec.minimum), max_value=math.floor(spec.maximum)),
            st.just("many"),
        )
    return _numbers(spec)


@st.composite
def _finding_sets(draw: st.DrawFn, ids: tuple[str, ...], min_size: int,
                  max_size: int | None) -> dict[str, Any]:
    # A list, not a set: the drawn order is kept, so dicts come in varied key orders.
    keys = draw(st.lists(st.sampled_from(ids), unique=True, min_size=min_size,
                         max_size=max_size))
    found = {k: draw(finding_values(k), label=k) for k in keys}
    if found.get("nodule_count") == 0:  # 0 nodules is valid only where no lump is palpable
        found["palpable_lump"] = False
    return found


def finding_sets(min_size: int = 0, max_size: int | None = None,
                 exclude_later_tests: bool = False,
                 scope: Scope | None = None) -> st.SearchStrategy[dict[str, Any]]:
    """A dict of finding id → valid value (unknown findings are simply absent).

    ``exclude_later_tests`` keeps to first-visit findings (no injection, imaging or histology);
    ``scope`` to the first-visit findings of that scope (a patient document's ``patient`` or a
    lump's ``findings``).
    """
    ids = FIRST_VISIT_IDS if exclude_later_tests else ALL_IDS
    if scope is not None:
        ids = tuple(f for f in FIRST_VISIT_IDS if FINDINGS[f].scope is scope)
    if max_size is not None:
        max_size = min(max_size, len(ids))
    return _finding_sets(ids, min_size, max_size)


_CONTAINERS = st.one_of(
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
)


def invalid_values(fid: str) -> st.SearchStrategy[Any]:
    """A value that ``parse_value`` must reject for finding ``fid``: wrong type or out of set."""
    spec = _spec(fid)
    if spec.kind is Kind.BOOLEAN:
        wrong = st.one_of(
            st.sampled_from(["yes", "no", "true", "false", "True", "1", "0", ""]),
            st.integers(), st.floats(), st.text(max_size=20), _CONTAINERS,
        )
        return wrong.filter(lambda x: x is not True and x is not False)
    if spec.kind is Kind.CATEGORY:
        return st.one_of(
            st.text(max_size=30).filter(lambda s: s not in spec.values),
            st.sampled_from([v.upper() for v in spec.values] + [v + " " for v in spec.values]),
            st.integers(), st.floats(), st.booleans(), _CONTAINERS,
        )
    lo, hi = spec.minimum, spec.maximum
    assert lo is not None and hi is not None
    out_of_range = st.one_of(
        st.floats(max_value=lo, exclude_max=True, allow_infinity=False),
        st.floats(min_value=hi, exclude_min=True, allow_infinity=False),
        st.sampled_from([math.nan, math.inf, -math.inf, lo - 1, hi + 1]),
    )
    wrong_type = st.one_of(
        st.booleans(),
        st.text(max_size=20).filter(lambda s: s != "many"),
        _CONTAINERS,
    )
    if spec.kind is Kind.COUNT:
        fractional = st.floats(min_value=lo, max_value=hi).filter(lambda x: not x.is_integer())
        return st.one_of(
            out_of_range, wrong_type, fractional,
            st.integers(min_value=-(10**300), max_value=math.ceil(lo) - 1),
            st.integers(min_value=math.floor(hi) + 1, max_value=10**300),
            st.sampled_from(["Many", "MANY", "many ", "lots"]),
        )
    return st.one_of(out_of_range, wrong_type, st.sampled_from(["5", "1.5", "many"]))


# Keys that steer arbitrary JSON into the readers' deeper paths.
_STEERING_KEYS = (
    "id", "findings", "later_tests", "lumps", "patient", "setting", "gold", "urgent_expected",
    "injection_pain_before", "injection_pain_after", "minutes_after", "ultrasound", "mri",
    "histopathology", *ALL_IDS,
)


def json_values(max_leaves: int = 25) -> st.SearchStrategy[Any]:
    """Arbitrary JSON-like data (None, bools, ints, floats, text, lists, dicts).

    Dict keys are mostly the case format's own keys so that the readers' inner checks are reached.
    Integers stay within float range: integers beyond it are a known bug, pinned separately.
    """
    leaves = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**70), max_value=2**70),
        st.floats(allow_nan=True, allow_infinity=True),
        st.text(max_size=30),
        st.sampled_from(["many", "yes", "true", "fat_lesion", "primary_care", "sacroiliac",
                         "lipoma with thick septa", "no focal lesion", "abscess"]),
    )
    keys = st.one_of(st.sampled_from(_STEERING_KEYS), st.text(max_size=10))
    return st.recursive(
        leaves,
        lambda children: st.one_of(
            st.lists(children, max_size=4),
            st.dictionaries(keys, children, max_size=6),
        ),
        max_leaves=max_leaves,
    )


HOSTILE_STRINGS = ["\ud800", "a\udfffb", "\x00", "x\x00y", "\u202e", "=1+1", "\ufeff", ""]


def _hostile_leaves() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.none(), st.booleans(),
        st.integers(min_value=-(2**70), max_value=2**70),
        st.integers().map(lambda n: 10**400 * (1 if n >= 0 else -1)),  # 400 digits
        st.floats(allow_nan=True, allow_infinity=True),
        st.sampled_from(HOSTILE_STRINGS),
        st.text(alphabet=st.characters(codec=None, categories=None), max_size=12),  # surrogates
        st.text(max_size=20),
    )


def hostile_json_values(max_leaves: int = 12) -> st.SearchStrategy[Any]:
    """JSON-like data with what the edge refuses: lone surrogates, NUL, NaN and Infinity,
    integers of 400 digits (and valid values beside them)."""
    keys = st.one_of(st.sampled_from([*_STEERING_KEYS, "\ud800", "\x00"]), st.text(max_size=8))
    return st.recursive(
        _hostile_leaves(),
        lambda children: st.one_of(st.lists(children, max_size=4),
                                   st.dictionaries(keys, children, max_size=5)),
        max_leaves=max_leaves,
    )


def _dumps(value: Any) -> str:
    """JSON text as Python writes it: NaN and Infinity as such, surrogates as escapes."""
    return json.dumps(value)


@st.composite
def hostile_json_texts(draw: st.DrawFn, base: dict[str, Any] | None = None) -> bytes:
    """A request body: ``base`` (a valid body of the route) with one field replaced or added,
    or any hostile JSON value, or one nested 100 to 5,000 levels deep."""
    how = draw(st.sampled_from(["base", "base", "field", "field", "value", "deep"]))
    if how == "base" and base:  # valid, or with one valid-looking value changed
        body = dict(base)
        if draw(st.booleans()):
            key = draw(st.sampled_from(sorted(body)))
            body[key] = draw(st.one_of(st.just(body[key]), json_values(max_leaves=4)))
        return _dumps(body).encode()
    if how == "field" and base:
        body = dict(base)
        key = draw(st.one_of(st.sampled_from(sorted(body)), st.text(max_size=8)))
        body[key] = draw(hostile_json_values())
        return _dumps(body).encode("utf-8", "surrogatepass")
    if how == "deep":
        depth = draw(st.integers(min_value=33, max_value=5_000))
        inner = "[" * depth + "]" * depth
        key = draw(st.sampled_from(sorted(base or {"x": 1})))
        return f'{{"{key}": {inner}}}'.encode()
    return _dumps(draw(hostile_json_values())).encode("utf-8", "surrogatepass")
