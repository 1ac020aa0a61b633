"""The small, safe rule language of red flags, work-up items and treatment conditions.

A rule is either a leaf string or a mapping that combines rules::

    "size_cm > 5"                          comparison with a number
    "depth in [deep_to_fascia, intramuscular]"
    "fever == true"
    "history_of_cancer is unknown"         (also: "is known")
    {all: [rule, ...]}   {any: [rule, ...]}   {not: rule}

Names are looked up in a context mapping (finding ids, plus derived values the engine adds).
A name that is missing from the context is *unknown*: every comparison with it is false, so a rule
never fires on a guess. The count value ``"many"`` compares as larger than any number. Nothing is
ever evaluated as Python: leaves are parsed with a regular expression into small node objects,
and :func:`to_data` turns a parsed rule back into the same YAML/JSON shape.

Each node's ``evaluate`` is the reference meaning of a rule. :func:`compiled` turns a rule into a
tree of plain Python closures with exactly the same results (a test compares both on random
contexts); the engine evaluates rules many times per assessment and the closures avoid the method
dispatch and generator overhead of walking the node objects.
"""

from __future__ import annotations

import functools
import math
import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

Scalar = bool | int | float | str

_LEAF = re.compile(
    r"^\s*(?P<name>[a-z_][a-z0-9_]*)\s*"
    r"(?:(?P<op>==|!=|>=|<=|>|<|in)\s*(?P<value>.+?)|is\s+(?P<state>known|unknown))\s*$"
)
_ORDERING: dict[str, Callable[[Any, Any], bool]] = {
    ">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le,
}


class RuleSyntaxError(ValueError):
    """A rule that cannot be parsed; the message says where and why."""


def _scalar(text: str) -> Scalar:
    text = text.strip()
    if text in ("true", "false"):
        return text == "true"
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        pass
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", text):
        raise RuleSyntaxError(f"value {text!r} is not a number, true/false or a plain word")
    return text


def _numeric(value: Any) -> float | None:
    if value == "many":
        return math.inf
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


@dataclass(frozen=True, slots=True)
class Compare:
    name: str
    op: str
    value: Scalar | tuple[Scalar, ...]

    def evaluate(self, ctx: Mapping[str, Any]) -> bool:
        actual = ctx.get(self.name)
        if actual is None:
            return False
        if self.op == "in":
            return actual in self.value  # type: ignore[operator]
        if self.op in ("==", "!="):
            same_kind = isinstance(actual, bool) == isinstance(self.value, bool)
            equal = actual == self.value and same_kind
            return equal if self.op == "==" else not equal
        left, right = _numeric(actual), _numeric(self.value)
        if left is None or right is None:
            return False
        return _ORDERING[self.op](left, right)

    def names(self) -> set[str]:
        return {self.name}

    def to_data(self) -> Any:
        if self.op == "in":
            return f"{self.name} in [{', '.join(_show(v) for v in self.value)}]"  # type: ignore[union-attr]
        return f"{self.name} {self.op} {_show(self.value)}"  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class Known:
    name: str
    known: bool

    def evaluate(self, ctx: Mapping[str, Any]) -> bool:
        return (ctx.get(self.name) is not None) == self.known

    def names(self) -> set[str]:
        return {self.name}

    def to_data(self) -> Any:
        return f"{self.name} is {'known' if self.known else 'unknown'}"


@dataclass(frozen=True, slots=True)
class All:
    parts: tuple[Rule, ...]

    def evaluate(self, ctx: Mapping[str, Any]) -> bool:
        return all(p.evaluate(ctx) for p in self.parts)

    def names(self) -> set[str]:
        return set().union(*(p.names() for p in self.parts))

    def to_data(self) -> Any:
        return {"all": [p.to_data() for p in self.parts]}


@dataclass(frozen=True, slots=True)
class Any_:
    parts: tuple[Rule, ...]

    def evaluate(self, ctx: Mapping[str, Any]) -> bool:
        return any(p.evaluate(ctx) for p in self.parts)

    def names(self) -> set[str]:
        return set().union(*(p.names() for p in self.parts))

    def to_data(self) -> Any:
        return {"any": [p.to_data() for p in self.parts]}


@dataclass(frozen=True, slots=True)
class Not:
    part: Rule

    def evaluate(self, ctx: Mapping[str, Any]) -> bool:
        return not self.part.evaluate(ctx)

    def names(self) -> set[str]:
        return self.part.names()

    def to_data(self) -> Any:
        return {"not": self.part.to_data()}


