"""JSON routes read JSON only: a body declared as another type (text/plain, a form) is answered
415 with the one error body naming the allowed type, before any route reads it; a body without a
Content-Type is still read as JSON; the app's own scripts send application/json."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from backmice.web.app import reads_json
from backmice.web.edge import is_json_type

SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "src" / "backmice" / "web" / "static"
FEEDBACK = {"page": "lipoma", "kind": "helpful", "helpful": True}


def body_routes(app):
    """(method, path) of every route of the app that takes a POST, PUT or PATCH body."""
    for route in app.routes:
        inner = getattr(route, "original_router", None)
        for r in (inner.routes if inner is not None else [route]):
            for method in sorted(getattr(r, "methods", None) or ()):
                if method in ("POST", "PUT", "PATCH"):
                    yield method, r.path


@SQLITE
@pytest.mark.parametrize("declared", ["text/plain", "text/plain; charset=utf-8",
                                      "application/x-www-form-urlencoded", "application/xml"])
def test_every_json_route_refuses_other_types_with_415(client, web_app, declared):
    routes = sorted((m, p) for m, p in body_routes(web_app) if reads_json(p))
    assert ("POST", "/api/v1/assess") in routes and ("POST", "/clinician/result") in routes
    assert ("POST", "/api/v1/feedback") in routes and len(routes) > 15
    for method, path in routes:
        url = re.sub(r"{\w+}", "1", path)
        answer = client.request(method, url, content=json.dumps(FEEDBACK),
                                headers={"content-type": declared})
        assert answer.status_code == 415, (method, path, answer.text[:200])
        assert answer.json() == {"error": {
            "status": 415, "code": "unsupported_media_type", "field": "content-type",
            "message": f"the body must be JSON, sent as application/json, not {declared}",
            "allowed": "application/json"}}


@SQLITE
def test_json_and_no_content_type_are_read(client, login_as):
    body = json.dumps(FEEDBACK)
    for headers in ({"content-type": "application/json"},
                    {"content-type": "application/json; charset=utf-8"},
                    {"content-type": "application/problem+json"}, {}):
        answer = client.post("/api/v1/feedback", content=body, headers=headers)
        assert answer.status_code == 201, (headers, answer.text)
    case = (ROOT / "examples" / "back_mouse.json").read_bytes()
    assert client.post("/api/v1/assess", content=case).status_code == 200  # no Content-Type
    step = client.post("/api/v1/interview/step", content=b'{"answers": {}}')
    assert step.status_code == 200
    me = login_as("clinician")
    made = me.post("/api/v1/patients", content=b'{"display_name": "No Type"}')
    assert made.status_code == 201, made.text


@SQLITE
def test_html_forms_are_not_json_routes(client):
    answer = client.post("/conditions/lipoma/feedback", data={"kind": "helpful",
                                                             "helpful": "yes"},
                         follow_redirects=False)
    assert answer.status_code == 303


def test_is_json_type():
    assert is_json_type("application/json") and is_json_type("Application/JSON; charset=utf-8")
    assert is_json_type("application/merge-patch+json")
    assert not is_json_type("text/plain") and not is_json_type("text/json+plain")
    assert not is_json_type("application/x-www-form-urlencoded")


def test_our_own_clients_send_json():
    """The pages' scripts and the load benchmarks post with Content-Type: application/json."""
    for script in STATIC.glob("*.js"):
        text = script.read_text()
        for call in re.finditer(r"fetch\(", text):
            options = text[call.end():call.end() + 300]
            options = options[:options.find("})") + 1] if "})" in options else options
            if re.search(r'method:\s*"(POST|PUT|PATCH)"', options):
                assert '"Content-Type": "application/json"' in options, (script.name, options)
    assert '["Content-Type"] = "application/json"' in (ROOT / "bench" / "web_load.py").read_text()
    assert 'b"content-type", b"application/json"' in (ROOT / "bench" / "web_path.py").read_text()
