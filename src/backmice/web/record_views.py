"""The patient record as data for the pages and the JSON API (each page's JSON twin answers
exactly this): the timeline with alerts and pain series, the export as JSON and CSV, and the
clinic-wide before / after table."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import unicodedata
from collections import defaultdict
from typing import Any

from backmice.followup.alerts import URGENCY_WORDS, patient_alerts
from backmice.followup.later_tests import later_tests_for
from backmice.followup.outcomes import pain_series, treatment_effects
from backmice.followup.records import ClinicFollowup, Correction, Outcome, Procedure, Timeline
from backmice.followup.referrals import open_first
from backmice.followup.vocab import PROCEDURE_LABELS
from backmice.kb.base import INJECTION_FINDING, KnowledgeBase


def plain(value: Any) -> Any:
    """Dataclasses, dates and tuples → JSON-ready values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def injection_window(kb: KnowledgeBase) -> float:
    """The minutes after an injection within which its relief is read (the knowledge base's
    rule for ``anesthetic_injection_relief``)."""
    rule = kb.findings[INJECTION_FINDING].reading
    assert rule is not None  # the knowledge-base checks require it
    return rule.within_minutes


def corrections_data(corrections: tuple[Correction, ...], *,
                     with_documents: bool = False) -> list[dict[str, Any]]:
    """Each correction with the values before it; a deleted visit's documents only in the
    export (``with_documents``)."""
    out = []
    for c in corrections:
        item = plain(c)
        if not with_documents:
            item["old"] = {k: v for k, v in item["old"].items() if k not in ("input",
                                                                           "assessment")}
        out.append(item)
    return out


def _referral(r: Any, today: dt.date, labels: dict[int, str]) -> dict[str, Any]:
    return {**plain(r), "overdue": r.is_overdue(today), "lesion_label": labels.get(r.lesion_id),
            "triage_words": URGENCY_WORDS[r.triage]}


def timeline_data(t: Timeline, *, within_minutes: float, with_documents: bool = False,
                  today: dt.date | None = None) -> dict[str, Any]:
    """Everything on the patient's page. Encounters carry their per-lesion summaries; the full
    input and assessment documents only when asked (the export, or one encounter's page).
    ``encounters`` is the page of visits the timeline was read with (``encounters_total`` in
    all); each lesion's latest result comes from every visit's summary line.
    ``within_minutes``: the injection window (``injection_window(kb)``). ``alerts`` are the
    open ones (complications and urgent lesions), ``reviewed_alerts`` the reviewed ones;
    ``referrals`` open first (overdue against ``today``, default the server's date); an entry
    corrected since it was recorded says so (``corrected``), and ``corrections`` keep the
    reason and the values before."""
    today = today or dt.date.today()
    corrected = {c.target for c in t.corrections if c.action == "update"}
    encounters = []
    for e in t.encounters:
        item = plain(dataclasses.replace(e, input_doc={}, result_doc={}))
        del item["input_doc"], item["result_doc"]
        item["corrected"] = f"encounter:{e.id}" in corrected
        if with_documents:
            item["input"], item["assessment"] = e.input_doc, e.result_doc
        encounters.append(item)
    last = {line.lesion_id: (day, eid, line) for day, eid, line in t.visit_lines()}
    latest = {lesion_id: {**plain(line), "occurred_on": day.isoformat(), "encounter_id": eid}
              for lesion_id, (day, eid, line) in last.items()}
    open_alerts, reviewed = patient_alerts(t.procedures, t.visit_lines(), t.reviews)
    labels = {le.id: le.label for le in t.lesions}
    lesions = [{**plain(le), "is_cluster": le.is_cluster, "latest": latest.get(le.id),
                "later_tests": later_tests_for(le.id, t.procedures,
                                               within_minutes=within_minutes)}
               for le in t.lesions]
    return {
        "patient": {**plain(t.patient), "label": t.patient.label},
        "lesions": lesions,
        "encounters": encounters,
        "encounters_total": len(encounters) if t.encounters_total is None
        else t.encounters_total,
        "procedures": [{**plain(p), "label": PROCEDURE_LABELS[p.kind],
                        "corrected": f"procedure:{p.id}" in corrected} for p in t.procedures],
        "outcomes": [{**plain(o), "corrected": f"outcome:{o.id}" in corrected}
                     for o in t.outcomes],
        "alerts": plain(open_alerts),
        "reviewed_alerts": plain(reviewed),
        "referrals": [_referral(r, today, labels) for r in open_first(t.referrals, today)],
        "corrections": corrections_data(t.corrections, with_documents=with_documents),
        "today": today.isoformat(),
        "pain_series": plain(pain_series([le.id for le in t.lesions], t.outcomes,
                                         t.procedures)),
    }


ENCOUNTERS_SHOWN = 20  # visits per page of a timeline (the newest first)

