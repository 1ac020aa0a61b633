"""The visit form's "Paste the note": a pasted note's findings become suggestions in the form.

Without JavaScript the form posts to a form action that calls :func:`backmice.nlp.extract` and
renders the form again: each finding the note gives fills its empty field and is marked "read
from the note" with its phrase, and counts only once the clinician confirms it (its "Confirm"
box, or "Confirm all") or changes the field. A field that already holds a value (or a lesion's
region, side and count on record) is never overwritten: the note's value is shown beside it as
a conflict. The marks travel with the form as one hidden JSON field (``note_marks``); saving
refuses a suggestion that is still unconfirmed, naming its field, so it is never assessed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from backmice.errors import InputError
from backmice.nlp import Extraction
from backmice.web import record_forms

SUGGESTED = "suggested"
CONFLICT = "conflict"
MARKS_FIELD = "note_marks"


@dataclass(frozen=True, slots=True)
class NoteMark:
    """One form field's mark: a suggestion (``value`` fills the field) or a conflict (the
    field keeps what was entered; ``value`` is what the note says)."""

    kind: str
    value: str
    shown: str
    phrase: str


@dataclass(frozen=True, slots=True)
class NoteFill:
    values: dict[str, str]  # form name -> the value the note fills in
    marks: dict[str, NoteMark]
    skipped: int  # findings the note gives that this form has no field for


def form_value(value: Any) -> str:
    """A finding's value as the form sends it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _same(kind: str, a: str, b: str) -> bool:
    if kind in ("number", "count"):
        try:
            return abs(float(a.replace(",", ".")) - float(b.replace(",", "."))) < 1e-9
        except ValueError:
            return a.strip().lower() == b.strip().lower()
    return a == b


def shown(f: Mapping[str, Any], value: str) -> str:
    """A form value in the words of the field's options (or with its unit)."""
    if f["kind"] in ("boolean", "category"):
        for o in f.get("values") or ():
            v = o["value"]
            if (("true" if v else "false") if f["kind"] == "boolean" else str(v)) == value:
                return str(o["label"])
        return value
    unit = f.get("unit")
    return f"{value} {unit}" if unit else value


def phrase(extraction: Extraction, finding: str) -> str:
    """The phrases behind a finding, quoted, with how a number was read from words."""
    quoted: dict[str, None] = {}
    for m in extraction.evidence(finding)[:3]:
        text = " ".join(m.text.split())[:80]
        quoted[f"“{text}”" + (f" ({m.basis})" if m.basis else "")] = None
    return "; ".join(quoted)


def read_marks(form: Mapping[str, Any]) -> dict[str, NoteMark]:
    """The marks a form carries back (anything unreadable is dropped: they only mark fields)."""
    raw = form.get(MARKS_FIELD)
    if not isinstance(raw, str) or not raw:
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        return {}
    out = {}
    if isinstance(data, dict):
        for name, m in data.items():
            if (isinstance(m, dict) and m.get("kind") in (SUGGESTED, CONFLICT)
                    and all(isinstance(m.get(k), str) for k in ("value", "shown", "phrase"))):
                out[str(name)] = NoteMark(m["kind"], m["value"], m["shown"], m["phrase"])
    return out


def write_marks(marks: Mapping[str, NoteMark]) -> str:
    return json.dumps({name: asdict(m) for name, m in marks.items()}, ensure_ascii=False)


def confirmed(form: Any) -> set[str]:
    """The fields whose "Confirm" box is ticked (all of them with "Confirm all")."""
    names = form.getlist("confirmed") if hasattr(form, "getlist") else form.get("confirmed", [])
    if isinstance(names, str):
        names = [names]
    if record_forms.text(form, "confirm_all"):
        return set(read_marks(form))
    return {n for n in names if isinstance(n, str)}


def pending(form: Any) -> list[str]:
    """Fields that still hold a value read from the note that nobody confirmed or changed."""
    ok = confirmed(form)
    return [name for name, m in read_marks(form).items()
            if m.kind == SUGGESTED and name not in ok
            and (record_forms.text(form, name) or "") == m.value]


def refuse_pending(form: Any) -> None:
    """Saving with an unconfirmed suggestion is refused naming its field: it never counts."""
    left = pending(form)
    if left:
        more = f" (and {len(left) - 1} more)" if len(left) > 1 else ""
        raise InputError(left[0], "was read from the note and is not confirmed yet" + more,
                         "tick “Confirm” beside it (or “Confirm all”), change it, or set it "
                         "to unknown")


def fill(form: Any, extraction: Extraction, catalogue: Sequence[Mapping[str, Any]], *,
         lesion_id: int | None, known: Mapping[str, Any]) -> NoteFill:
    """The note's findings as values for the empty fields of the visit form, and their marks.

    Lump findings go to ``lesion_id`` (none: they are skipped); ``known`` is that lesion's
    region, side and count on record, which count as entered. A suggestion left unconfirmed
    from an earlier reading is replaced; a confirmed one is kept as entered.
    """
    old = read_marks(form)
    ok = confirmed(form)
    stale = {name for name, m in old.items() if m.kind == SUGGESTED and name not in ok
             and (record_forms.text(form, name) or "") == m.value}
    by_id = {f["id"]: f for f in catalogue if f["group"] != "later_tests"}
    values: dict[str, str] = {name: "" for name in stale}
    marks: dict[str, NoteMark] = {}
    skipped = 0
    for fid, value in extraction.findings.items():
        f = by_id.get(fid)
        if f is None or (f["scope"] == "lump" and lesion_id is None):
            skipped += 1
            continue
        name = ("patient." + fid if f["scope"] == "patient"
                else record_forms.lesion_field(lesion_id or 0, fid))
        said = form_value(value)
        entered = None if name in stale else record_forms.text(form, name)
        if entered is None and f["scope"] == "lump" and known.get(fid) is not None:
            entered = form_value(known[fid])
        mark = NoteMark(SUGGESTED, said, shown(f, said), phrase(extraction, fid))
        if entered is None:
            values[name] = said
            marks[name] = mark
        elif not _same(f["kind"], entered, said):
            marks[name] = NoteMark(CONFLICT, said, mark.shown, mark.phrase)
    return NoteFill(values, marks, skipped)


def note_lesion(form: Any, lesion_ids: Iterable[int]) -> int | None:
    """The lesion the note describes: the one chosen, else the first ticked, else the first."""
    ids = list(lesion_ids)
    chosen = record_forms.text(form, "note_lesion")
    if chosen and chosen.isdigit() and int(chosen) in ids:
        return int(chosen)
    ticked = form.getlist("lesions") if hasattr(form, "getlist") else form.get("lesions", [])
    for raw in ticked:
        if isinstance(raw, str) and raw.isdigit() and int(raw) in ids:
            return int(raw)
    return ids[0] if ids else None


def summary(done: NoteFill) -> str:
    suggested = sum(1 for m in done.marks.values() if m.kind == SUGGESTED)
    conflicts = sum(1 for m in done.marks.values() if m.kind == CONFLICT)
    if not suggested and not conflicts:
        return "Nothing in the note fills a field of this form."
    parts = [f"{suggested} value{'' if suggested == 1 else 's'} read from the note: confirm "
             "or change each one (they are not used until then)."]
    if conflicts:
        parts.append(f"{conflicts} disagree{'s' if conflicts == 1 else ''} with what is "
                     "entered: shown beside the field, nothing was overwritten.")
    return " ".join(parts)
