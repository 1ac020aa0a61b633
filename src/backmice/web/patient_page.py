"""What the patient pages show beyond their JSON twin: lesion cards (map position, size over
time, the latest assessment in words, later tests on file, a pain chart), labels for every
code, and the choices of each form. Built from the same ``timeline_data`` the API answers."""

from __future__ import annotations

import datetime as dt
from typing import Any

from backmice.findings import HISTOPATHOLOGY, LATERALITIES, LOCATIONS
from backmice.followup.prefill import visit_prefill
from backmice.followup.records import Timeline
from backmice.followup.vocab import (
    ALERTING_COMPLICATIONS,
    COMPLICATIONS,
    INJECTION_KINDS,
    LESION_STATUSES,
    PATIENT_SEXES,
    PROCEDURE_KINDS,
    PROCEDURE_LABELS,
    REFERRAL_OUTCOMES,
)
from backmice.kb.base import KnowledgeBase
from backmice.render.charts import LineChart, pain_chart
from backmice.web.kb_views import finding_catalogue
from backmice.web.record_views import injection_window, timeline_data

MAP_WIDTH, MAP_HEIGHT = 360, 380  # the body map's viewBox (templates/_bodymap.html)


def _labels(kb: KnowledgeBase, finding: str, values: tuple[str, ...]) -> list[dict[str, str]]:
    entry = kb.findings[finding]
    return [{"value": v, "label": entry.value_label(v)} for v in values]


def choices(kb: KnowledgeBase) -> dict[str, Any]:
    """The options of the record forms, with the knowledge base's wording where it has one."""
    return {
        "regions": _labels(kb, "location", LOCATIONS),
        "sides": _labels(kb, "laterality", LATERALITIES),
        "statuses": list(LESION_STATUSES),
        "sexes": list(PATIENT_SEXES),
        "procedure_kinds": [{"value": k, "label": PROCEDURE_LABELS[k]} for k in PROCEDURE_KINDS],
        "injection_kinds": list(INJECTION_KINDS),
        "complications": list(COMPLICATIONS),
        "alerting": list(ALERTING_COMPLICATIONS),
        "histopathology": _labels(kb, "histopathology_finding", HISTOPATHOLOGY),
        "today": dt.date.today().isoformat(),
        "injection_window": injection_window(kb),
        "referral_outcomes": list(REFERRAL_OUTCOMES),
    }


def later_tests_text(kb: KnowledgeBase, tests: dict[str, Any]) -> list[str]:
    """The later tests a lesion's procedures supply, in words."""
    out = []
    before, after = tests.get("injection_pain_before"), tests.get("injection_pain_after")
    if before is not None and after is not None:
        relief = f" ({(before - after) / before:.0%} relief)" if before > 0 else ""
        minutes = tests.get("minutes_after")
        when = f", {minutes} min after" if minutes is not None else ""
        window = injection_window(kb)
        if minutes is not None and minutes > window:
            when += f" (not used: read more than {window:g} minutes after)"
        out.append(f"Local-anaesthetic injection: pain {before:g} → {after:g}{relief}{when}")
    if tests.get("histopathology_finding"):
        label = _labels(kb, "histopathology_finding", (tests["histopathology_finding"],))[0]
        out.append(f"Histopathology: {label['label']}")
    return out


def _chart(series: dict[str, Any]) -> LineChart | None:
    """The pain chart of one series; None until it has a pain score."""
    if not series["points"]:
        return None
    points = [(dt.date.fromisoformat(p["on"]), p["pain"]) for p in series["points"]]
    marks = [(dt.date.fromisoformat(p["performed_on"]), p["kind"], PROCEDURE_LABELS[p["kind"]])
             for p in series["procedures"]]
    return pain_chart(points, marks)


