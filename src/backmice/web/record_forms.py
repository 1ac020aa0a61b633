"""HTML form fields → the dictionaries the record store takes.

Browsers send every field as text. Blank means "not given"; numbers are read here (a value
that is not a number is refused naming the form field); everything else (ranges, dates,
vocabularies) is checked by storage, which names the same fields. Nothing here writes."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from backmice.errors import InputError, StateConflictError

Form = Mapping[str, Any]  # a starlette FormData (or a plain dict in tests)


def text(form: Form, name: str) -> str | None:
    value = form.get(name)
    if not isinstance(value, str) or not value.strip():
        return None
    return value.strip() if name not in ("notes", "note") else value


def number(form: Form, name: str, *, whole: bool = False) -> float | int | None:
    raw = text(form, name)
    if raw is None:
        return None
    kind = "a whole number" if whole else "a number"
    try:
        value = float(raw.replace(",", "."))
    except ValueError:
        raise InputError(name, f"cannot read {raw[:40]!r} as {kind}", kind) from None
    if not math.isfinite(value) or (whole and not value.is_integer()):
        raise InputError(name, f"cannot read {raw[:40]!r} as {kind}", kind)
    return int(value) if whole else value


def record_id(form: Form, name: str) -> int | None:
    value = number(form, name, whole=True)
    if value is not None and not 0 < value < 2**31:
        raise InputError(name, f"{value} is not a record id", "a positive whole number")
    return value  # type: ignore[return-value]


def version(form: Form) -> int:
    value = record_id(form, "version")
    if value is None:
        raise InputError("version", "is missing (reload the page)", "the version you read")
    return value


def yes_no(form: Form, name: str) -> bool | None:
    return {"yes": True, "true": True, "no": False, "false": False}.get(text(form, name) or "")


def patient(form: Form) -> dict[str, Any]:
    return {name: text(form, name)
            for name in ("display_name", "local_id", "birth_date", "sex", "notes")}


def lesion(form: Form) -> dict[str, Any]:
    data: dict[str, Any] = {"label": text(form, "label"), "region": text(form, "region"),
                            "side": text(form, "side"), "x": number(form, "x"),
                            "y": number(form, "y"), "size_cm": number(form, "size_cm")}
    count = number(form, "nodule_count", whole=True)
    if count is not None:
        data["nodule_count"] = count
    return data


def lesion_change(form: Form) -> dict[str, Any]:
    """A lesion card's form: its status, or (``action=details``) its label, place and count.
    A lesion moved to another region or side loses its map point and is drawn at its region
    until placed again."""
    if text(form, "action") != "details":
        return {"status": text(form, "status")}
    data: dict[str, Any] = {"label": text(form, "label"), "region": text(form, "region"),
                            "side": text(form, "side"),
                            "nodule_count": number(form, "nodule_count", whole=True)}
    if (data["region"], data["side"]) != (text(form, "region_was"), text(form, "side_was")):
        data.update(x=None, y=None)
    return data


def procedure(form: Form) -> dict[str, Any]:
    return {"lesion_id": record_id(form, "lesion_id"), "kind": text(form, "kind"),
            "performed_on": text(form, "performed_on"),
            "pain_before": number(form, "pain_before"),
            "pain_after": number(form, "pain_after"),
            "minutes_after": number(form, "minutes_after", whole=True),
            "with_steroid": yes_no(form, "with_steroid"),
            "histopathology": text(form, "histopathology"), "notes": text(form, "notes")}


def encounter_change(form: Form) -> dict[str, Any]:
    """A visit's correction: its date and note (the assessment is a snapshot)."""
    return {"occurred_on": text(form, "occurred_on"), "note": text(form, "note")}


def histopathology(form: Form) -> dict[str, Any]:
    return {"histopathology": text(form, "histopathology")}


def complication(form: Form) -> dict[str, Any]:
    return {"kind": text(form, "kind"), "noted_on": text(form, "noted_on"),
            "notes": text(form, "notes")}


def outcome(form: Form) -> dict[str, Any]:
    return {"lesion_id": record_id(form, "lesion_id"), "measured_on": text(form, "measured_on"),
            "pain": number(form, "pain"), "odi": number(form, "odi"),
            "satisfaction": number(form, "satisfaction"), "notes": text(form, "notes")}


# --- a visit -----------------------------------------------------------------------------------
def lesion_field(lesion_id: int, finding: str) -> str:
    """The form name of one finding of one lesion at a visit."""
    return f"lesion-{lesion_id}.{finding}"


def _finding_value(kind: str, raw: str) -> Any:
    """Read a finding like the clinician workspace does; anything unreadable is passed on as
    text so the engine names the field and what it allows."""
    if kind == "boolean":
        return {"true": True, "false": False}.get(raw, raw)
    if kind in ("number", "count"):
        cleaned = raw.replace(",", ".")
        if kind == "count" and cleaned.lower() == "many":
            return "many"
        try:
            value = float(cleaned)
        except ValueError:
            return raw
        return int(value) if kind == "count" and value.is_integer() else value
    return raw


def findings(form: Form, prefix: str, catalogue: Iterable[Mapping[str, Any]],
             scope: str) -> dict[str, Any]:
    out = {}
    for f in catalogue:
        if f["scope"] != scope or f["group"] == "later_tests":
            continue
        raw = text(form, prefix + f["id"])
        if raw is not None:
            out[f["id"]] = _finding_value(f["kind"], raw)
    return out


def examined(form: Any, lesion_ids: Sequence[int]) -> list[int]:
    """The lesions ticked as examined, in the order of the record."""
    ticked = form.getlist("lesions") if hasattr(form, "getlist") else form.get("lesions", [])
    chosen = set()
    for raw in ticked:
        if not isinstance(raw, str) or not raw.isdigit():
            raise InputError("lesions", f"{str(raw)[:20]!r} is not a lesion id",
                             "tick the lesions examined at this visit")
        if int(raw) not in lesion_ids:  # a form older than the record: 409, as in the API
            raise StateConflictError("lesions", "is not one of this patient's lesions",
                                     "tick the lesions examined at this visit")
        chosen.add(int(raw))
    if not chosen:
        raise InputError("lesions", "no lesion was ticked as examined",
                         "tick at least one lesion examined at this visit")
    return [i for i in lesion_ids if i in chosen]


def encounter(form: Any, catalogue: Sequence[Mapping[str, Any]],
              lesion_ids: Sequence[int]) -> dict[str, Any]:
    """The arguments of ``draft_encounter`` from the visit form."""
    chosen = examined(form, lesion_ids)
    return {"occurred_on": text(form, "occurred_on"), "note": text(form, "note"),
            "setting": text(form, "setting"),
            "patient_findings": findings(form, "patient.", catalogue, "patient"),
            "lumps": [{"lesion_id": i, "later_tests": None,
                       "findings": findings(form, lesion_field(i, ""), catalogue, "lump")}
                      for i in chosen]}


_LUMP_PATH = re.compile(r"lumps\.(\d+)\.findings\.(\w+)$")


def form_field(error_field: str, lumps: Sequence[Mapping[str, Any]]) -> str:
    """The engine names a lump's finding by its place in the document
    (``lumps.0.findings.size_cm``); the form names it by lesion (``lesion-7.size_cm``)."""
    match = _LUMP_PATH.match(error_field or "")
    if match and int(match.group(1)) < len(lumps):
        return lesion_field(lumps[int(match.group(1))]["lesion_id"], match.group(2))
    return error_field
