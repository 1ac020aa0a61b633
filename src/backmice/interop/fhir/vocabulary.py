"""The FHIR vocabulary of backmice: code systems, and how a finding value becomes an
Observation ``value[x]`` and back.

backmice findings have no standard code that the knowledge base has checked, so each is coded in
backmice's own code system (served at ``/fhir/CodeSystem/...``); a condition also carries the
SNOMED CT and ICD-10-CM codes its knowledge-base file records. Numbers use UCUM units.
"""

from __future__ import annotations

from typing import Any

from backmice.errors import InputError
from backmice.findings import FINDINGS, FindingSpec, Kind, Value

BASE = "https://backmice.org/fhir"
FINDING_SYSTEM = f"{BASE}/CodeSystem/finding"
VALUE_SYSTEM = f"{BASE}/CodeSystem/finding-value"
CONDITION_SYSTEM = f"{BASE}/CodeSystem/condition"
RED_FLAG_SYSTEM = f"{BASE}/CodeSystem/red-flag"
WORKUP_SYSTEM = f"{BASE}/CodeSystem/workup"
URGENCY_SYSTEM = f"{BASE}/CodeSystem/urgency"
UCUM = "http://unitsofmeasure.org"
SNOMED = "http://snomed.info/sct"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
ICD11 = "http://id.who.int/icd/release/11/mms"
CODE_SYSTEM_URLS = {"SNOMED CT": SNOMED, "ICD-10-CM": ICD10CM, "ICD-11": ICD11}

# Numbers and their UCUM units; pain scores are unitless integers on a 0-10 scale.
UNITS: dict[str, tuple[str, str]] = {
    "age_years": ("a", "years"),
    "size_cm": ("cm", "cm"),
    "duration_weeks": ("wk", "weeks"),
}
# Finding ids never sent as Observations: they come from the Patient resource or the lump's
# BodyStructure.
# Other UCUM units accepted on input, as factors to the unit above.
CONVERSIONS: dict[str, dict[str, float]] = {
    "size_cm": {"mm": 0.1, "[in_i]": 2.54},
    "duration_weeks": {"d": 1 / 7, "mo": 52 / 12, "a": 52.0},
    "age_years": {"mo": 1 / 12},
}
FROM_PATIENT = frozenset({"age_years", "sex"})
FROM_BODY_STRUCTURE = frozenset({"location", "laterality"})


def words(identifier: str) -> str:
    """``pain_reproduced_by_pressure`` -> ``pain reproduced by pressure``."""
    return identifier.replace("_", " ")


def finding_concept(finding: str) -> dict[str, Any]:
    return {"coding": [{"system": FINDING_SYSTEM, "code": finding, "display": words(finding)}],
            "text": words(finding)}


def value_concept(value: str) -> dict[str, Any]:
    return {"coding": [{"system": VALUE_SYSTEM, "code": value, "display": words(value)}],
            "text": words(value)}


def value_element(spec: FindingSpec, value: Value) -> dict[str, Any]:
    """The Observation ``value[x]`` of a known finding value."""
    if spec.kind is Kind.BOOLEAN:
        return {"valueBoolean": bool(value)}
    if spec.kind is Kind.CATEGORY:
        return {"valueCodeableConcept": value_concept(str(value))}
    if spec.kind is Kind.COUNT:
        if value == "many":
            return {"valueCodeableConcept": value_concept("many")}
        return {"valueInteger": int(value)}
    unit = UNITS.get(spec.id)
    if unit is None:  # a 0-10 score
        return {"valueInteger": int(value)} if float(value).is_integer() else \
            {"valueQuantity": {"value": float(value)}}
    return {"valueQuantity": {"value": value, "unit": unit[1], "system": UCUM, "code": unit[0]}}


_VALUE_KEYS = ("valueBoolean", "valueCodeableConcept", "valueInteger", "valueQuantity",
               "valueString", "valueDecimal")