# The labels the patient page's forms show, by field name: a refused form names the field as
# the user sees it ("Nodules: ..."), not by its name in the form or the API ("nodule_count").
FIELD_LABELS = {
    "label": "Label", "region": "Region", "side": "Side", "size_cm": "Size (cm)",
    "nodule_count": "Nodules", "status": "Status", "x": "Place on the map",
    "y": "Place on the map", "lesion_id": "Lesion", "kind": "Procedure",
    "performed_on": "Date", "pain_before": "Pain before", "pain_after": "Pain after",
    "minutes_after": "Minutes after", "with_steroid": "Corticosteroid",
    "histopathology": "Histopathology", "complication": "Complication", "noted_on": "Noted on",
    "notes": "Notes", "measured_on": "Date", "pain": "Pain",
    "odi": "Oswestry Disability Index", "satisfaction": "Satisfaction",
    "display_name": "Display name", "local_id": "Local identifier",
    "birth_date": "Date of birth", "sex": "Sex", "reason": "Reason", "alert": "Alert",
    "how": "Done how", "done_on": "Done on", "occurred_on": "Date", "note": "Note",
    "version": "Version",
}


def patient_context(kb: KnowledgeBase, t: Timeline, *,
                    today: dt.date | None = None) -> dict[str, Any]:
    """The timeline page's data: the JSON twin's, plus what only the page needs."""
    data = timeline_data(t, within_minutes=injection_window(kb), today=today)
    names = {cid: c.name for cid, c in kb.conditions.items()}
    labels = {le["id"]: le["label"] for le in data["lesions"]}
    series = {s["lesion_id"]: s for s in data["pain_series"]}
    sizes: dict[int, list[tuple[str, float]]] = {le.id: [] for le in t.lesions}
    for le in t.lesions:
        if le.first_size_cm is not None:
            sizes[le.id].append((le.created_at.date().isoformat(), le.first_size_cm))
    for occurred_on, _, line in t.visit_lines():
        if line.size_cm is not None and line.lesion_id in sizes:
            sizes[line.lesion_id].append((occurred_on.isoformat(), line.size_cm))
    lesions = []
    for number, le in enumerate(data["lesions"], start=1):
        placed = le["x"] is not None and le["y"] is not None
        lesions.append({
            **le, "number": number, "sizes": sorted(sizes.get(le["id"], [])),
            "cx": round(le["x"] * MAP_WIDTH, 1) if placed else None,
            "cy": round(le["y"] * MAP_HEIGHT, 1) if placed else None,
            "later_text": later_tests_text(kb, le["later_tests"]),
            "chart": _chart(series[le["id"]]) if le["id"] in series else None,
        })
    whole = series.get(None)
    return {
        "t": data, "lesions": lesions, "map_markers": lesions, "labels": labels,
        "names": names,
        "patient_chart": _chart(whole) if whole else None,
        "choices": choices(kb), "field_labels": FIELD_LABELS,
    }


def prefill_fields(t: Timeline, on: dt.date) -> tuple[dict[str, str], dict[int, str]]:
    """The visit form's fields the record fills (form name → value as the form shows it:
    age from the date of birth at ``on``, sex, each lesion's last size), and for each lesion
    the date its size was measured."""
    found = visit_prefill(t.patient, t.lesions, t.visit_lines(), on=on)
    fields = {f"patient.{k}": str(v) for k, v in found.patient.items()}
    for lesion_id, values in found.lesions.items():
        for name, value in values.items():
            fields[f"lesion-{lesion_id}.{name}"] = f"{value:g}" if isinstance(value, float) \
                else str(value)
    return fields, {lid: day.isoformat() for lid, day in found.size_from.items()}


def visit_context(kb: KnowledgeBase, t: Timeline) -> dict[str, Any]:
    """The record-a-visit form: findings by group and scope, each lesion's record, and the
    values the record already knows (not asked again; the clinician can change them)."""
    catalogue = finding_catalogue(kb)
    groups = [(gid, title, [f for f in catalogue if f["group"] == gid])
              for gid, title in (("history", "History"), ("examination", "Examination"),
                                 ("safety", "Safety questions"))]
    data = timeline_data(t, within_minutes=injection_window(kb))
    day = dt.date.today()
    prefill, size_from = prefill_fields(t, day)
    lesions = [{**le, "later_text": later_tests_text(kb, le["later_tests"]),
                "size_from": size_from.get(le["id"])} for le in data["lesions"]]
    return {"t": data, "lesions": lesions, "groups": groups, "prefill": prefill,
            "birth_date": t.patient.birth_date.isoformat() if t.patient.birth_date else "",
            "settings": [{"id": s.id, "label": s.label} for s in kb.priors.settings],
            "default_setting": kb.priors.default_setting, "today": day.isoformat()}
