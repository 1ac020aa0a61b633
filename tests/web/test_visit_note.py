"""The visit form's "Paste the note" without JavaScript: the form action reads the note into
suggestions marked "read from the note", never overwrites an entered value (the conflict is
shown), and saving refuses a suggestion nobody confirmed; confirmed or changed values count."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest

from backmice.nlp import extract
from backmice.web import note_fill
from backmice.web.kb_views import finding_catalogue

NOTE = "62M, huge swelling R buttock, getting bigger over the past week. Chills, confused."
YESTERDAY = (dt.date.today() - dt.timedelta(days=1)).isoformat()


@pytest.fixture
def visit(login_as):
    c = login_as("clinician", username="paster")
    csrf = c.headers.pop("x-csrf-token")
    c.headers["accept"] = "text/html"
    pid = c.post("/patients", data={"csrf_token": csrf, "display_name": "Pat Note"},
                 follow_redirects=False).headers["location"].rsplit("/", 1)[1]
    c.post(f"/patients/{pid}/lesions", data={"csrf_token": csrf, "label": "right buttock",
                                             "region": "buttock", "side": "right"})
    page = c.get(f"/patients/{pid}/encounters/new").text
    lid = re.search(r'data-lesion="(\d+)"', page).group(1)
    return c, csrf, pid, lid


def _marks(html: str) -> dict:
    raw = re.search(r'name="note_marks" value="([^"]*)"', html).group(1)
    return json.loads(raw.replace("&#34;", '"').replace("&quot;", '"').replace("&amp;", "&")
                      .replace("&#39;", "'").replace("&lt;", "<").replace("&gt;", ">"))


def _read(c, csrf, pid, lid, **fields):
    return c.post(f"/patients/{pid}/encounters/note",
                  data={"csrf_token": csrf, "occurred_on": YESTERDAY, "lesions": lid,
                        "pasted_note": NOTE, **fields})


def _form_fields(html: str) -> dict[str, str]:
    """The values a browser would send for the findings, the marks and the note."""
    out = {}
    for tag in re.findall(r"<input[^>]*>", html):
        found = re.search(r'name="([^"]+)"[^>]*value="([^"]*)"', tag)
        if not found or not found.group(1).startswith(("patient.", "lesion-")):
            continue
        if 'type="radio"' in tag and not re.search(r"\schecked\b", tag):
            continue  # a row of toggles sends its checked radio only
        out[found.group(1)] = found.group(2)
    for name, body in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', html, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected', body)
        if chosen and name.startswith(("patient.", "lesion-")):
            out[name] = chosen.group(1)
    return out


def test_reading_the_note_fills_fields_marked_with_their_phrase(visit):
    c, csrf, pid, lid = visit
    answer = _read(c, csrf, pid, lid)
    assert answer.status_code == 200, answer.text[:2000]
    html = answer.text
    assert "read from the note: confirm or change each one" in html
    fields = _form_fields(html)
    assert fields["patient.age_years"] == "62" and fields["patient.fever"] == "true"
    assert fields[f"lesion-{lid}.size_cm"] == "10"
    # each is marked, the phrase is the control's description, a Confirm box beside it
    assert re.search(r'id="patient-fever"[^>]*aria-describedby="patient-fever-note-phrase"', html)
    assert re.search(r'id="patient-fever-note-phrase"[^>]*>Read from the note: “Chills”', html)
    assert f'name="confirmed" value="lesion-{lid}.size_cm"' in html
    assert "described as huge: taken as 10 cm" in html
    # the lesion's region and side on record agree with the note: not suggested again
    assert f"lesion-{lid}.location" not in _marks(html)
    assert 'value="62M, huge swelling' not in html and "62M, huge swelling" in html  # textarea


def test_an_unconfirmed_value_is_never_saved(visit, store):
    c, csrf, pid, lid = visit
    html = _read(c, csrf, pid, lid).text
    data = {"csrf_token": csrf, "occurred_on": YESTERDAY, "lesions": lid,
            "note_marks": re.search(r'name="note_marks" value="([^"]*)"', html).group(1)
            .replace("&#34;", '"').replace("&quot;", '"'), **_form_fields(html)}
    refused = c.post(f"/patients/{pid}/encounters", data=data)
    assert refused.status_code == 422
    assert "was read from the note and is not confirmed yet" in refused.text
    assert re.search(r'data-error-field="patient\.age_years"', refused.text)
    assert "Read from the note" in refused.text  # the marks stay on the form
    assert 'name="note_marks"' in refused.text
    # a suggestion the clinician changed counts as theirs, and says so
    changed = c.post(f"/patients/{pid}/encounters", data={**data, "patient.age_years": "50"})
    assert changed.status_code == 422  # the other suggestions are still unconfirmed
    assert re.search(r'id="patient-age_years-note-phrase"', changed.text)
    age_field = changed.text.split('id="patient-age_years"')[1].split("</div>\n  </div>")[0]
    assert "Changed by you" in age_field


def _save(c, pid, data):
    answer = c.post(f"/patients/{pid}/encounters", data=data, follow_redirects=False)
    assert answer.status_code == 303, answer.text[:3000]
    return c.get(answer.headers["location"]).text


def test_confirmed_or_changed_values_count(visit):
    c, csrf, pid, lid = visit
    html = _read(c, csrf, pid, lid).text
    marks = re.search(r'name="note_marks" value="([^"]*)"', html).group(1).replace("&#34;", '"')
    base = {"csrf_token": csrf, "occurred_on": YESTERDAY, "lesions": lid, "note_marks": marks,
            **_form_fields(html)}
    # Confirm all: every value counts (the fever red flag fires)
    shown = _save(c, pid, {**base, "confirm_all": "1"})
    assert "fever" in shown.lower()
    # one changed, the rest confirmed one by one: the changed value is the one used
    names = [n for n, m in _marks(html).items() if m["kind"] == "suggested"]
    changed = {**base, "patient.age_years": "40", "confirmed": [n for n in names
                                                                if n != "patient.age_years"]}
    answer = c.post(f"/patients/{pid}/encounters", data=changed, follow_redirects=False)
    assert answer.status_code == 303, answer.text[:2000]


def test_an_entered_value_is_never_overwritten_and_the_conflict_is_shown(visit):
    c, csrf, pid, lid = visit
    html = _read(c, csrf, pid, lid, **{"patient.fever": "false",
                                       f"lesion-{lid}.size_cm": "3"}).text
    fields = _form_fields(html)
    assert fields["patient.fever"] == "false" and fields[f"lesion-{lid}.size_cm"] == "3"
    assert re.search(r"The note says <strong>yes</strong> \(“Chills”\); your entry is kept",
                     html)
    assert re.search(r"The note says <strong>10 cm</strong>", html)
    marks = _marks(html)
    assert marks["patient.fever"]["kind"] == "conflict"
    assert marks["patient.age_years"]["kind"] == "suggested"


def test_a_second_reading_replaces_unconfirmed_suggestions(visit):
    c, csrf, pid, lid = visit
    html = _read(c, csrf, pid, lid).text
    marks = re.search(r'name="note_marks" value="([^"]*)"', html).group(1).replace("&#34;", '"')
    again = c.post(f"/patients/{pid}/encounters/note", data={
        "csrf_token": csrf, "lesions": lid, "note_marks": marks, **_form_fields(html),
        "confirmed": "patient.sex", "pasted_note": "No fever. 40 year old."}).text
    fields = _form_fields(again)
    assert fields["patient.fever"] == "false"  # the old unconfirmed "yes" was replaced
    assert fields["patient.age_years"] == "40"
    assert fields["patient.sex"] == "male"  # confirmed: kept as entered
    assert not fields.get(f"lesion-{lid}.size_cm")  # unconfirmed, not in the new note: cleared


def test_bad_notes_are_answered_on_the_same_page(visit):
    c, csrf, pid, lid = visit
    empty = c.post(f"/patients/{pid}/encounters/note",
                   data={"csrf_token": csrf, "lesions": lid, "pasted_note": ""})
    assert empty.status_code == 200 and "Nothing in the note fills a field" in empty.text
    huge = c.post(f"/patients/{pid}/encounters/note",
                  data={"csrf_token": csrf, "lesions": lid, "pasted_note": "x" * 100_001})
    assert huge.status_code == 422
    assert re.search(r'data-error-field="pasted_note"', huge.text)


def test_fill_and_pending_units(kb):
    catalogue = finding_catalogue(kb)
    done = note_fill.fill({"patient.sex": "female"}, extract(NOTE), catalogue, lesion_id=7,
                          known={"location": "buttock", "laterality": "left"})
    assert done.values["patient.age_years"] == "62"
    assert done.marks["patient.sex"].kind == "conflict"
    assert done.marks["lesion-7.laterality"].kind == "conflict"  # the record says left
    assert "lesion-7.location" not in done.marks  # agrees with the record
    assert done.marks["lesion-7.size_cm"].shown == "10 cm"
    form = {**done.values, "note_marks": note_fill.write_marks(done.marks)}
    assert "patient.age_years" in note_fill.pending(form)
    assert note_fill.pending({**form, "confirm_all": "1"}) == []
    assert "patient.age_years" not in note_fill.pending({**form, "patient.age_years": "50"})
    assert note_fill.read_marks({"note_marks": "not json"}) == {}
    assert note_fill.read_marks({"note_marks": '{"x": {"kind": "evil"}}'}) == {}
    skipped = note_fill.fill({}, extract(NOTE), catalogue, lesion_id=None, known={})
    assert skipped.skipped > 0 and not any(n.startswith("lesion-") for n in skipped.values)
