"""Property-based API fuzzing: schemathesis generates requests from the OpenAPI document, valid
and invalid, and runs every check it has (no server error, status codes, content types, headers
and bodies as documented, valid data accepted, invalid data refused, ...), as an anonymous
caller, a clinician and an admin.

The app runs on a throwaway SQLite database in a temporary folder (the property test over
every JSON route, test_json_property.py, covers PostgreSQL too); its lifespan is entered once
for the module. A patient with a lesion and a procedure exists, so small ids hit real rows; the
rate limit on anonymous writes is off here (it has its own test), so every example reaches the
route. Generated text holds no NUL: the schema says so (a pattern on every string), but
schemathesis's generator does not always follow it; the NUL refusal has its own tests.

No check is left out. A request the schema allows is never answered 422: a refusal that
depends on what is stored (a visit naming a lesion of another patient, a complication dated
before its procedure, a PATCH with a stale version, a user name in use, the last admin) is 409
(or 404 for a missing row), documented with the error shape, which ``positive_data_acceptance``
expects. The interview step's cross-field rule (a finding is answered or "don't know", not
both) is in its schema: a ``not`` over one alternative per finding. The patient document's
reader takes exactly what its schema states (each finding in its one place), so
``negative_data_rejection`` runs on /assess and /assessments too.

JSON Schema cannot say one rule the server keeps: the items of a list are unique by one key
(``uniqueItems`` compares whole items), here the lump ids of a patient document and the lesions
of a visit. A generated request that repeats such a key is checked for exactly that answer
instead of ``positive_data_acceptance``: 422 naming the repeated item's field (or an answer
that comes first: 401, 403, 404 or 409), with every other check still run
(``test_the_rule_no_schema_states_is_kept`` shows the rule is met).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import positive_data_acceptance

from backmice.config import Settings
from backmice.testing import TEST_PASSWORD
from backmice.web.app import create_app

FOLDER = Path(tempfile.mkdtemp(prefix="backmice-schemathesis-"))
APP = create_app(Settings.load(data_dir=FOLDER,
                               environ={"BACKMICE_ANONYMOUS_WRITES_PER_MINUTE": "0"}))
schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", APP)
schema.config.generation.update(allow_x00=False)

HEADERS: dict[str, dict[str, str]] = {"anonymous": {}}
# operation -> (the key its lumps must not repeat, whether an empty value counts)
UNIQUE_IN_LUMPS = {
    ("POST", "/api/v1/assess"): ("id", False),  # a lump without an id gets its own
    ("POST", "/api/v1/assessments"): ("id", False),
    ("POST", "/api/v1/patients/{patient_id}/encounters"): ("lesion_id", True),
}


def repeated_field(operation: tuple[str, str], body: object) -> str | None:
    """The field of the first lump that repeats the key ``UNIQUE_IN_LUMPS`` names for this
    operation (``lumps.<i>.<key>``), or None."""
    if operation not in UNIQUE_IN_LUMPS or not isinstance(body, dict):
        return None
    key, empty_counts = UNIQUE_IN_LUMPS[operation]
    lumps = body.get("lumps")
    seen: list[object] = []
    for i, lump in enumerate(lumps if isinstance(lumps, list) else ()):
        value = lump.get(key) if isinstance(lump, dict) else None
        if value is None or (not value and not empty_counts):
            continue
        if value in seen:
            return f"lumps.{i}.{key}"
        seen.append(value)
    return None


@pytest.fixture(scope="module", autouse=True)
def running_app():
    with TestClient(APP) as client:  # runs the lifespan: the store opens here, closes after
        store = APP.state.store
        for role in ("clinician", "admin"):
            user = store.accounts.create_user(username=f"fuzz-{role}", password=TEST_PASSWORD,
                                              roles=[role])
            secret, _ = store.accounts.create_token(user_id=user.id, name="schemathesis")
            HEADERS[role] = {"Authorization": f"Bearer {secret}"}
            if role == "clinician":
                patient = store.patients.create(user.actor(), {"display_name": "Fuzz Test"})
                lesion = store.patients.add_lesion(user.actor(), patient.id, {"label": "A"})
                store.visits.add_procedure(user.actor(), patient.id, {
                    "kind": "excision", "lesion_id": lesion.id, "performed_on": "2024-01-01"})
        yield client
    shutil.rmtree(FOLDER, ignore_errors=True)


@schema.parametrize()
@pytest.mark.parametrize("who", ["anonymous", "clinician", "admin"])
@settings(max_examples=15, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_the_api_answers_as_documented(case, who):
    operation = (case.method.upper(), case.path)
    repeated = repeated_field(operation, case.body) if case.meta and \
        case.meta.generation.mode.is_positive else None
    if repeated is None:
        case.call_and_validate(headers=HEADERS[who])
        return
    answer = case.call_and_validate(headers=HEADERS[who],
                                    excluded_checks=[positive_data_acceptance])
    assert answer.status_code in (401, 403, 404, 409, 422), answer.text
    if answer.status_code == 422:
        assert answer.json()["error"]["field"] == repeated, answer.text


def test_the_rule_no_schema_states_is_kept(tmp_path):
    """The one rule left out of the schema, as the server keeps it: a repeated lump id or
    visit lesion is refused 422 naming it, and nothing is stored. On an app of its own: the
    fuzzing may have changed the users made above."""
    app = create_app(Settings.load(data_dir=tmp_path, environ={
        "BACKMICE_ANONYMOUS_WRITES_PER_MINUTE": "0"}))
    with TestClient(app) as client:
        _repeats_are_refused(client, app.state.store)


def _repeats_are_refused(client: TestClient, store) -> None:
    lump = {"id": "a", "findings": {"size_cm": 2}}
    for path in ("/api/v1/assess", "/api/v1/assessments"):
        body = {"lumps": [lump, {"findings": {}}, lump]}
        assert repeated_field(("POST", path), body) == "lumps.2.id"
        answer = client.post(path, json=body)
        assert answer.status_code == 422
        assert answer.json()["error"]["field"] == "lumps.2.id"
    user = store.accounts.create_user(username="repeats", password=TEST_PASSWORD,
                                      roles=["clinician"])
    secret, _ = store.accounts.create_token(user_id=user.id, name="repeats")
    headers = {"Authorization": f"Bearer {secret}"}
    patient = store.patients.create(user.actor(), {"display_name": "Repeat Test"})
    lesion = store.patients.add_lesion(user.actor(), patient.id, {"label": "B"})
    visit = {"occurred_on": "2024-02-01",
             "lumps": [{"lesion_id": lesion.id}, {"lesion_id": lesion.id}]}
    operation = ("POST", "/api/v1/patients/{patient_id}/encounters")
    assert repeated_field(operation, visit) == "lumps.1.lesion_id"
    answer = client.post(f"/api/v1/patients/{patient.id}/encounters", json=visit,
                         headers=headers)
    assert answer.status_code == 422
    assert answer.json()["error"]["field"] == "lumps.1.lesion_id"
    timeline = client.get(f"/api/v1/patients/{patient.id}/timeline", headers=headers)
    assert timeline.json()["encounters_total"] == 0
