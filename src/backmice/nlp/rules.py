"""The rules of :func:`backmice.nlp.extract`, read once from ``nlp/data/*.yaml`` and checked.

Four files: ``context.yaml`` (ConText modifiers and terminators), ``targets.yaml`` (phrases that
give a finding a value), ``sites.yaml`` (locations and sides), ``measures.yaml`` (ages, sexes,
sizes, durations, counts, temperatures). Each is validated by a pydantic model, every pattern is
compiled and checked to run in linear time (every repeat bounded, no repeat inside a repeat), and
each finding and value is checked against :mod:`backmice.findings`. :func:`check_rules` lists
every problem with its file and path (``backmice kb check`` prints them); :func:`rules` returns
the compiled rules or raises :class:`~backmice.errors.KnowledgeBaseError`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from backmice.errors import KnowledgeBaseError
from backmice.findings import FINDINGS, Kind
from backmice.kb.loader import YamlReader
from backmice.nlp.lexicon import Lexicon, phrase

MAX_REPEAT = 200  # the longest bounded repeat a pattern may use
FILES = ("context.yaml", "targets.yaml", "sites.yaml", "measures.yaml")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Triggers(_Strict):
    forward: list[str] = Field(default_factory=list)
    backward: list[str] = Field(default_factory=list)
    terminators: list[str] = Field(default_factory=list)


class ContextFile(_Strict):
    window: int = Field(gt=0, le=1000)
    backward_window: int = Field(gt=0, le=1000)
    list_words: int = Field(gt=0, le=20)
    terminators: list[str]
    backward_terminators: list[str]
    pseudo: list[str]
    modifiers: dict[str, Triggers]


class Target(_Strict):
    finding: str
    value: bool | str
    patterns: list[str] = Field(min_length=1)
    case_sensitive_patterns: list[str] = Field(default_factory=list)
    negated_value: bool | str | None = None
    affirm_only: bool = False
    also: dict[str, bool | str] = Field(default_factory=dict)


class Combine(_Strict):
    prefer: list[str]


class TargetsFile(_Strict):
    historical_counts: list[str]
    hides: dict[str, list[str]] = Field(default_factory=dict)
    combine: dict[str, Combine]
    targets: list[Target]


class Location(_Strict):
    value: str
    specificity: int = Field(ge=1, le=9)
    patterns: list[str] = Field(min_length=1)


class SitesFile(_Strict):
    not_after: list[str]
    locations: list[Location]
    sides: dict[str, list[str]]
    side_gap: int = Field(gt=0, le=100)
    side_after: int = Field(gt=0, le=100)
    side_adjectives: list[str] = Field(default_factory=list)


class WordValue(_Strict):
    pattern: str
    basis: str
    years: float | None = None
    cm: float | None = None
    weeks: float | None = None


class AgeRules(_Strict):
    patterns: list[str]
    sex_letters: dict[str, str]
    words: list[WordValue]


class SexRules(_Strict):
    female: list[str]
    male: list[str]
    pronouns: list[str]


class SizeRules(_Strict):
    pattern: str
    units: dict[str, float]
    not_followed_by: str
    not_preceded_by: str
    words: list[WordValue]


class DurationRules(_Strict):
    pattern: str
    fraction: str
    before: str
    ago_needs: str
    not_about: str
    not_followed_by: str
    of_needs: str
    units: dict[str, float]
    fraction_units: dict[str, float]
    numbers: dict[str, float]
    words: list[WordValue]


class CountRules(_Strict):
    pattern: str
    after: str
    digit_gap_stop: str
    word_gap_stop: str
    numbers: dict[str, int | str]
    basis: dict[str, str]


class TemperatureRules(_Strict):
    pattern: str
    fever_at: float = Field(gt=35, lt=42)


class MeasuresFile(_Strict):
    age: AgeRules
    sex: SexRules
    size: SizeRules
    duration: DurationRules
    count: CountRules
    temperature: TemperatureRules


MODIFIERS = ("negated", "possible", "historical", "hypothetical", "other_person")


# --- linear-time patterns ----------------------------------------------------------------------
def _repeat_problem(parsed: Any, inside: bool) -> str | None:
    """Why a parsed pattern could take more than linear time, or None."""
    for op, av in parsed:
        name = str(op)
        if name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            _low, high, sub = av
            if high == sre_parse.MAXREPEAT or high > MAX_REPEAT:
                return "an unbounded repeat (*, + or {n,}); bound it, e.g. {0,30}"
            if inside and high > 1:
                return "a repeat inside a repeat; flatten it or use a bounded character class"
            found = _repeat_problem(sub, inside or high > 1)
            if found:
                return found
        elif name == "SUBPATTERN":
            found = _repeat_problem(av[-1], inside)
            if found:
                return found
        elif name == "BRANCH":
            for branch in av[1]:
                found = _repeat_problem(branch, inside)
                if found:
                    return found
        elif name in ("ASSERT", "ASSERT_NOT"):
            found = _repeat_problem(av[1], inside)
            if found:
                return found
        elif name == "GROUPREF_EXISTS":
            return "a conditional group"
        elif name == "GROUPREF":
            return "a back-reference"
    return None


def pattern_problem(pattern: str) -> str | None:
    """Why ``pattern`` is not accepted (it does not compile, or is not linear-time), or None."""
    try:
        re.compile(pattern)
        parsed = sre_parse.parse(pattern)
    except (re.error, OverflowError, RecursionError) as exc:
        return f"not a valid regular expression ({exc})"
    return _repeat_problem(parsed, False)


# --- compiled rules ----------------------------------------------------------------------------
@dataclass(frozen=True)
class CompiledTarget:
    index: int
    finding: str
    value: bool | str
    negated_value: bool | str | None
    also: tuple[tuple[str, bool | str], ...]
    affirm_only: bool = False


@dataclass(frozen=True)
class Rules:
    """The compiled rules. ``lexicon`` holds every phrase pattern, each with its payload
    ``(category, value)``; the categories are ``target`` (value: the target's index),
    ``location`` ((value, specificity)), ``side``, ``sex``, ``pronoun``, ``words.age``,
    ``words.size``, ``words.duration`` (a WordValue), ``terminator``, ``back_stop``, ``pseudo``
    and ``<modifier>.forward`` / ``.backward`` / ``.terminator``."""

    context: ContextFile
    targets: TargetsFile
    sites: SitesFile
    measures: MeasuresFile
    compiled_targets: tuple[CompiledTarget, ...]
    lexicon: Lexicon
    not_after: re.Pattern[str]
    regex: dict[str, re.Pattern[str]]
    sex_lexicon: Lexicon  # the sex words alone, to read the sex in "47 yo woman"


def _patterns(file: str, data: Any, path: str = "") -> Iterable[tuple[str, str, str]]:
    """(file, path, pattern) for every pattern string of a file's model."""
    keys_with_patterns = ("patterns", "case_sensitive_patterns", "forward", "backward",
                          "terminators", "backward_terminators", "pseudo", "not_after",
                          "pattern", "fraction",
                          "before", "ago_needs", "not_about", "not_followed_by",
                          "not_preceded_by", "female", "male", "pronouns", "after",
                          "digit_gap_stop", "word_gap_stop", "of_needs")
    if isinstance(data, BaseModel):
        data = data.model_dump()
    if isinstance(data, dict):
        for key, value in data.items():
            sub = f"{path}.{key}" if path else str(key)
            if key in keys_with_patterns and isinstance(value, str):
                yield file, sub, value
            elif (key in keys_with_patterns and isinstance(value, list) and all(
                    isinstance(v, str) for v in value)) or (
                    file == "sites.yaml" and path == "sides"):
                for i, v in enumerate(value):
                    yield file, f"{sub}.{i}", v
            else:
                yield from _patterns(file, value, sub)
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from _patterns(file, value, f"{path}.{i}")


def _value_problem(finding: str, value: Any) -> str | None:
    spec = FINDINGS.get(finding)
    if spec is None:
        return f"unknown finding {finding!r}"
    if spec.kind is Kind.BOOLEAN and not isinstance(value, bool):
        return f"{finding} is yes/no: the value must be true or false, not {value!r}"
    if spec.kind is Kind.CATEGORY and value not in spec.values:
        return f"{value!r} is not a value of {finding} ({', '.join(spec.values)})"
    return None


def _semantic_problems(targets: TargetsFile | None, sites: SitesFile | None,
                       measures: MeasuresFile | None, context: ContextFile | None) -> list[str]:
    problems = []
    if targets is not None:
        for i, t in enumerate(targets.targets):
            for key, fid, value in (("value", t.finding, t.value),
                                    ("negated_value", t.finding, t.negated_value),
                                    *((f"also.{k}", k, v) for k, v in t.also.items())):
                if value is None:
                    continue
                found = _value_problem(fid, value)
                if found:
                    problems.append(f"nlp/data/targets.yaml: targets.{i}.{key}: {found}")
        for fid, comb in targets.combine.items():
            for value in comb.prefer:
                found = _value_problem(fid, value)
                if found:
                    problems.append(f"nlp/data/targets.yaml: combine.{fid}.prefer: {found}")
        for container, hidden in targets.hides.items():
            for fid in (container, *hidden):
                if fid not in FINDINGS:
                    problems.append(f"nlp/data/targets.yaml: hides.{container}: unknown "
                                    f"finding {fid!r}")
        for i, fid in enumerate(targets.historical_counts):
            if fid not in FINDINGS:
                problems.append(f"nlp/data/targets.yaml: historical_counts.{i}: unknown "
                                f"finding {fid!r}")
    if sites is not None:
        for i, loc in enumerate(sites.locations):
            found = _value_problem("location", loc.value)
            if found:
                problems.append(f"nlp/data/sites.yaml: locations.{i}.value: {found}")
        for side in sites.sides:
            found = _value_problem("laterality", side)
            if found:
                problems.append(f"nlp/data/sites.yaml: sides.{side}: {found}")
    if context is not None:
        for name in context.modifiers:
            if name not in MODIFIERS:
                problems.append(f"nlp/data/context.yaml: modifiers.{name}: unknown modifier "
                                f"(allowed: {', '.join(MODIFIERS)})")
    if measures is not None:
        groups = {"age.patterns": ("n",), "size.pattern": ("a", "b", "unit", "one", "unit1"),
                  "duration.pattern": ("n", "unit"), "duration.fraction": ("n", "unit"),
                  "count.pattern": ("n", "what"), "count.after": ("n", "what"),
                  "temperature.pattern": ("t",)}
        for where, needed in groups.items():
            section, key = where.split(".")
            raw = getattr(getattr(measures, section), key)
            for j, pat in enumerate(raw if isinstance(raw, list) else [raw]):
                try:
                    names = re.compile(pat).groupindex
                except re.error:
                    continue  # reported by the pattern check
                missing = [g for g in needed if g not in names]
                if missing:
                    sub = f"{where}.{j}" if isinstance(raw, list) else where
                    problems.append(f"nlp/data/measures.yaml: {sub}: the pattern needs the "
                                    f"named group(s) {', '.join(missing)}")
    return problems


def _read(root: Any) -> tuple[list[str], tuple[Any, ...]]:
    reader = YamlReader(root, prefix="nlp/data/")
    context = reader.model("context.yaml", ContextFile)
    targets = reader.model("targets.yaml", TargetsFile)
    sites = reader.model("sites.yaml", SitesFile)
    measures = reader.model("measures.yaml", MeasuresFile)
    problems = reader.problems
    for name, model in zip(FILES, (context, targets, sites, measures), strict=True):
        if model is None:
            continue
        for file, path, pattern in _patterns(name, model):
            found = pattern_problem(pattern)
            if found:
                problems.append(f"nlp/data/{file}: {path}: {found}: {pattern[:60]!r}")
    problems += _semantic_problems(targets, sites, measures, context)
    return problems, (context, targets, sites, measures)


def _root(path: str | Path | None) -> Any:
    return resources.files("backmice.nlp").joinpath("data") if path is None else Path(path)


def check_rules(path: str | Path | None = None) -> list[str]:
    """Every problem in the rule files (the packaged ones unless ``path`` is given)."""
    return _read(_root(path))[0]


def _compile(context: ContextFile, targets: TargetsFile, sites: SitesFile,
             measures: MeasuresFile) -> Rules:
    compiled = []
    entries: list[tuple[str, Any, bool]] = []

    def add(category: str, patterns: Iterable[str], value: Any = None, cs: bool = False) -> None:
        entries.extend((p, (category, value), cs) for p in patterns)

    for i, t in enumerate(targets.targets):
        compiled.append(CompiledTarget(i, t.finding, t.value, t.negated_value,
                                       tuple(t.also.items()), t.affirm_only))
        add("target", t.patterns, i)
        add("target", t.case_sensitive_patterns, i, cs=True)
    for name, trig in context.modifiers.items():
        add(f"{name}.forward", trig.forward)
        add(f"{name}.backward", trig.backward)
        add(f"{name}.terminator", trig.terminators)
    add("terminator", context.terminators)
    add("back_stop", [",", *context.backward_terminators])
    add("pseudo", context.pseudo)
    for loc in sites.locations:
        add("location", loc.patterns, (loc.value, loc.specificity))
    for side, patterns in sites.sides.items():
        add("side", patterns, side)
    ms = measures
    for name in ("age", "size", "duration"):
        for w in getattr(ms, name).words:
            add(f"words.{name}", [w.pattern], w)
    pronouns = set(ms.sex.pronouns)
    add("sex", [w for w in ms.sex.female if w not in pronouns], "female")
    add("sex", [w for w in ms.sex.male if w not in pronouns], "male")
    for p in ms.sex.pronouns:
        add("pronoun", [p], "female" if p in {"she", "her", "hers", "herself"} else "male")
    regex = {
        "size": re.compile(ms.size.pattern, re.I),
        "size_not_after": re.compile(ms.size.not_followed_by, re.I),
        "size_not_before": re.compile(ms.size.not_preceded_by, re.I),
        "duration": re.compile(phrase(ms.duration.pattern), re.I),
        "fraction": re.compile(phrase(ms.duration.fraction), re.I),
        "duration_before": re.compile(ms.duration.before, re.I),
        "duration_ago": re.compile(ms.duration.ago_needs, re.I),
        "duration_not_about": re.compile(ms.duration.not_about, re.I),
        "duration_not_after": re.compile(ms.duration.not_followed_by, re.I),
        "duration_of": re.compile(ms.duration.of_needs, re.I),
        "count": re.compile(phrase(ms.count.pattern), re.I),
        "count_after": re.compile(phrase(ms.count.after), re.I),
        "count_gap_stop": re.compile(ms.count.digit_gap_stop, re.I),
        "count_word_gap_stop": re.compile(ms.count.word_gap_stop, re.I),
        "temperature": re.compile(phrase(ms.temperature.pattern), re.I),
    }
    for j, pat in enumerate(ms.age.patterns):
        regex[f"age{j}"] = re.compile(phrase(pat), re.I)
    return Rules(
        context=context, targets=targets, sites=sites, measures=measures,
        compiled_targets=tuple(compiled), lexicon=Lexicon.build(entries),
        not_after=re.compile("(?:" + "|".join(sites.not_after) + r")\W{0,3}$", re.I),
        regex=regex, sex_lexicon=Lexicon.build(e for e in entries if e[1][0] == "sex"),
    )


def load_rules(path: str | Path | None = None) -> Rules:
    """Read, check and compile the rules; :class:`KnowledgeBaseError` lists every problem."""
    problems, models = _read(_root(path))
    if problems or None in models:
        raise KnowledgeBaseError(problems or ["nlp/data: rule files are missing"])
    return _compile(*models)


@functools.cache
def rules() -> Rules:
    """The packaged rules, loaded once per process."""
    return load_rules()