Rule = Compare | Known | All | Any_ | Not


def _show(value: Scalar) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def parse(data: Any) -> Rule:
    """Parse the YAML/JSON form of a rule; raise RuleSyntaxError naming the problem."""
    if isinstance(data, str):
        match = _LEAF.match(data)
        if not match:
            raise RuleSyntaxError(f"cannot read rule {data!r}: expected '<name> <op> <value>'")
        if match["state"]:
            return Known(match["name"], match["state"] == "known")
        op, raw = match["op"], match["value"]
        if op == "in":
            raw = raw.strip()
            if not (raw.startswith("[") and raw.endswith("]")):
                raise RuleSyntaxError(f"'in' needs a list like [a, b] in {data!r}")
            items = tuple(_scalar(x) for x in raw[1:-1].split(",") if x.strip())
            if not items:
                raise RuleSyntaxError(f"empty list in {data!r}")
            return Compare(match["name"], op, items)
        value = _scalar(raw)
        if op in _ORDERING and _numeric(value) is None:
            raise RuleSyntaxError(f"{op} needs a number in {data!r}")
        return Compare(match["name"], op, value)
    if isinstance(data, Mapping) and len(data) == 1:
        (key, inner), = data.items()
        if key in ("all", "any"):
            if not isinstance(inner, list) or not inner:
                raise RuleSyntaxError(f"'{key}' needs a non-empty list of rules")
            parts = tuple(parse(x) for x in inner)
            return All(parts) if key == "all" else Any_(parts)
        if key == "not":
            return Not(parse(inner))
    raise RuleSyntaxError(f"a rule is a string or one of {{all: [...]}}, {{any: [...]}}, "
                          f"{{not: ...}}; got {str(data)[:60]!r}")


Check = Callable[[Mapping[str, Any]], bool]


def _compare_check(rule: Compare) -> Check:
    name, op, expected = rule.name, rule.op, rule.value
    if op == "in":
        def is_in(ctx: Mapping[str, Any]) -> bool:
            actual = ctx.get(name)
            return actual is not None and actual in expected  # type: ignore[operator]
        return is_in
    if op in ("==", "!="):
        want = op == "=="
        if isinstance(expected, bool):
            # Only the boolean itself equals a boolean value (1 == True does not count), and
            # there are exactly two booleans, so equality is identity.
            def same_bool(ctx: Mapping[str, Any]) -> bool:
                actual = ctx.get(name)
                return actual is not None and (actual is expected) == want
            return same_bool
        def same(ctx: Mapping[str, Any]) -> bool:
            actual = ctx.get(name)
            if actual is None:
                return False
            return (actual.__class__ is not bool and actual == expected) == want
        return same
    right = _numeric(expected)
    order = _ORDERING[op]
    def ordered(ctx: Mapping[str, Any]) -> bool:
        actual = ctx.get(name)
        if actual is None or right is None:
            return False
        if actual.__class__ is float:  # the common case, decided without _numeric
            return order(actual, right)
        left = _numeric(actual)
        return left is not None and order(left, right)
    return ordered


@functools.cache
def compiled(rule: Rule) -> Check:
    """``rule.evaluate`` as a closure: the same truth value for every context, computed faster."""
    if isinstance(rule, Compare):
        return _compare_check(rule)
    if isinstance(rule, Known):
        name = rule.name
        if rule.known:
            return lambda ctx: ctx.get(name) is not None
        return lambda ctx: ctx.get(name) is None
    if isinstance(rule, Not):
        inner = compiled(rule.part)
        return lambda ctx: not inner(ctx)
    parts = tuple(compiled(p) for p in rule.parts)
    if isinstance(rule, All):
        def every(ctx: Mapping[str, Any]) -> bool:
            # a plain loop: all() over a generator costs a generator object per call
            for part in parts:  # noqa: SIM110
                if not part(ctx):
                    return False
            return True
        return every
    def some(ctx: Mapping[str, Any]) -> bool:
        for part in parts:  # noqa: SIM110 - see every()
            if part(ctx):
                return True
        return False
    return some


def to_data(rule: Rule) -> Any:
    """The YAML/JSON form of a parsed rule (``parse(to_data(r)) == r``)."""
    return rule.to_data()
