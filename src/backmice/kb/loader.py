"""Load the knowledge base from the YAML files inside the package, validate it once, freeze it.

``load_kb()`` reads every file under ``kb/data`` with importlib.resources, checks each against its
pydantic model, runs the cross-file checks of :mod:`backmice.kb.checks`, parses the rules, and
returns one immutable :class:`KnowledgeBase`. Any problem raises :class:`KnowledgeBaseError`
listing every problem with its file and path. ``load_kb(path)`` loads another copy (for tests and
for reviewers editing a working copy).
"""

from __future__ import annotations

import functools
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from backmice.errors import KnowledgeBaseError
from backmice.kb import rules as rule_lang
from backmice.kb.base import INFECTION_ESTABLISHED, KnowledgeBase
from backmice.kb.checks import check_kb
from backmice.kb.schema import (
    Citation,
    Condition,
    FindingsFile,
    FitSettings,
    HistopathologyFile,
    LikelihoodFile,
    Manifest,
    PriorsFile,
    RedFlagsFile,
    TextsFile,
    TreatmentsFile,
    WorkupFile,
)

try:  # the C loader is several times faster; fall back when libyaml is missing
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover
    _Loader = yaml.SafeLoader

M = TypeVar("M", bound=BaseModel)


class YamlReader:
    """Reads YAML files under one root into pydantic models, collecting problems (each named by
    ``prefix`` + file + path) instead of stopping at the first. Shared by the knowledge base and
    the note-reading rules."""

    def __init__(self, root: Any, prefix: str = "") -> None:
        self.root = root
        self.prefix = prefix
        self.problems: list[str] = []

    def raw(self, name: str) -> Any:
        try:
            text = self.root.joinpath(name).read_text(encoding="utf-8")
        except FileNotFoundError:
            self.problems.append(f"{self.prefix}{name}: file is missing")
            return None
        try:
            return yaml.load(text, Loader=_Loader)
        except yaml.YAMLError as exc:
            self.problems.append(f"{self.prefix}{name}: not valid YAML: {exc}".replace("\n", " "))
            return None

    def model(self, name: str, model: type[M], data: Any = None) -> M | None:
        data = self.raw(name) if data is None else data
        if data is None:
            return None
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            for err in exc.errors():
                path = ".".join(str(p) for p in err["loc"]) or "(top level)"
                self.problems.append(f"{self.prefix}{name}: {path}: {err['msg']}")
            return None

    def folder(self, name: str, model: type[M]) -> dict[str, M]:
        out: dict[str, M] = {}
        folder = self.root.joinpath(name)
        for entry in sorted(folder.iterdir(), key=lambda p: p.name):
            if entry.name.endswith(".yaml"):
                parsed = self.model(f"{name}/{entry.name}", model)
                if parsed is not None:
                    out[entry.name.removesuffix(".yaml")] = parsed
        return out


def _parse_rules(kb_items: list[tuple[str, Any]], problems: list[str]) -> dict[str, rule_lang.Rule]:
    parsed: dict[str, rule_lang.Rule] = {}
    for key, data in kb_items:
        if data is None:
            continue
        try:
            parsed[key] = rule_lang.parse(data)
        except rule_lang.RuleSyntaxError as exc:
            file, _, item = key.partition(":")
            problems.append(f"{file}.yaml: {item}.when: {exc}")
    return parsed


def load_kb(path: str | Path | None = None) -> KnowledgeBase:
    """Load and validate the knowledge base (the packaged one unless ``path`` is given)."""
    root = resources.files("backmice.kb").joinpath("data") if path is None else Path(path)
    reader = YamlReader(root)
    manifest = reader.model("kb.yaml", Manifest)
    findings_file = reader.model("findings.yaml", FindingsFile)
    priors = reader.model("priors.yaml", PriorsFile)
    red_flags = reader.model("red_flags.yaml", RedFlagsFile)
    workup = reader.model("workup.yaml", WorkupFile)
    treatments = reader.model("treatments.yaml", TreatmentsFile)
    histo = reader.model("histopathology.yaml", HistopathologyFile)
    texts = reader.model("texts.yaml", TextsFile)
    fit = reader.model("fit.yaml", FitSettings)
    raw_citations = reader.raw("citations.yaml") or {}
    citations = {str(k): c for k, v in raw_citations.items()
                 if (c := reader.model("citations.yaml", Citation, v)) is not None}
    conditions = reader.folder("conditions", Condition)
    likelihoods = reader.folder("likelihoods", LikelihoodFile)
    problems = reader.problems
    if problems or None in (manifest, findings_file, priors, red_flags, workup, treatments,
                            histo, texts, fit):
        raise KnowledgeBaseError(problems or ["knowledge base files are missing"])

    rules = _parse_rules(
        [(f"red_flags:{r.id}", r.when) for r in red_flags.red_flags]
        + [(INFECTION_ESTABLISHED, red_flags.infection_established.when)]
        + [(f"workup:{w.id}", w.when) for w in workup.workup]
        + [(f"treatments:{t.id}", t.when) for t in treatments.treatments],
        problems,
    )
    kb = KnowledgeBase(
        manifest=manifest,
        conditions=MappingProxyType(conditions),
        findings=MappingProxyType({f.id: f for f in findings_file.findings}),
        dependence_groups=tuple(findings_file.dependence_groups),
        likelihoods=MappingProxyType({lf.condition: lf for lf in likelihoods.values()}),
        priors=priors,
        red_flags=tuple(red_flags.red_flags),
        infection_established=red_flags.infection_established,
        workup=tuple(workup.workup),
        treatments=tuple(treatments.treatments),
        histopathology=histo,
        texts=texts,
        citations=MappingProxyType(citations),
        fit=fit,
        rules=MappingProxyType(rules),
    )
    problems.extend(check_kb(kb, likelihood_files=likelihoods))
    if problems:
        raise KnowledgeBaseError(problems)
    return kb


@functools.cache
def default_kb() -> KnowledgeBase:
    """The packaged knowledge base, loaded once per process."""
    return load_kb()