def _code_in(concept: Any, system: str, path: str) -> str:
    if not isinstance(concept, dict) or not isinstance(concept.get("coding"), list):
        raise InputError(path, "expected a CodeableConcept with a coding",
                         f"a coding with system {system}")
    for i, coding in enumerate(concept["coding"]):
        if isinstance(coding, dict) and coding.get("system") == system:
            code = coding.get("code")
            if not isinstance(code, str) or not code:
                raise InputError(f"{path}.coding[{i}].code", "missing code", "a code")
            return code
    raise InputError(f"{path}.coding", f"no coding from {system}",
                     f"a coding with system {system}")


def observed_finding(observation: dict[str, Any], path: str) -> str:
    """The finding id an Observation's ``code`` names."""
    finding = _code_in(observation.get("code"), FINDING_SYSTEM, f"{path}.code")
    if finding not in FINDINGS or finding in FROM_PATIENT | FROM_BODY_STRUCTURE:
        allowed = ", ".join(f for f in FINDINGS if f not in FROM_PATIENT | FROM_BODY_STRUCTURE)
        raise InputError(f"{path}.code", f"unknown finding code {finding!r} (age and sex come "
                         "from the Patient, the site and side from the BodyStructure)", allowed)
    return finding


def value_path(observation: dict[str, Any], path: str) -> str:
    """The FHIR path of an Observation's value (where a bad value is reported)."""
    key = next((k for k in _VALUE_KEYS if k in observation), None)
    if key is None:
        return path
    return f"{path}.{key}.value" if key == "valueQuantity" else f"{path}.{key}"


def observed_value(spec: FindingSpec, observation: dict[str, Any], path: str) -> Any:
    """The raw value of an Observation's ``value[x]`` (checked later by the case reader), or
    None when the value is absent (data not known)."""
    present = [key for key in _VALUE_KEYS if key in observation]
    if not present:
        return None
    if len(present) > 1:
        raise InputError(path, "more than one value[x]", "one value[x] element")
    key = present[0]
    value = observation[key]
    where = f"{path}.{key}"
    if key == "valueCodeableConcept":
        return _code_in(value, VALUE_SYSTEM, where)
    if key == "valueQuantity":
        if not isinstance(value, dict) or "value" not in value:
            raise InputError(where, "a Quantity needs a value", "a number with its UCUM code")
        unit = UNITS.get(spec.id)
        code = value.get("code")
        number = value["value"]
        if unit is None or code in (None, unit[0]):
            return number
        factors = CONVERSIONS.get(spec.id, {})
        if code not in factors:
            raise InputError(f"{where}.code", f"unit {code!r} is not accepted", "UCUM " + ", ".join(
                repr(u) for u in (unit[0], *factors)))
        if isinstance(number, bool) or not isinstance(number, int | float):
            raise InputError(f"{where}.value", "expected a number", "a number")
        return round(number * factors[code], 6)
    return value


def patient_sex(gender: Any, path: str) -> str | None:
    """Patient.gender -> the ``sex`` finding (other and unknown are not stated)."""
    if gender is None or gender in ("other", "unknown"):
        return None
    if gender in ("female", "male"):
        return str(gender)
    raise InputError(path, f"unknown gender {gender!r}", "male, female, other or unknown")


def condition_concept(condition_id: str, name: str, codes: Any = ()) -> dict[str, Any]:
    """A condition as a CodeableConcept: backmice's code, then the recorded standard codes."""
    coding = [{"system": CONDITION_SYSTEM, "code": condition_id, "display": name}]
    for code in codes:
        coding.append({"system": CODE_SYSTEM_URLS[code.system], "code": code.code,
                       "display": code.title})
    return {"coding": coding, "text": name}


__all__ = [
    "CONDITION_SYSTEM",
    "CONVERSIONS",
    "FINDING_SYSTEM",
    "FROM_BODY_STRUCTURE",
    "FROM_PATIENT",
    "RED_FLAG_SYSTEM",
    "UCUM",
    "UNITS",
    "URGENCY_SYSTEM",
    "VALUE_SYSTEM",
    "WORKUP_SYSTEM",
    "condition_concept",
    "finding_concept",
    "observed_finding",
    "observed_value",
    "patient_sex",
    "value_concept",
    "value_element",
    "value_path",
    "words",
]
