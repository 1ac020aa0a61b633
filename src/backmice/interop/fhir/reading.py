"""Read a FHIR input (a Parameters or a Bundle) into backmice's native patient document.

The input holds at most one Patient (age from ``birthDate``, sex from ``gender``), one
BodyStructure per lump (``location`` and ``locationQualifier`` coded in backmice's value
system), Observations of findings (``code`` in backmice's finding system; a lump's own finding
names its BodyStructure in ``focus``), and optionally DocumentReferences whose text attachment is
a clinical note, read by the notes extractor. The native document then goes through the same
reader as every other input, so the same rules apply; an error names the FHIR element it came
from (``Parameters.parameter[2].resource.valueQuantity``).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from backmice.errors import InputError
from backmice.findings import FINDINGS, LATERALITIES, LOCATIONS, Scope
from backmice.interop.fhir.vocabulary import (
    VALUE_SYSTEM,
    observed_finding,
    observed_value,
    patient_sex,
    value_path,
)

SKIPPED_STATUSES = frozenset({"entered-in-error", "cancelled"})
MAX_RESOURCES = 500


@dataclass
class FhirInput:
    """The native document read from a FHIR input, and where each of its parts came from."""

    document: dict[str, Any]
    paths: dict[str, str] = field(default_factory=dict)  # native path -> FHIR element path
    patient_reference: str | None = None
    occurrence: str | None = None  # the date the findings are for (ISO date)

    def fhir_path(self, native: str) -> str:
        """The FHIR element behind a native path, or the nearest known parent's."""
        parts = native.split(".")
        while parts:
            found = self.paths.get(".".join(parts))
            if found:
                return found
            parts.pop()
        return native


def _resources(body: Any) -> Iterator[tuple[str, dict[str, Any], str]]:
    """(parameter name or resource type, resource, FHIR path) for each resource of the input."""
    if not isinstance(body, dict):
        raise InputError("(body)", "expected a FHIR resource", "a Parameters or a Bundle")
    kind = body.get("resourceType")
    if kind == "Parameters":
        params = body.get("parameter", [])
        if not isinstance(params, list):
            raise InputError("Parameters.parameter", "expected a list", "a list of parameters")
        for i, param in enumerate(params):
            path = f"Parameters.parameter[{i}]"
            if not isinstance(param, dict):
                raise InputError(path, "expected an object", "a parameter with a name")
            if "resource" in param:
                resource = param["resource"]
                if not isinstance(resource, dict):
                    raise InputError(f"{path}.resource", "expected a resource", "a resource")
                yield str(param.get("name", "")), resource, f"{path}.resource"
            elif param.get("name") == "date":
                yield "date", param, path
    elif kind == "Bundle":
        entries = body.get("entry", [])
        if not isinstance(entries, list):
            raise InputError("Bundle.entry", "expected a list", "a list of entries")
        for i, entry in enumerate(entries):
            path = f"Bundle.entry[{i}]"
            resource = entry.get("resource") if isinstance(entry, dict) else None
            if not isinstance(resource, dict):
                raise InputError(f"{path}.resource", "expected a resource", "a resource")
            yield str(resource.get("resourceType", "")), resource, f"{path}.resource"
    else:
        raise InputError("resourceType", f"{kind!r} is not accepted", "Parameters or Bundle")


def _reference_keys(resource: dict[str, Any], full_url: str | None = None) -> set[str]:
    kind, rid = resource.get("resourceType"), resource.get("id")
    keys = {f"{kind}/{rid}", f"#{rid}"} if rid else set()
    if full_url:
        keys.add(full_url)
    return keys


def _age(birth: Any, on: dt.date, path: str) -> float:
    if not isinstance(birth, str):
        raise InputError(path, "expected a date", "YYYY, YYYY-MM or YYYY-MM-DD")
    try:
        parts = [int(p) for p in birth.split("-")]
        born = dt.date(parts[0], parts[1] if len(parts) > 1 else 7,
                       parts[2] if len(parts) > 2 else 1)
    except (ValueError, IndexError):
        raise InputError(path, f"{birth!r} is not a date", "YYYY, YYYY-MM or YYYY-MM-DD") from None
    if born > on:
        raise InputError(path, "the date of birth is after the date of the findings",
                         "a date on or before " + on.isoformat())
    years = on.year - born.year - ((on.month, on.day) < (born.month, born.day))
    return float(years)


def _coded(concept: Any, path: str, allowed: tuple[str, ...]) -> str:
    codings = concept.get("coding") if isinstance(concept, dict) else None
    for coding in codings or []:
        if isinstance(coding, dict) and coding.get("system") == VALUE_SYSTEM:
            code = coding.get("code")
            if code in allowed:
                return str(code)
            raise InputError(path, f"unknown code {code!r}", ", ".join(allowed))
    raise InputError(path, f"no coding from {VALUE_SYSTEM}", ", ".join(allowed))


