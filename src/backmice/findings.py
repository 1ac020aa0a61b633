"""Finding ids and value sets: the vocabulary of the case format, and the validated FindingSet.

The names and value sets follow ``shared/clinical/case-format.md``; a few findings that the red-flag
rules need (bladder or bowel change, history of cancer, ...) extend it and are marked as such.
Everything that enters the engine goes through :func:`parse_findings`, which turns a raw mapping
into an immutable :class:`FindingSet` holding only the known values (``None`` means unknown and is
dropped, never read as "absent").
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from backmice.errors import InputError


class Kind(StrEnum):
    BOOLEAN = "boolean"
    CATEGORY = "category"
    NUMBER = "number"
    COUNT = "count"  # an integer, or the word "many"


class Scope(StrEnum):
    PATIENT = "patient"  # applies to every lump of a patient
    LUMP = "lump"  # belongs to one lump


@dataclass(frozen=True, slots=True)
class FindingSpec:
    """One finding of the vocabulary: its id, kind, allowed values and where it belongs."""

    id: str
    kind: Kind
    scope: Scope
    values: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    in_case_format: bool = True
    later_test: bool = False

    def allowed(self) -> str:
        if self.kind is Kind.BOOLEAN:
            return "true, false or null"
        if self.kind is Kind.CATEGORY:
            return ", ".join(self.values) + " or null"
        if self.kind is Kind.COUNT:
            return f"an integer from {self.minimum:g} to {self.maximum:g}, \"many\" or null"
        return f"a number from {self.minimum:g} to {self.maximum:g} or null"


LOCATIONS = (
    "sacroiliac", "posterior_superior_iliac_spine", "iliac_crest", "lumbar_paraspinal",
    "sacral_midline", "sacrococcygeal", "buttock", "flank", "lateral_hip", "thoracolumbar",
    "other",
)
LATERALITIES = ("left", "right", "bilateral", "midline")
DEPTHS = ("subcutaneous", "deep_to_fascia", "intramuscular")
CONSISTENCIES = ("soft", "firm_rubbery", "hard", "fluctuant", "cystic")
GROWTHS = ("stable", "slow", "rapid")
SEXES = ("female", "male")
ULTRASOUND = ("fat_lesion", "fat_herniation_through_fascia", "cyst_pattern", "fluid_collection",
              "suspicious_solid_mass", "no_focal_lesion")
MRI = ("simple_fatty_lesion", "atypical_fatty_lesion", "oedematous_fat_at_fascia",
       "fluid_collection", "suspicious_solid_mass", "no_focal_lesion")
HISTOPATHOLOGY = ("adipose_tissue", "atypical_lipomatous_tumour_or_liposarcoma", "epidermoid_cyst",
                  "abscess_or_acute_inflammation", "pilonidal_sinus", "other_sarcoma",
                  "metastatic_carcinoma", "other_benign")

_P, _L = Scope.PATIENT, Scope.LUMP


def _b(fid: str, scope: Scope, *, extension: bool = False) -> FindingSpec:
    return FindingSpec(fid, Kind.BOOLEAN, scope, in_case_format=not extension)


def _c(fid: str, scope: Scope, values: tuple[str, ...], *, later_test: bool = False) -> FindingSpec:
    return FindingSpec(fid, Kind.CATEGORY, scope, values=values, in_case_format=not later_test,
                       later_test=later_test)


# Order matters only for display: history first, then examination, as a clinician records them.
_SPECS: tuple[FindingSpec, ...] = (
    FindingSpec("age_years", Kind.NUMBER, _P, minimum=0, maximum=120),
    _c("sex", _P, SEXES),
    FindingSpec("duration_weeks", Kind.NUMBER, _L, minimum=0, maximum=5200),
    _c("location", _L, LOCATIONS),
    _c("laterality", _L, LATERALITIES),
    FindingSpec("nodule_count", Kind.COUNT, _L, minimum=0, maximum=10000),
    _b("palpable_lump", _L),
    FindingSpec("size_cm", Kind.NUMBER, _L, minimum=0, maximum=100),
    _c("depth", _L, DEPTHS),
    _c("consistency", _L, CONSISTENCIES),
    _b("mobile", _L),
    _b("tender", _L),
    _b("pain", _L),
    _b("pain_reproduced_by_pressure", _L),
    _b("pain_with_bending_or_twisting", _P),
    _b("pain_worse_sitting_or_lying_on_it", _L),
    _b("radiating_leg_pain", _P),
    _b("neurological_deficit", _P),
    _b("punctum", _L),
    _b("erythema", _L),
    _b("warmth", _L),
    _b("fever", _P),
    _b("discharge", _L),
    _c("growth", _L, GROWTHS),
    _b("trauma_history", _P),
    _b("repetitive_bending_or_twisting", _P),
    _b("prior_surgery_here", _L),
    _b("recurrent_after_excision", _L),
    _b("immunocompromised_or_diabetic", _P),
    # Extensions beyond the case format, needed by the red-flag rules.
    _b("bladder_or_bowel_dysfunction", _P, extension=True),
    _b("saddle_anaesthesia", _P, extension=True),
    _b("bilateral_leg_symptoms", _P, extension=True),
    _b("systemically_unwell", _P, extension=True),
    _b("spreading_redness", _L, extension=True),
    _b("history_of_cancer", _P, extension=True),
    _b("recent_procedure_here", _L, extension=True),
    _b("bleeding", _L, extension=True),
    _b("pain_increasing_after_procedure", _L, extension=True),
    # Later tests: results that arrive after the first visit (``later_tests`` in the case format,
    # where imaging and pathology are free text that backmice.nlp reads into these categories).
    FindingSpec("anesthetic_injection_relief", Kind.BOOLEAN, _L, in_case_format=False,
                later_test=True),
    _c("ultrasound_finding", _L, ULTRASOUND, later_test=True),
    _c("mri_finding", _L, MRI, later_test=True),
    _c("histopathology_finding", _L, HISTOPATHOLOGY, later_test=True),
)

FINDINGS: Mapping[str, FindingSpec] = {s.id: s for s in _SPECS}
CASE_FORMAT_FINDINGS: tuple[str, ...] = tuple(s.id for s in _SPECS if s.in_case_format)

Value = bool | str | float | int


def _number(spec: FindingSpec, raw: Any, path: str) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise InputError(path, f"expected a number, got {_describe(raw)}", spec.allowed())
    try:
        value = float(raw)
    except OverflowError:
        raise InputError(path, "the number is out of range", spec.allowed()) from None
    if not math.isfinite(value) or not spec.minimum <= value <= spec.maximum:  # type: ignore[operator]
        raise InputError(path, f"{raw!r} is out of range", spec.allowed())
    return value


def _describe(raw: Any) -> str:
    if raw is True or raw is False:
        return "a boolean"
    if isinstance(raw, str):
        return f"the text {raw[:40]!r}"
    if isinstance(raw, list | tuple):
        return "a list"
    if isinstance(raw, dict):
        return "an object"
    return repr(raw)[:40]


def parse_value(spec: FindingSpec, raw: Any, path: str) -> Value | None:
    """Check one raw value against its spec; return the normalised value, or None if unknown."""
    if raw is None:
        return None
    if spec.kind is Kind.BOOLEAN:
        if raw is True or raw is False:
            return raw
        raise InputError(path, f"expected true or false, got {_describe(raw)}", spec.allowed())
    if spec.kind is Kind.CATEGORY:
        if isinstance(raw, str) and raw in spec.values:
            return raw
        raise InputError(path, f"{_describe(raw)} is not in the value set", spec.allowed())
    if spec.kind is Kind.COUNT:
        if raw == "many":
            return "many"
        if isinstance(raw, float) and raw.is_integer():
            raw = int(raw)
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise InputError(path, f"expected a whole number or \"many\", got {_describe(raw)}",
                             spec.allowed())
        return int(_number(spec, raw, path))
    return _number(spec, raw, path)


@dataclass(frozen=True, slots=True)
class FindingSet(Mapping[str, Value]):
    """The known findings of one lump (or one patient): finding id → value, unknowns omitted."""

    values: Mapping[str, Value]

    def __getitem__(self, key: str) -> Value:
        return self.values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.values)

    def __len__(self) -> int:
        return len(self.values)

    def __hash__(self) -> int:
        return hash(frozenset(self.values.items()))

    def with_values(self, **changes: Value | None) -> FindingSet:
        """A copy with some findings set (a value) or made unknown (None)."""
        merged = dict(self.values)
        for key, value in changes.items():
            spec = FINDINGS.get(key)
            if spec is None:
                raise InputError(key, "unknown finding", "one of " + ", ".join(FINDINGS))
            checked = parse_value(spec, value, key)
            if checked is None:
                merged.pop(key, None)
            else:
                merged[key] = checked
        return FindingSet(_ordered(merged))



def _ordered(values: Mapping[str, Value]) -> dict[str, Value]:
    """Canonical order (the vocabulary's), so equal sets compare and print the same."""
    return {fid: values[fid] for fid in FINDINGS if fid in values}


def parse_findings(raw: Any, *, path: str = "findings", strict: bool = True) -> FindingSet:
    """Validate a raw ``findings`` mapping.

    ``strict`` rejects unknown keys (the CLI and API); a lenient read (``backmice validate`` on
    foreign case files) ignores them. Values are always checked.
    """
    if raw is None:
        return FindingSet({})
    if not isinstance(raw, Mapping):
        raise InputError(path, f"expected an object, got {_describe(raw)}")
    known: dict[str, Value] = {}
    for key, value in raw.items():
        spec = FINDINGS.get(key) if isinstance(key, str) else None
        if spec is None:
            if strict:
                raise InputError(f"{path}.{key}", "unknown finding",
                                 "one of " + ", ".join(FINDINGS))
            continue
        checked = parse_value(spec, value, f"{path}.{key}")
        if checked is not None:
            known[key] = checked
    return FindingSet(_ordered(known))




@dataclass(frozen=True, slots=True)
class LumpInput:
    """One lump to assess: its id and every known finding (patient-level ones merged in)."""

    id: str
    findings: FindingSet


@dataclass(frozen=True, slots=True)
class PatientInput:
    """A patient with one or more lumps, in one care setting (None: the default setting)."""

    lumps: tuple[LumpInput, ...]
    setting: str | None = None
