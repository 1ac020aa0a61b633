"""A clinical note beside the structured findings: read it, merge it under them, report conflicts.

Wherever a case is read, a ``note`` (free text) may come with the findings. The note is read by
:func:`backmice.nlp.extract`; a finding the structured fields leave unknown is taken from the
note, a structured value always wins, and every disagreement becomes a note of the assessment
(never silently resolved). ``backmice validate`` also scores a case from its text alone
(``TextMode.FROM_TEXT``) or from both (``TextMode.WITH_TEXT``): :func:`findings_for_text_mode`.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from backmice.errors import InputError
from backmice.findings import FindingSet, Value
from backmice.nlp import Extraction, extract

MAX_NOTE_CHARS = 100_000


class TextMode(StrEnum):
    """Which text a case's findings come from."""

    NOTE = "note"  # the structured findings, with the case's "note" merged under them
    FROM_TEXT = "from_text"  # the vignette (or note) alone
    WITH_TEXT = "with_text"  # the vignette (or note) merged under the structured findings


def read_note(raw: Any, path: str) -> Extraction | None:
    """The extraction of a ``note`` field (None when there is no note)."""
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise InputError(path, "expected free text", "a string or null")
    if len(raw) > MAX_NOTE_CHARS:
        raise InputError(path, f"the note is {len(raw)} characters long",
                         f"a text of at most {MAX_NOTE_CHARS} characters")
    return extract(raw)


def _shown(value: Value) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value).replace("_", " ")


def _phrases(extraction: Extraction, finding: str) -> str:
    quoted: dict[str, None] = {}
    for m in extraction.evidence(finding)[:3]:
        text = " ".join(m.text.split())
        quoted[f'"{text[:60]}"' + (f", {m.basis}" if m.basis else "")] = None
    return "; ".join(quoted)


def merge_note(structured: FindingSet, extraction: Extraction | None, *, label: str,
               source: str = "note") -> tuple[FindingSet, list[str]]:
    """The structured findings with the note's findings added where they are unknown, and a note
    for every finding read from the text and every conflict (the structured value kept)."""
    if extraction is None or not extraction.findings:
        return structured, []
    added: dict[str, Value] = {}
    notes: list[str] = _mixed(extraction, label=label, source=source)
    for fid, value in extraction.findings.items():
        if fid not in structured:
            added[fid] = value
            continue
        if structured[fid] != value:
            notes.append(f"{label}: the {source} says {fid} is {_shown(value)} "
                         f"({_phrases(extraction, fid)}), the structured findings say "
                         f"{_shown(structured[fid])}; the structured value was used. Check "
                         "which is right.")
    if added:
        read = "; ".join(f"{fid} {_shown(v)} ({_phrases(extraction, fid)})"
                         for fid, v in added.items())
        notes.insert(0, f"{label}: read from the {source}: {read}.")
    return structured.with_values(**added), notes


def _mixed(extraction: Extraction, *, label: str, source: str) -> list[str]:
    """A note for each yes/no finding the text states both ways ("no fever ... chills"): the
    yes is used (the safer reading), and the reader is told."""
    notes = []
    for fid, value in extraction.findings.items():
        if not isinstance(value, bool):
            continue
        other = [m for m in extraction.mentions
                 if m.finding == fid and m.counted and m.value is (not value)]
        if other:
            said = "; ".join(dict.fromkeys(f'"{" ".join(m.text.split())[:60]}"' for m in other))
            notes.append(f"{label}: the {source} also says {fid} is {_shown(not value)} "
                         f"({said}); {_shown(value)} ({_phrases(extraction, fid)}) was used.")
    return notes


def case_text(obj: Mapping[str, Any], mode: TextMode) -> tuple[str, Any]:
    """The field a mode reads the text from, and its raw value."""
    if mode is TextMode.NOTE:
        return "note", obj.get("note")
    if obj.get("vignette") is not None:
        return "vignette", obj.get("vignette")
    return "note", obj.get("note")


def findings_for_text_mode(obj: Mapping[str, Any], structured: FindingSet, mode: TextMode, *,
                           label: str) -> tuple[FindingSet, list[str]]:
    """A case's first-visit findings for a text mode, and the notes the merge leaves."""
    field, raw = case_text(obj, mode)
    extraction = read_note(raw, field)
    if mode is TextMode.FROM_TEXT:
        return (extraction.findings if extraction else FindingSet({})), []
    return merge_note(structured, extraction, label=label, source=field)
