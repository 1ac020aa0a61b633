"""The rule language: parsing, evaluation with unknowns, round trips, refusal of anything else."""

from __future__ import annotations

import pytest

from backmice.kb.rules import RuleSyntaxError, parse, to_data


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
