"""Reading cases: the JSON Lines case format of case-format.md, and the native patient document.

Two shapes are accepted wherever one case is read (``backmice assess``, the API):

* a case-format object: ``{"id", "findings": {...}, "later_tests": {...}, ...}`` (one lump);
* the native patient document: ``{"setting", "patient": {...}, "lumps": [{"id", "findings",
  "later_tests"}, ...]}``: patient-level findings apply to every lump. Each finding has one
  place (``FindingSpec.scope``): patient-level ones in ``patient``, a lump's own in its
  ``findings``, later tests in its ``later_tests``; one given elsewhere is refused, naming where
  it belongs, so a document cannot contradict itself and reads exactly as its JSON Schema
  (``backmice schema input``) says.

Free-text imaging and pathology reports go through :mod:`backmice.nlp.later_tests`; pain scores
around an anaesthetic injection are read with the knowledge base's threshold and time window.
Every problem raises :class:`~backmice.errors.InputError` naming the field and what is allowed.
What is read but not used (a case-format key it does not know, one pain score without the other,
a score taken too late) is not an error: it leaves a note, and a note about one lump names it.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from backmice import strict_json
from backmice.errors import CaseFormatError, InputError
from backmice.findings import (
    FINDINGS,
    FindingSet,
    LumpInput,
    PatientInput,
    Scope,
    Value,
    parse_findings,
    parse_value,
)
from backmice.interop.notes import (
    MAX_NOTE_CHARS,
    TextMode,
    findings_for_text_mode,
    merge_note,
    read_note,
)
from backmice.kb.base import INJECTION_FINDING, KnowledgeBase
from backmice.kb.loader import default_kb
from backmice.kb.schema import InjectionReading
from backmice.nlp.later_tests import finding_for, read_report

TEXT_REPORTS = ("ultrasound", "mri", "histopathology")
LATER_KEYS = ("anesthetic_injection_relief", "injection_pain_before", "injection_pain_after",
              "minutes_after", *TEXT_REPORTS, "ultrasound_finding", "mri_finding",
              "histopathology_finding")
# The top-level keys of case-format.md; any other key is ignored, with a note.
CASE_KEYS = ("id", "gold", "source", "vignette", "note", "findings", "later_tests",
             "urgent_expected", "notes")
_CASE_KEYS = frozenset(CASE_KEYS)
MAX_MINUTES_AFTER = 1_000_000  # about two years: a score taken later is not used anyway
MAX_LUMPS = 50  # per document: a cluster of many nodules is one lump with its nodule_count
MAX_IGNORED_NOTES = 10  # past this many ignored keys, one note counts the rest


COUNT_OF_A_LUMP = "a whole number of 1 or more, or many"


def check_nodule_count(findings: Mapping[str, Value], path: str) -> None:
    """A palpable lump has at least one nodule: ``nodule_count`` 0 is refused unless the
    findings say no lump is palpable (``palpable_lump`` false: "no nodules", as in cases
    without a lump)."""
    if findings.get("nodule_count") == 0 and findings.get("palpable_lump") is not False:
        raise InputError(path, f"0 nodules cannot describe a lump: enter {COUNT_OF_A_LUMP}",
                         f"{COUNT_OF_A_LUMP} (0 only with palpable_lump false)")


@dataclass(frozen=True)
class CaseRecord:
    """One case of the exchange format: the first-visit findings and, separately, later tests."""

    id: str
    gold: str | None
    urgent_expected: bool | None
    first_visit: FindingSet
    with_later_tests: FindingSet
    notes: tuple[str, ...] = ()
    # the publication the case comes from (PMID/DOI, else URL, else citation): cases of one
    # source stay together when a corpus is split for cross-validation
    source: str = ""


def source_key(raw: Any) -> str:
    """The identity of a case's source: its PMID or DOI, else its URL, else its citation."""
    if not isinstance(raw, Mapping):
        return ""
    for key in ("pmid_or_doi", "url", "citation"):
        value = raw.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip().lower()
    return ""


def _pain(raw: Any, path: str) -> float | None:
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not 0 <= raw <= 10:
        raise InputError(path, f"expected a pain score, got {raw!r}", "a number from 0 to 10")
    return float(raw)