CSV_COLUMNS = ("record", "id", "date", "lesion_id", "lesion_label", "kind", "pain_before",
               "pain_after", "pain", "odi", "satisfaction", "top_condition", "top_probability",
               "triage", "histopathology", "complications", "notes")


FORMULA_STARTS = frozenset("=+-@|%")


def csv_cell(value: Any) -> Any:
    """A cell a spreadsheet cannot run as a formula (OWASP, CSV injection): text whose first
    character starts a formula (= + - @, and | and % for DDE) or is a space, tab, line break
    or other control character (which spreadsheets skip before reading a formula) gets a
    leading apostrophe; so does text whose first visible character does once full-width forms
    are folded (``＝1+1`` is read as ``=1+1``). Every cell is also quoted (``QUOTE_ALL``, inner
    quotes doubled). Numbers stay numbers."""
    if not isinstance(value, str) or not value:
        return value
    first = value[0]
    folded = unicodedata.normalize("NFKC", value).lstrip()
    if (first in FORMULA_STARTS or first.isspace() or unicodedata.category(first)[0] in "CZ"
            or (folded[:1] in FORMULA_STARTS)):
        return "'" + value
    return value


def timeline_csv(t: Timeline) -> str:
    """One row per lesion, encounter line, procedure and outcome (a long table, oldest first
    within each kind), for spreadsheets; the JSON export holds the full documents."""
    labels = {le.id: le.label for le in t.lesions}
    out = io.StringIO()
    writer = csv.DictWriter(out, CSV_COLUMNS, extrasaction="raise", quoting=csv.QUOTE_ALL)
    writer.writeheader()

    def row(**values: Any) -> None:
        lesion = values.get("lesion_id")
        cells = {**dict.fromkeys(CSV_COLUMNS, ""), "lesion_label": labels.get(lesion, ""),
                 **{k: "" if v is None else v for k, v in values.items()}}
        writer.writerow({k: csv_cell(v) for k, v in cells.items()})

    for le in t.lesions:
        row(record="lesion", id=le.id, date=le.created_at.date().isoformat(), lesion_id=le.id,
            kind=le.status, notes=f"{le.region or ''} {le.side or ''}".strip())
    for e in t.encounters:
        for line in e.lesions:
            row(record="encounter", id=e.id, date=e.occurred_on.isoformat(),
                lesion_id=line.lesion_id, top_condition=line.top_condition,
                top_probability=round(line.top_probability, 4), triage=line.triage,
                notes=e.note)
    for p in t.procedures:
        row(record="procedure", id=p.id, date=p.performed_on.isoformat(), lesion_id=p.lesion_id,
            kind=p.kind, pain_before=p.pain_before, pain_after=p.pain_after,
            histopathology=p.histopathology,
            complications=";".join(c.kind for c in p.complications), notes=p.notes)
    for o in t.outcomes:
        row(record="outcome", id=o.id, date=o.measured_on.isoformat(), lesion_id=o.lesion_id,
            pain=o.pain, odi=o.odi, satisfaction=o.satisfaction, notes=o.notes)
    return out.getvalue()


def clinic_worklist_data(f: ClinicFollowup, today: dt.date) -> dict[str, Any]:
    """The clinic's open alerts (newest first) and open referrals (overdue first), each with
    its patient's id and label."""
    procedures: dict[int, list[Procedure]] = defaultdict(list)
    for p in f.procedures:
        procedures[p.patient_id].append(p)
    lines: dict[int, list[Any]] = defaultdict(list)
    for patient_id, day, eid, line in f.visit_lines:
        lines[patient_id].append((day, eid, line))
    reviews: dict[int, list[Any]] = defaultdict(list)
    for r in f.reviews:
        reviews[r.patient_id].append(r)
    alerts = []
    for patient_id, patient in f.patients.items():
        open_alerts, _ = patient_alerts(procedures[patient_id], lines[patient_id],
                                        reviews[patient_id])
        alerts += [{**plain(a), "patient_id": patient_id, "patient_label": patient.label}
                   for a in open_alerts]
    alerts.sort(key=lambda a: (a["noted_on"], a["key"]), reverse=True)
    referrals = [{**_referral(r, today, {}), "patient_label": f.patients[r.patient_id].label}
                 for r in open_first(f.referrals, today)]
    return {"alerts": alerts, "referrals": referrals,
            "overdue": sum(1 for r in referrals if r["overdue"]), "today": today.isoformat()}


def clinic_effects_data(procedures: list[Procedure], outcomes: list[Outcome]) -> dict[str, Any]:
    effects = treatment_effects(procedures, outcomes)
    return {"effects": [{**plain(e), "label": PROCEDURE_LABELS[e.kind],
                         "mean_change": e.mean_change} for e in effects],
            "method": "before: the latest pain score (lesion or whole patient) up to 180 days "
                      "before the procedure; after: the latest score up to 365 days after it "
                      "and before the next procedure on the same lesion"}
