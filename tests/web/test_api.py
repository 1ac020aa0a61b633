"""The JSON API: the same answers as the CLI, one error body, limits, and every endpoint's happy
and unhappy paths. Runs against each database backend (the ``client`` fixture)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from backmice.cli import app as cli_app

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.json"))


def assert_error(response, status: int, field: str | None = None) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    err = body["error"]
    assert set(err) == {"status", "code", "field", "message", "allowed"}
    assert err["status"] == status
    assert "Traceback" not in response.text
    if field is not None:
        assert err["field"] == field
    return err


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_assess_answers_the_cli_document(client, example):
    cli = CliRunner().invoke(cli_app, ["assess", str(example), "--format", "json"])
    assert cli.exit_code == 0, cli.output
    response = client.post("/api/v1/assess", content=example.read_bytes(),
                           headers={"content-type": "application/json"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == json.loads(cli.output)


def test_assess_markdown_note(client):
    body = (ROOT / "examples" / "red_flag_lump.json").read_bytes()
    response = client.post("/api/v1/assess?format=markdown", content=body)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/markdown")
    assert response.text.startswith("## Back lump assessment (backmice)")
    assert "Red flags" in response.text
    assert "(rule: Size ≥ 5 cm; " in response.text and "Size: 7 cm" in response.text
    assert "size cm" not in response.text and "size_cm" not in response.text


def test_assess_setting_changes_the_priors(client):
    body = (ROOT / "examples" / "back_mouse.json").read_bytes()
    primary = client.post("/api/v1/assess", content=body).json()
    spine = client.post("/api/v1/assess?setting=spine_pain_clinic", content=body).json()
    assert spine["setting"] == "spine_pain_clinic"
    assert primary["lumps"][0]["outcomes"] != spine["lumps"][0]["outcomes"]


@pytest.mark.parametrize(("body", "field", "allowed_part"), [
    (b'{"findings": {"size_cm": "big"}}', "findings.size_cm", "number from 0 to 100"),
    (b'{"findings": {"depth": "very"}}', "findings.depth", "deep_to_fascia"),
    (b'{"findings": {"nonsense": true}}', "findings.nonsense", None),
    (b'{"lumps": []}', "lumps", None),
    (b'{"lumps": [{"findings": {"tender": "maybe"}}]}', "lumps.0.findings.tender",
     "true, false"),
    # each finding in its one place, as the schema says: the error says where it belongs
    (b'{"lumps": [{"findings": {"fever": true}}]}', "lumps.0.findings.fever", "patient.fever"),
    (b'{"patient": {"size_cm": 2}, "lumps": [{}]}', "patient.size_cm",
     "lumps.<i>.findings.size_cm"),
    (b'{"lumps": [{"findings": {"anesthetic_injection_relief": true}}]}',
     "lumps.0.findings.anesthetic_injection_relief",
     "lumps.0.later_tests.anesthetic_injection_relief"),
    (b'{"setting": "nowhere", "lumps": [{}]}', "setting", "primary_care"),
    (b'{"findings": {}, "later_tests": {"injection_pain_before": 11}}',
     "later_tests.injection_pain_before", "0 to 10"),
    (b"{broken", None, None),
    (b"", None, None),
    (b"[1, 2]", "(input)", None),
    (b"\xff\xfe", "(body)", "UTF-8"),
])
def test_assess_bad_input_names_the_field(client, body, field, allowed_part):
    err = assert_error(client.post("/api/v1/assess", content=body), 422, field)
    assert err["code"] == "invalid_input"
    if allowed_part:
        assert allowed_part in (err["allowed"] or "")


def test_ignored_keys_and_per_lump_notes_reach_the_answer(client):
    """A mistyped top-level key is not refused (case-format.md) but is named in the notes."""
    body = {"id": "x", "findings": {"location": "buttock", "size_cm": 3},
            "later_test": {"histopathology": "myxoid liposarcoma"}}
    notes = client.post("/api/v1/assess", json=body).json()["notes"]
    assert any("'later_test' (did you mean 'later_tests'?)" in n for n in notes)
    two = {"lumps": [
        {"id": "a", "findings": {"location": "buttock"},
         "later_tests": {"injection_pain_before": 8, "injection_pain_after": 1}},
        {"id": "b", "later_tests": {"injection_pain_before": 8}}]}
    notes = client.post("/api/v1/assess", json=two).json()["notes"]
    assert any(n.startswith("Lump a (buttock): anaesthetic test pain 8 → 1") for n in notes)
    assert any(n.startswith("Lump b: anaesthetic test not used") for n in notes)


def test_duplicate_lump_ids_are_a_422_naming_the_lump(client):
    body = {"lumps": [{"id": "a"}, {"id": "a"}]}
    err = assert_error(client.post("/api/v1/assess", json=body), 422, "lumps.1.id")
    assert "unique" in err["message"]


def test_unknown_setting_is_a_422(client):
    body = (ROOT / "examples" / "back_mouse.json").read_bytes()
    err = assert_error(client.post("/api/v1/assess?setting=moon", content=body), 422, "setting")
    assert "primary_care" in err["allowed"]


@pytest.mark.parametrize(("query", "field", "message", "allowed"), [
    ("format=xml", "format", "Input should be 'json' or 'markdown'", "'json' or 'markdown'"),
    ("format=", "format", "Input should be 'json' or 'markdown'", "'json' or 'markdown'"),
    ("setting=" + "x" * 51, "setting", "String should have at most 50 characters",
     "length at most 50"),
    ("format=pdf&setting=" + "x" * 51, "format", "Input should be 'json' or 'markdown'",
     "'json' or 'markdown'"),
])
def test_bad_query_options_are_named_like_fastapi_parameters(client, query, field, message,
                                                              allowed):
    body = (ROOT / "examples" / "back_mouse.json").read_bytes()
    err = assert_error(client.post(f"/api/v1/assess?{query}", content=body), 422, field)
    assert (err["code"], err["message"], err["allowed"]) == ("invalid_input", message, allowed)


def test_query_options_last_value_wins_and_unknown_names_are_ignored(client):
    body = (ROOT / "examples" / "back_mouse.json").read_bytes()
    response = client.post("/api/v1/assess?format=json&format=markdown&colour=blue",
                           content=body)
    assert response.headers["content-type"].startswith("text/markdown")
    plain = client.post("/api/v1/assess", content=body)
    assert client.post("/api/v1/assess?setting=", content=body).content == plain.content


def test_body_over_the_limit_is_413_even_without_content_length(client):
    big = b'{"findings": {}, "id": "' + b"x" * 1_100_000 + b'"}'
    assert_error(client.post("/api/v1/assess", content=big), 413, "(body)")

    def chunks():  # streamed: no Content-Length header
        for _ in range(40):
            yield b"x" * 50_000

    assert_error(client.post("/api/v1/assess", content=chunks()), 413)


def test_not_found_and_wrong_method_use_the_error_body(client):
    assert assert_error(client.get("/api/v1/nothing-here"), 404)["code"] == "not_found"
    assert_error(client.get("/api/v1/assess"), 405)
    assert_error(client.get("/api/v1/kb/conditions/not_a_condition"), 404)


def test_interview_step_asks_red_flags_first_and_finishes(client, kb):
    answers: dict = {}
    seen_red = []
    for _ in range(45):
        response = client.post("/api/v1/interview/step", json={"answers": answers})
        assert response.status_code == 200, response.text
        step = response.json()
        assert step["assessment"]["format"] == "backmice.assessment"
        if step["done"]:
            break
        q = step["question"]
        seen_red.append(q["red_flag"])
        # a reassuring patient: "no" to every yes/no question, the first option otherwise
        if q["kind"] == "boolean":
            answers[q["finding"]] = False
        elif q["options"]:
            answers[q["finding"]] = q["options"][0]["value"]
        else:
            answers[q["finding"]] = q["minimum"] + 1
    assert step["done"] and step["progress"] == 1.0
    assert True in seen_red
    first_ordinary = seen_red.index(False) if False in seen_red else len(seen_red)
    assert all(seen_red[:first_ordinary]) and not any(seen_red[first_ordinary:])
    assert step["possibilities"]
    assert step["triage"]["level"] in ("routine", "self_care", "urgent_2_weeks")


def test_interview_dont_know_moves_on(client):
    first = client.post("/api/v1/interview/step", json={}).json()["question"]["finding"]
    second = client.post("/api/v1/interview/step", json={"dont_know": [first]}).json()
    assert second["question"]["finding"] != first
    assert second["asked"] == 1


def test_interview_red_flag_answer_raises_urgency(client):
    step = client.post("/api/v1/interview/step",
                       json={"answers": {"bladder_or_bowel_dysfunction": True}}).json()
    assert step["triage"]["level"] == "emergency"
    assert not step["done"]  # the patient may carry on, but is told now:
    alert = step["alert"]
    assert alert["level"] == "emergency" and alert["urgent"] is True
    assert "emergency" in alert["advice"].lower()
    (sign,) = alert["signs"]
    assert sign["id"] == "cauda_equina" and "cauda equina" in sign["meaning"]
    assert sign["read_more"] == [{"id": "cauda_equina_syndrome",
                                  "name": sign["read_more"][0]["name"]}]
    assert step["patient_advice"]["level"] == "emergency"


def test_interview_has_no_alert_without_a_red_flag(client):
    step = client.post("/api/v1/interview/step", json={"answers": {"pain": True}}).json()
    assert step["alert"] is None and step["not_ruled_out"] == []


def test_interview_step_notes_an_emergency_sign_left_open_by_dont_know(client):
    step = client.post("/api/v1/interview/step",
                       json={"dont_know": ["bladder_or_bowel_dysfunction"]}).json()
    assert step["alert"]["heading"] == "Talk to a doctor soon, within a few days"
    assert [s["id"] for s in step["alert"]["open_signs"]] == ["cauda_equina"]
    assert step["patient_advice"]["level"] == "soon"


def test_interview_dont_know_is_not_a_safe_no(client):
    dont_know: list[str] = []
    for _ in range(60):
        step = client.post("/api/v1/interview/step", json={"dont_know": dont_know}).json()
        if step["done"]:
            break
        dont_know.append(step["question"]["finding"])
    triage = step["triage"]
    assert triage["provisional"] is True
    assert {"bladder_or_bowel_dysfunction", "spreading_redness"} <= set(
        triage["unknown_red_flag_questions"])
    assert "cauda_equina" in triage["red_flags_not_ruled_out"]
    assert triage["level"] == "routine"  # no rule fired...
    assert step["patient_advice"]["level"] == "soon"  # ...but the patient is not told "routine"
    assert step["patient_advice"]["raised_from"] == "routine"
    ids = [s["id"] for s in step["not_ruled_out"]]
    assert ids[0] == "cauda_equina" and "necrotising_infection_signs" in ids
    cauda = step["not_ruled_out"][0]
    assert any("bladder" in q for q in cauda["questions"])


def test_interview_finish_returns_the_result_so_far(client):
    step = client.post("/api/v1/interview/step",
                       json={"answers": {"bladder_or_bowel_dysfunction": True},
                             "finish": True}).json()
    assert step["done"] and step["question"] is None and step["progress"] == 1.0
    assert step["triage"]["level"] == "emergency"
    # stopping early is "not asked", never "don't know"
    assert "spreading_redness" in step["triage"]["unanswered_red_flag_questions"]
    assert step["triage"]["unknown_red_flag_questions"] == []
    assert "not asked (the interview was stopped early)" in step["triage"]["reason"]
    assert "don't know" not in step["triage"]["reason"]
    assert step["not_ruled_out"]


@pytest.mark.parametrize(("body", "field"), [
    ({"answers": {"fever": "sometimes"}}, "answers.fever"),
    ({"answers": {"no_such_thing": True}}, "answers.no_such_thing"),
    ({"dont_know": ["no_such_thing"]}, "dont_know"),
    ({"answers": {"fever": True}, "dont_know": ["fever"]}, "dont_know"),
    ({"setting": "moon"}, "setting"),
    ({"audience": "martian"}, "audience"),
    ({"answers": [], "extra": 1}, None),
])
def test_interview_bad_input(client, body, field):
    assert_error(client.post("/api/v1/interview/step", json=body), 422, field)


def test_kb_endpoints(client, kb):
    overview = client.get("/api/v1/kb").json()
    assert overview["version"] == kb.version
    conditions = client.get("/api/v1/kb/conditions").json()
    assert {c["id"] for c in conditions} == set(kb.conditions)
    page = client.get("/api/v1/kb/conditions/episacral_lipoma").json()
    assert page["references"] and all(r["title"] or r["description"] for r in page["references"])
    assert page["review"]["reviewed_by"]
    findings = {f["id"]: f for f in client.get("/api/v1/kb/findings").json()}
    assert set(findings) == set(kb.findings)
    assert {v["value"] for v in findings["depth"]["values"]} == {
        "subcutaneous", "deep_to_fascia", "intramuscular"}
    assert findings["size_cm"]["maximum"] == 100
    assert findings["fever"]["question"]["patient"]
    citations = client.get("/api/v1/kb/citations").json()
    assert len(citations) == len(kb.citations)


def test_feedback_round_trip_and_review(client, login_as, kb):
    reviewer = login_as("reviewer")
    made = client.post("/api/v1/feedback", json={
        "page": "episacral_lipoma", "kind": "inaccuracy", "text": "The size range looks off.",
        "contact": "reader@example.org"})
    assert made.status_code == 201, made.text
    item = made.json()
    assert item["status"] == "open" and item["kb_version"] == kb.version
    listed = reviewer.get("/api/v1/feedback?status=open").json()
    assert item["id"] in [i["id"] for i in listed["items"]]
    assert listed["total"] >= 1
    done = reviewer.patch(f"/api/v1/feedback/{item['id']}", json={"status": "resolved"})
    assert done.status_code == 200 and done.json()["resolved_at"]
    assert item["id"] not in [i["id"] for i in
                              reviewer.get("/api/v1/feedback?status=open").json()["items"]]
    assert_error(reviewer.patch("/api/v1/feedback/999999999", json={"status": "resolved"}), 404)


@pytest.mark.parametrize(("body", "field"), [
    ({"page": "lipoma", "kind": "helpful"}, "helpful"),
    ({"page": "lipoma", "kind": "inaccuracy"}, "text"),
    ({"page": "lipoma", "kind": "praise", "helpful": True}, "kind"),
    ({"page": "", "kind": "helpful", "helpful": True}, "page"),
    ({"page": "lipoma", "kind": "inaccuracy", "text": "y" * 5001}, "text"),
    ({"page": "nope", "kind": "helpful", "helpful": True}, "page"),
    ({"page": "/about", "kind": "inaccuracy", "text": "no form on this page"}, "page"),
])
def test_feedback_bad_input_saves_nothing(client, login_as, body, field):
    reviewer = login_as("reviewer")
    before = reviewer.get("/api/v1/feedback?status=open").json()["total"]
    assert_error(client.post("/api/v1/feedback", json=body), 422, field)
    assert reviewer.get("/api/v1/feedback?status=open").json()["total"] == before


def test_feedback_names_the_pages_that_take_it(client, kb):
    err = assert_error(client.post("/api/v1/feedback", json={
        "page": "nope", "kind": "helpful", "helpful": True}), 422, "page")
    assert "nope" in err["message"]
    assert all(cid in err["allowed"] for cid in kb.conditions)
    # the HTML form refuses the same page, so both doors agree
    assert client.post("/conditions/nope/feedback",
                       data={"kind": "helpful", "helpful": "yes"}).status_code == 404


def test_reviewer_endpoints_need_the_reviewer_role(remote_client, login_as):
    err = assert_error(remote_client.get("/api/v1/feedback"), 401)
    assert "log in" in err["message"]
    err = assert_error(login_as("clinician").get("/api/v1/feedback"), 403)
    assert "reviewer" in err["message"]
    made = remote_client.post("/api/v1/feedback", json={
        "page": "lipoma", "kind": "helpful", "helpful": True})
    assert made.status_code == 201  # anyone may leave feedback


def test_saved_assessment_round_trip(client):
    body = (ROOT / "examples" / "many_lumps.json").read_bytes()
    made = client.post("/api/v1/assessments?title=Follow-up", content=body)
    assert made.status_code == 201, made.text
    saved = made.json()
    assert saved["url"].endswith(f"/a/{saved['share_id']}")
    assert saved["input"] == json.loads(body)
    again = client.get(f"/api/v1/assessments/{saved['share_id']}").json()
    assert again == saved
    assert again["assessment"] == client.post("/api/v1/assess", content=body).json()
    page = client.get(f"/a/{saved['share_id']}")
    assert page.status_code == 200 and "Follow-up" in page.text
    assert_error(client.get("/api/v1/assessments/not-a-real-id"), 404)


def test_saving_bad_input_saves_nothing(client):
    assert_error(client.post("/api/v1/assessments", content=b'{"findings": {"fever": 3}}'), 422,
                 "findings.fever")


def test_openapi_documents_every_api_route(client):
    spec = client.get("/api/v1/openapi.json").json()
    paths = set(spec["paths"])
    for path in ("/api/v1/assess", "/api/v1/interview/step", "/api/v1/kb",
                 "/api/v1/kb/conditions", "/api/v1/kb/findings", "/api/v1/kb/citations",
                 "/api/v1/feedback", "/api/v1/assessments", "/api/v1/assessments/{share_id}"):
        assert path in paths
    body = spec["paths"]["/api/v1/assess"]["post"]["requestBody"]["content"]
    assert "oneOf" in body["application/json"]["schema"]
    query = {p["name"]: p for p in spec["paths"]["/api/v1/assess"]["post"]["parameters"]}
    assert query["format"]["in"] == "query" and not query["format"]["required"]
    assert query["format"]["schema"]["enum"] == ["json", "markdown"]
    assert query["setting"]["schema"]["enum"] == [
        "primary_care", "spine_pain_clinic", "dermatology_surgery", None]


def test_openapi_says_what_the_server_accepts(client):
    """The reproducers of issue 12: malformed JSON answers the documented 422 shape; 404 and
    text/csv are documented; setting is an enum; dates, versions and nulls are bounded."""
    spec = client.get("/api/v1/openapi.json").json()
    schemas = spec["components"]["schemas"]
    assert "HTTPValidationError" not in schemas
    error = {"$ref": "#/components/schemas/ErrorOut"}
    for item in spec["paths"].values():
        for operation in item.values():
            for status in ("404", "422"):
                assert operation["responses"][status]["content"]["application/json"][
                    "schema"] == error
    export = spec["paths"]["/api/v1/patients/{patient_id}/export"]["get"]["responses"]["200"]
    assert "text/csv" in export["content"]
    answer = client.post("/api/v1/feedback", content=b'{"page": ',
                         headers={"content-type": "application/json"})
    assert answer.status_code == 422 and answer.json()["error"]["field"] == "(body)"
    assert schemas["EncounterIn"]["properties"]["setting"]["enum"][0] == "primary_care"
    birth = schemas["PatientIn"]["properties"]["birth_date"]["anyOf"][0]
    assert birth["format"] == "date" and birth["pattern"].startswith("^(?:(?:1900|")
    assert schemas["PatientPatch"]["properties"]["version"]["maximum"] == 2**31 - 1
    status = schemas["LesionPatch"]["properties"]["status"]
    assert "anyOf" not in status and None not in status["enum"]


def test_health(client):
    assert client.get("/api/v1/health").json() == {"status": "ok", "database": "ok"}


def test_the_schema_and_storage_agree_on_blank_text():
    """Required text: the OpenAPI pattern and storage read blank the same way, whichever
    regex engine reads the pattern (Python counts \\x1c-\\x1f and \\x85 as white space)."""
    import re

    from backmice.storage.validate import is_blank
    from backmice.web.openapi import NON_BLANK

    for text in (" ", "\t\n", "\x1c", "\x1f", "\x85", "\xa0", "\u2028", "\u3000", "a", " a "):
        assert bool(re.fullmatch(NON_BLANK, text)) == (not is_blank(text)), repr(text)