def _minutes(raw: Any, path: str) -> float | None:
    if raw is None:
        return None
    if (isinstance(raw, bool) or not isinstance(raw, int | float)
            or not 0 <= raw <= MAX_MINUTES_AFTER):
        raise InputError(path, f"expected minutes after the injection, got {raw!r}"[:120],
                         f"a number of minutes from 0 to {MAX_MINUTES_AFTER:,}")
    return float(raw)


def _suggestion(key: str, known: Collection[str]) -> str:
    close = difflib.get_close_matches(key[:60], known, n=1, cutoff=0.7)
    return f" (did you mean '{close[0]}'?)" if close else ""


def ignored_key_notes(keys: Collection[Any], known: Collection[str], *, where: str = "",
                      what: str = "key") -> list[str]:
    """One note per ignored key (naming the nearest known key when one is close)."""
    notes = []
    for key in list(keys)[:MAX_IGNORED_NOTES]:
        name = str(key)
        shown = name if len(name) <= 60 else name[:57] + "..."
        notes.append(f"{where}{'ignored' if where else 'Ignored'} {what} '{shown}'"
                     f"{_suggestion(name, known)}: it is not part of the case format, so it was "
                     "not used.")
    if len(keys) > MAX_IGNORED_NOTES:
        notes.append(f"{where}{len(keys) - MAX_IGNORED_NOTES} more unknown {what}s were "
                     "ignored.")
    return notes


def lump_label(lump_id: str | None, findings: Mapping[str, Value]) -> str:
    """How a note names its lump: its id and, when known, where (``Lump a (left buttock)``)."""
    side = findings.get("laterality")
    place = findings.get("location")
    words = []
    if side is not None and side != "midline":
        words.append(str(side))
    if place is not None:
        words.append("other site" if place == "other" else str(place).replace("_", " "))
    where = " ".join(words)
    if lump_id:
        return f"Lump {lump_id} ({where})" if where else f"Lump {lump_id}"
    return f"The lump ({where})" if where else "The lump"


def _contradiction(relief: bool, before: float | None, after: float | None,
                   minutes: float | None, rule: InjectionReading, label: str) -> list[str]:
    """A note when the pain scores given with a recorded anaesthetic answer read the other way
    (the answer is still the one used, as documented for ``anesthetic_injection_relief``)."""
    if before is None or after is None or before == 0:
        return []
    if minutes is not None and minutes > rule.within_minutes:
        return []
    scored = (before - after) / before >= rule.min_relief
    if scored == relief:
        return []
    word = {True: "relief", False: "no relief"}
    return [f"{label}: anaesthetic test recorded as {word[relief]}, but the pain scores "
            f"{before:g} → {after:g} read as {word[scored]} (relief is a fall of at least "
            f"{rule.min_relief:.0%} within {rule.within_minutes:g} minutes); the recorded "
            f"answer was used. Check which is right."]


def _injection(raw: Mapping[str, Any], path: str, rule: InjectionReading,
               label: str) -> tuple[bool | None, list[str]]:
    """The anaesthetic test: the recorded answer, or relief read from the two pain scores."""
    relief = parse_value(FINDINGS[INJECTION_FINDING], raw.get(INJECTION_FINDING),
                         f"{path}.{INJECTION_FINDING}")
    before = _pain(raw.get("injection_pain_before"), f"{path}.injection_pain_before")
    after = _pain(raw.get("injection_pain_after"), f"{path}.injection_pain_after")
    minutes = _minutes(raw.get("minutes_after"), f"{path}.minutes_after")
    if relief is not None:  # the recorded answer is used instead of the pain scores
        return bool(relief), _contradiction(bool(relief), before, after, minutes, rule, label)
    head = f"{label}: anaesthetic test not used"
    if before is None and after is None:
        if minutes is not None:
            return None, [f"{head}: a time after the injection was given but no pain scores."]
        return None, []
    if after is None:
        return None, [f"{head}: the pain score after the injection is missing (only the score "
                      f"before, {before:g}, was given)."]
    if before is None:
        return None, [f"{head}: the pain score before the injection is missing (only the score "
                      f"after, {after:g}, was given)."]
    if before == 0:
        return None, [f"{head}: there was no pain before the injection."]
    window = rule.within_minutes
    if minutes is not None and minutes > window:
        return None, [f"{head}: the pain after ({after:g}) was scored {minutes:g} minutes after "
                      f"the injection, later than the {window:g} minutes within which relief is "
                      "read."]
    relief = (before - after) / before >= rule.min_relief
    at = f" at {minutes:g} minutes" if minutes is not None else ""
    unknown_time = "" if minutes is not None else "; the time of the second score was not given"
    return relief, [f"{label}: anaesthetic test pain {before:g} → {after:g}{at} counted as "
                    f"{'relief' if relief else 'no relief'} (relief is a fall of at least "
                    f"{rule.min_relief:.0%} within {window:g} minutes{unknown_time})."]


