"""The edge: every JSON body parsed once under one set of rules; a lone surrogate, NaN,
Infinity, NUL, an out-of-range integer or deep nesting is answered 422 naming the field, on
every JSON route, and nothing is stored (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from backmice.storage.tables import Base

BAD_BODIES = [
    (b'{"id":"\\ud800","findings":{"size_cm":1}}', "id", "unpaired surrogate"),
    (b'{"findings":{"size_cm":1},"zzz":NaN}', "zzz", "NaN"),
    (b'{"findings":{"size_cm":Infinity}}', "findings.size_cm", "Infinity"),
    (b'{"findings":{"size_cm":1e999}}', "findings.size_cm", "finite"),
    (b'{"findings":{"size_cm":1},"note":"a\\u0000b"}', "note", "NUL"),
    (b'{"findings":{"size_cm":1},"v":' + b"9" * 400 + b"}", "v", "out of range"),
    (b'{"findings":{"size_cm":1},"deep":' + b"[" * 1000 + b"]" * 1000 + b"}", None, "nested"),
    (b'{"findings": {', "(body)", "not valid JSON"),
    (b"\xff\xfe{}", "(body)", "UTF-8"),
]
JSON_ROUTES = ["/api/v1/assessments", "/api/v1/assess", "/clinician/result",
               "/api/v1/feedback", "/api/v1/interview/step"]


def _rows(store) -> int:
    with store.engine.connect() as c:
        return sum(c.scalar(select(func.count()).select_from(t)) or 0
                   for t in Base.metadata.sorted_tables)


@pytest.mark.parametrize("route", JSON_ROUTES)
@pytest.mark.parametrize(("body", "field", "words"), BAD_BODIES)
def test_bad_json_is_refused_at_the_edge(client, store, route, body, field, words):
    answer = client.post(route, content=body, headers={"content-type": "application/json"})
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["code"] == "invalid_input" and words in error["message"]
    if field is not None:
        assert error["field"] == field
    else:
        assert error["field"].startswith("deep") or error["field"] == "(body)"
    assert "I-JSON" in error["allowed"] or "UTF-8" in error["allowed"]
    assert _rows(store) == 0


def test_the_records_api_refuses_the_same(bearer, store):
    api = bearer("clinician")
    made = api.post("/api/v1/patients", json={"display_name": "A"}).json()
    for body in (b'{"version":1,"notes":"\\ud800"}', b'{"version":1,"notes":"\\u0000"}',
                 b'{"version":' + b"9" * 400 + b',"notes":"x"}'):
        answer = api.patch(f"/api/v1/patients/{made['id']}", content=body,
                           headers={"content-type": "application/json"})
        assert answer.status_code == 422, answer.text
    assert api.get(f"/api/v1/patients/{made['id']}").json()["version"] == 1


@pytest.mark.parametrize("url", ["/api/v1/interview/step?setting=%00",
                                 "/api/v1/kb/conditions/a%00b", "/conditions?q=%00"])
def test_nul_in_the_url_is_refused(client, url):
    answer = client.get(url)
    assert answer.status_code == 422
    assert "NUL" in answer.json()["error"]["message"]


def test_nul_in_a_form_is_refused(client):
    answer = client.post("/interview", data={"state": "{}", "answer": "a\x00b"})
    assert answer.status_code == 422
    assert answer.json()["error"]["field"] == "answer"


def test_deeply_nested_interview_state_is_a_clean_answer(client):
    answer = client.post("/interview", data={"state": "[" * 1000 + "]" * 1000})
    assert answer.status_code == 422  # the interview page, saying the answers were damaged
    assert "Traceback" not in answer.text


def test_a_field_path_is_one_readable_line(client):
    """A key with a line break, a dot or nothing in it is quoted in the field path."""
    for body, field in ((b'{"\\n":9007199254740992}', '"\\n"'), (b'{"":NaN}', '""'),
                        (b'{"a.b":{"c":Infinity}}', '"a.b".c')):
        answer = client.post("/api/v1/assess", content=body,
                             headers={"content-type": "application/json"})
        assert answer.status_code == 422 and answer.json()["error"]["field"] == field