def _note_text(doc: dict[str, Any], path: str) -> str:
    content = doc.get("content")
    if not isinstance(content, list) or not content:
        raise InputError(f"{path}.content", "missing", "one content with a text attachment")
    attachment = content[0].get("attachment") if isinstance(content[0], dict) else None
    where = f"{path}.content[0].attachment"
    if not isinstance(attachment, dict) or not isinstance(attachment.get("data"), str):
        raise InputError(where, "needs inline data (base64 text)", "text/plain data in base64")
    kind = str(attachment.get("contentType", "text/plain")).split(";")[0].strip()
    if kind not in ("text/plain", "text/markdown"):
        raise InputError(f"{where}.contentType", f"{kind!r} is not read", "text/plain")
    try:
        return base64.b64decode(attachment["data"], validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise InputError(f"{where}.data", "not base64 of UTF-8 text",
                         "base64 of UTF-8 text") from None


def read_fhir(body: Any, *, today: dt.date) -> FhirInput:
    """The native patient document of a FHIR Parameters or Bundle (see the module docstring).

    ``today`` is the date ages are computed on when the input gives no ``date`` parameter.
    """
    items = list(_resources(body))
    if len(items) > MAX_RESOURCES:
        raise InputError("(body)", f"{len(items)} resources", f"at most {MAX_RESOURCES}")
    on = today
    for name, item, path in items:
        if name == "date":
            try:
                on = dt.date.fromisoformat(str(item.get("valueDate")))
            except ValueError:
                raise InputError(f"{path}.valueDate", "not a date", "YYYY-MM-DD") from None
    items = [(name, item, path) for name, item, path in items if name != "date"
             or "resourceType" in item]
    result = FhirInput(document={"patient": {}, "lumps": []}, occurrence=on.isoformat())
    patient: dict[str, Any] = result.document["patient"]
    lumps: list[dict[str, Any]] = result.document["lumps"]
    lump_of: dict[str, int] = {}
    people = [(r, p) for _, r, p in items if r.get("resourceType") == "Patient"]
    if len(people) > 1:
        raise InputError(people[1][1], "a second Patient", "one Patient")
    if people:
        person, path = people[0]
        result.patient_reference = f"Patient/{person['id']}" if person.get("id") else None
        if "birthDate" in person:
            patient["age_years"] = _age(person["birthDate"], on, f"{path}.birthDate")
            result.paths["patient.age_years"] = f"{path}.birthDate"
        sex = patient_sex(person.get("gender"), f"{path}.gender")
        if sex:
            patient["sex"] = sex
            result.paths["patient.sex"] = f"{path}.gender"
    for _, resource, path in items:
        if resource.get("resourceType") != "BodyStructure":
            continue
        i = len(lumps)
        lump: dict[str, Any] = {"findings": {}}
        if resource.get("id"):
            lump["id"] = str(resource["id"])
        if "location" in resource:
            lump["findings"]["location"] = _coded(resource["location"], f"{path}.location",
                                                  LOCATIONS)
            result.paths[f"lumps.{i}.findings.location"] = f"{path}.location"
        for j, qualifier in enumerate(resource.get("locationQualifier") or []):
            where = f"{path}.locationQualifier[{j}]"
            lump["findings"]["laterality"] = _coded(qualifier, where, LATERALITIES)
            result.paths[f"lumps.{i}.findings.laterality"] = where
        result.paths[f"lumps.{i}"] = path
        for key in _reference_keys(resource):
            lump_of[key] = i
        lumps.append(lump)
    if not lumps:
        lumps.append({"findings": {}})

    def target(refs: Any, path: str) -> int | None:
        for ref in refs if isinstance(refs, list) else []:
            key = ref.get("reference") if isinstance(ref, dict) else None
            if key in lump_of:
                return lump_of[key]
            if key and key.startswith("BodyStructure/"):
                raise InputError(path, f"{key} is not in the input", "a BodyStructure of the input")
        return None

    for _, resource, path in items:
        kind = resource.get("resourceType")
        if kind == "Observation":
            if resource.get("status") in SKIPPED_STATUSES:
                continue
            finding = observed_finding(resource, path)
            spec = FINDINGS[finding]
            value = observed_value(spec, resource, path)
            if value is None:
                continue
            # a patient-level finding (fever, age, ...) belongs to the patient, whatever its
            # focus: the native document holds each finding in its one place
            index = (None if spec.scope is Scope.PATIENT
                     else target(resource.get("focus"), f"{path}.focus"))
            if index is None and spec.scope is Scope.LUMP:
                if len(lumps) > 1:
                    raise InputError(f"{path}.focus", f"{finding} belongs to one lump and there "
                                     "are several", "a reference to the lump's BodyStructure")
                index = 0
            if index is None:
                where = f"patient.{finding}"
                patient[finding] = value
            else:
                where = f"lumps.{index}.findings.{finding}"
                lumps[index]["findings"][finding] = value
            result.paths[where] = value_path(resource, path)
        elif kind == "DocumentReference":
            if resource.get("status") in SKIPPED_STATUSES:
                continue
            context = resource.get("context") if isinstance(resource.get("context"), dict) else {}
            index = target(context.get("related"), f"{path}.context.related")
            if index is None:
                if len(lumps) > 1:
                    raise InputError(f"{path}.context.related", "the note is about one of "
                                     "several lumps", "a reference to the lump's BodyStructure")
                index = 0
            text = _note_text(resource, path)
            previous = lumps[index].get("note")
            lumps[index]["note"] = f"{previous}\n\n{text}" if previous else text
            result.paths[f"lumps.{index}.note"] = f"{path}.content[0].attachment.data"
        elif kind not in ("Patient", "BodyStructure"):
            raise InputError(f"{path}.resourceType", f"{kind!r} is not read here",
                             "Patient, BodyStructure, Observation or DocumentReference")
    return result


__all__ = ["FhirInput", "read_fhir"]