def read_later_tests(raw: Any, *, path: str = "later_tests", kb: KnowledgeBase | None = None,
                     label: str = "The lump", strict: bool = True,
                     ) -> tuple[dict[str, Value], list[str]]:
    """Later tests → finding values, plus notes (each naming ``label``) on what was not used.

    ``strict`` rejects unknown keys; a lenient read (``backmice validate``) ignores them with a
    note. The anaesthetic test is read with the knowledge base's rule (threshold and window).
    """
    if raw is None:
        return {}, []
    if not isinstance(raw, Mapping):
        raise InputError(path, "expected an object")
    unknown = [k for k in raw if k not in LATER_KEYS]
    notes: list[str] = []
    if unknown and strict:
        raise InputError(f"{path}.{unknown[0]}", "unknown later test" + _suggestion(
            str(unknown[0]), LATER_KEYS), ", ".join(LATER_KEYS))
    if unknown:
        notes += ignored_key_notes(unknown, LATER_KEYS, where=f"{label}: ", what="later test")
    rule = (kb or default_kb()).findings[INJECTION_FINDING].reading
    assert rule is not None  # the knowledge-base checks require it
    values: dict[str, Value] = {}
    relief, injection_notes = _injection(raw, path, rule, label)
    notes += injection_notes
    if relief is not None:
        values[INJECTION_FINDING] = relief
    for kind in TEXT_REPORTS:
        finding = finding_for(kind)
        coded = parse_value(FINDINGS[finding], raw.get(finding), f"{path}.{finding}")
        text = raw.get(kind)
        if text is not None and not isinstance(text, str):
            raise InputError(f"{path}.{kind}", "expected free text", "a string or null")
        if coded is None and text and text.strip():
            coded = read_report(kind, text)
            if coded is None:
                notes.append(f"{label}: the {kind} report could not be read into a finding; it "
                             "was not used.")
        if coded is not None:
            values[finding] = coded
    return values, notes


def _parse_json(text: str) -> Any:
    if not text.strip():
        raise CaseFormatError("(input)", "the input is empty", "one JSON object")
    try:
        return strict_json.loads(text, where="")
    except InputError as exc:
        field = "(input)" if exc.field == "(body)" else exc.field
        raise CaseFormatError(field, exc.message, exc.allowed) from None


def read_case(obj: Any, *, strict: bool = True, kb: KnowledgeBase | None = None,
              text_mode: TextMode = TextMode.NOTE) -> CaseRecord:
    """One case-format object. Unknown top-level keys are ignored, each with a note.

    ``strict=False`` (validation runs) also ignores unknown keys inside ``findings`` and
    ``later_tests``, with a note each; ``strict=True`` (the CLI and API) rejects them.
    A ``note`` (free text) is read and merged under the structured findings, each conflict
    noted; ``text_mode`` reads the vignette instead, alone or merged (``backmice validate``).
    """
    if not isinstance(obj, Mapping):
        raise CaseFormatError("(case)", "expected a JSON object")
    case_id = obj.get("id")
    if isinstance(case_id, bool) or not isinstance(case_id, str | int | float | None):
        raise InputError("id", f"expected text, a number or null, not {type(case_id).__name__}",
                         "a text, a number or null")
    unknown = [k for k in obj if k not in _CASE_KEYS]
    notes = ignored_key_notes(unknown, CASE_KEYS) if unknown else []
    raw_findings = obj.get("findings")
    first = parse_findings(raw_findings, strict=strict)
    check_nodule_count(first.values, "findings.nodule_count")
    label = lump_label(str(case_id) if case_id is not None else None, first.values)
    if not strict and isinstance(raw_findings, Mapping):
        notes += ignored_key_notes([k for k in raw_findings if k not in FINDINGS], FINDINGS,
                                   where=f"{label}: ", what="finding")
    first, text_notes = findings_for_text_mode(obj, first, text_mode, label=label)
    check_nodule_count(first.values, "findings.nodule_count")
    notes += text_notes
    later, later_notes = read_later_tests(obj.get("later_tests"), kb=kb, label=label,
                                          strict=strict)
    notes += later_notes
    gold = obj.get("gold")
    if gold is not None and not isinstance(gold, str):
        raise InputError("gold", "expected a condition id or other:<name>")
    urgent = obj.get("urgent_expected")
    if urgent is not None and not isinstance(urgent, bool):
        raise InputError("urgent_expected", "expected true, false or null")
    both = first.with_values(**later) if later else first
    return CaseRecord(id=str(case_id) if case_id is not None else "case", gold=gold,
                      urgent_expected=urgent, first_visit=first, with_later_tests=both,
                      notes=tuple(notes), source=source_key(obj.get("source")))


