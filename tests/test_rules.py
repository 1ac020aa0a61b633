"""The rule language: parsing, evaluation with unknowns, round trips, refusal of anything else."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backmice.kb.loader import default_kb
from backmice.kb.rules import RuleSyntaxError, compiled, parse, to_data


@pytest.mark.parametrize(("rule", "ctx", "expected"), [
    ("size_cm > 5", {"size_cm": 6.0}, True),
    ("size_cm > 5", {"size_cm": 5.0}, False),
    ("size_cm >= 5", {"size_cm": 5.0}, True),
    ("size_cm > 5", {}, False),  # unknown never fires
    ("nodule_count >= 5", {"nodule_count": "many"}, True),
    ("fever == true", {"fever": True}, True),
    ("fever == true", {"fever": 1}, False),  # a number is not a boolean
    ("fever != true", {}, False),
    ("depth in [deep_to_fascia, intramuscular]", {"depth": "intramuscular"}, True),
    ("depth in [deep_to_fascia, intramuscular]", {"depth": "subcutaneous"}, False),
    ("growth is unknown", {}, True),
    ("growth is known", {"growth": "slow"}, True),
    ({"all": ["fever == true", {"any": ["erythema == true", "warmth == true"]}]},
     {"fever": True, "warmth": True}, True),
    ({"not": "palpable_lump == false"}, {}, True),
    ({"not": "palpable_lump == false"}, {"palpable_lump": False}, False),
])
def test_evaluate(rule, ctx, expected):
    assert parse(rule).evaluate(ctx) is expected


@pytest.mark.parametrize("rule", [
    "size_cm > 5",
    "depth in [deep_to_fascia, intramuscular]",
    "history_of_cancer is unknown",
    {"all": ["fever == true", {"not": {"any": ["a == 1", "b <= 2.5"]}}]},
])
def test_round_trip(rule):
    parsed = parse(rule)
    assert parse(to_data(parsed)) == parsed


@pytest.mark.parametrize("bad", [
    "__import__('os').system('true')",
    "size_cm > big",
    "size_cm >> 5",
    "depth in deep",
    "depth in []",
    {"all": []},
    {"maybe": ["a == 1"]},
    {"all": ["a == 1"], "any": ["b == 1"]},
    42,
])
def test_bad_rules_are_refused(bad):
    with pytest.raises(RuleSyntaxError):
        parse(bad)


# --- compiled rules: the same answers as the reference ``evaluate`` ------------------------


_KB_RULES = tuple(default_kb().rules.values())
_HAND_RULES = tuple(parse(r) for r in (
    "size_cm > 5", "size_cm <= 5", "size_cm < 5", "size_cm == 5", "size_cm != 5",
    "nodule_count >= 5", "nodule_count == many", "nodule_count in [1, 2, many]",
    "fever == true", "fever != true", "fever == false", "fever in [true]",
    "depth == subcutaneous", "depth != subcutaneous", "p_lipoma >= 0.2", "top == lipoma",
    "red_flags == 0", "growth is unknown", "growth is known",
    {"all": ["fever == true", {"not": {"any": ["warmth == true", "size_cm <= 2.5"]}}]},
))
_NAMES = sorted(set().union(*(r.names() for r in _KB_RULES + _HAND_RULES)))
# valid values and the awkward ones an unvalidated mapping may hold (1 is not True, "many"...)
_ANY_VALUE = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 12), st.floats(allow_nan=True),
    st.sampled_from([0.0, 1.0, 2.5, 5.0, 5, 18, "many", "lipoma", "subcutaneous", "slow",
                     "rapid", "fluctuant", "hard", "true", "fluid_collection", 0.2, 0.3]),
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(_NAMES), _ANY_VALUE))
def test_compiled_rules_agree_with_evaluate(ctx):
    for rule in _KB_RULES + _HAND_RULES:
        assert compiled(rule)(ctx) == rule.evaluate(ctx), (to_data(rule), ctx)