class _Lump(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str | None = Field(default=None, max_length=100)
    findings: dict[str, Any] = Field(default_factory=dict)
    later_tests: dict[str, Any] | None = None
    note: str | None = Field(default=None, max_length=MAX_NOTE_CHARS, description=(
        "a clinical note about this lump (free text): its findings fill what the structured "
        "findings leave unknown, and a conflict is reported, the structured value kept"))


class PatientDocument(BaseModel):
    """The native input: one patient, any number of lumps (JSON Schema: ``backmice schema``)."""

    model_config = ConfigDict(extra="forbid")
    setting: str | None = Field(default=None, description="primary_care (default), "
                                "spine_pain_clinic or dermatology_surgery")
    patient: dict[str, Any] = Field(default_factory=dict,
                                    description="patient-level findings, applied to every lump")
    lumps: list[_Lump] = Field(min_length=1, max_length=MAX_LUMPS, description=(
        f"1 to {MAX_LUMPS} lumps; a cluster of many similar nodules is one lump with its "
        "nodule_count"))


def _allowed(err: Any) -> str:
    """What the patient document accepts at the place of a pydantic error."""
    loc = [p for p in err["loc"] if not isinstance(p, int)]
    if err["type"] == "extra_forbidden":
        fields = _Lump.model_fields if loc[:1] == ["lumps"] else PatientDocument.model_fields
        return ", ".join(fields)
    if loc == ["lumps"]:
        return (f"a list of 1 to {MAX_LUMPS} lumps, each {{id, findings, later_tests}} (a cluster "
                "of many nodules is one lump with its nodule_count)")
    if loc[-1:] == ["id"]:
        return "a text of at most 100 characters"
    if loc[-1:] == ["note"]:
        return f"free text of at most {MAX_NOTE_CHARS} characters, or null"
    if loc[-1:] in (["findings"], ["patient"], ["later_tests"]):
        return "an object (see backmice schema input)"
    if loc == ["setting"]:
        return "primary_care, spine_pain_clinic, dermatology_surgery or null"
    return "see backmice schema input"


def _lump_ids(doc: PatientDocument) -> list[str]:
    """Each lump's id: its own (which must be unique), else ``lump-<n>`` not used by another."""
    given: dict[str, int] = {}
    for i, lump in enumerate(doc.lumps):
        if lump.id:
            if lump.id in given:
                raise InputError(f"lumps.{i}.id", f"the lump id {lump.id!r} is already used by "
                                 f"lumps.{given[lump.id]}.id; lump ids must be unique",
                                 "a different id for each lump, or no id")
            given[lump.id] = i
    ids = []
    for i, lump in enumerate(doc.lumps):
        lump_id = lump.id or f"lump-{i + 1}"
        n = 1
        while not lump.id and lump_id in given:
            n += 1
            lump_id = f"lump-{i + 1}-{n}"
        given.setdefault(lump_id, i)
        ids.append(lump_id)
    return ids


def _check_places(raw: Mapping[str, Any], path: str, index: int | None) -> None:
    """Refuse a finding given where it does not belong in the patient document (``index``:
    the lump whose findings ``raw`` are, None for ``patient``)."""
    for key in raw:
        spec = FINDINGS.get(key) if isinstance(key, str) else None
        if spec is None:
            continue  # an unknown finding: parse_findings names it
        lump = f"lumps.{index if index is not None else '<i>'}"
        if spec.later_test:
            raise InputError(f"{path}.{key}", "is a later test, not a finding",
                             f"give it in {lump}.later_tests.{key}")
        if index is None and spec.scope is Scope.LUMP:
            raise InputError(f"{path}.{key}", "is a finding of one lump, not of the patient",
                             f"give it in each lump's findings: {lump}.findings.{key}")
        if index is not None and spec.scope is Scope.PATIENT:
            raise InputError(f"{path}.{key}", "is a finding of the patient, not of one lump",
                             f"give it once for the patient: patient.{key}")


def _setting(setting: str | None, kb: KnowledgeBase | None) -> None:
    """A document's own setting is checked even when the caller's choice overrides it."""
    known = (kb or default_kb()).setting_ids
    if setting is not None and setting not in known:
        raise InputError("setting", f"unknown care setting {setting[:60]!r}",
                         ", ".join(known) + " or null")


def _patient(obj: Mapping[str, Any], kb: KnowledgeBase | None
             ) -> tuple[PatientInput, list[str]]:
    try:
        doc = PatientDocument.model_validate(obj)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        message = err["msg"]
        if err["type"] == "extra_forbidden":
            known = _Lump.model_fields if err["loc"][:1] == ("lumps",) else \
                PatientDocument.model_fields
            message = "unknown key" + _suggestion(str(err["loc"][-1]), list(known))
        raise InputError(where, message, _allowed(err)) from None
    _setting(doc.setting, kb)
    _check_places(doc.patient, "patient", None)
    shared = parse_findings(doc.patient, path="patient")
    ids = _lump_ids(doc)
    lumps = []
    notes: list[str] = []
    common = shared.values
    for i, lump in enumerate(doc.lumps):
        _check_places(lump.findings, f"lumps.{i}.findings", i)
        own = parse_findings(lump.findings, path=f"lumps.{i}.findings").values
        # only later tests and notes leave notes about a lump, and each note names it
        label = (lump_label(lump.id or str(i + 1), {**common, **own})
                 if lump.later_tests or lump.note else "")
        later, lump_notes = read_later_tests(lump.later_tests, path=f"lumps.{i}.later_tests",
                                             kb=kb, label=label)
        merged = shared.with_values(**{**own, **later})
        if lump.note:
            merged, text_notes = merge_note(merged, read_note(lump.note, f"lumps.{i}.note"),
                                            label=label)
            lump_notes = [*text_notes, *lump_notes]
        check_nodule_count(merged.values, f"lumps.{i}.findings.nodule_count")
        lumps.append(LumpInput(id=ids[i], findings=merged))
        notes.extend(lump_notes)
    return PatientInput(lumps=tuple(lumps), setting=doc.setting), notes


def read_document(text: str, *, setting: str | None = None, kb: KnowledgeBase | None = None
                  ) -> tuple[PatientInput, list[str]]:
    """Parse either accepted shape from JSON text into a PatientInput (and reading notes).

    ``kb`` gives the rule for reading the anaesthetic test (the packaged knowledge base if None).
    """
    return read_value(_parse_json(text), setting=setting, kb=kb)


def read_value(obj: Any, *, setting: str | None = None, kb: KnowledgeBase | None = None
               ) -> tuple[PatientInput, list[str]]:
    """``read_document`` for a value already parsed under the rules of ``strict_json`` (the
    web edge parses every body once)."""
    if not isinstance(obj, Mapping):
        raise CaseFormatError("(input)", "expected one JSON object",
                              "a case-format object or a patient document with lumps")
    if "lumps" in obj:
        patient, notes = _patient(obj, kb)
        if setting:
            patient = PatientInput(lumps=patient.lumps, setting=setting)
        return patient, notes
    if "findings" not in obj and "note" not in obj:
        near = next((hint for k in obj if (hint := _suggestion(str(k), ("findings", "lumps")))),
                    "")
        raise CaseFormatError("(input)", f"found neither 'findings', 'note' nor 'lumps'{near}",
                              "a case-format object (findings and/or a note) or a patient "
                              "document with lumps")
    case = read_case(obj, kb=kb)
    lump = LumpInput(id=case.id, findings=case.with_later_tests)
    return PatientInput(lumps=(lump,), setting=setting), list(case.notes)
