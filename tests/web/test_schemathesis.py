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

``positive_data_acceptance`` is left out for the few operations whose valid input also depends
on what is stored, which no schema can say: a visit names lesions of this patient, a
complication is dated on or after its procedure, a PATCH sends the version it read, a new user
name must be free; and for the interview step, whose one cross-field rule (a finding is answered
or "don't know", not both) JSON Schema can state only with one rule per finding, which the
generator cannot handle. ``negative_data_rejection`` is left out for the two routes reading a
patient document, whose schema is stricter than the reader: it states patient-level findings
in ``patient`` and each lump's own in the lump (a form that cannot contradict itself), while
the reader also takes a lump-level value given once for the whole patient.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import negative_data_rejection, positive_data_acceptance

from backmice.config import Settings
from backmice.testing import TEST_PASSWORD
from backmice.web.app import create_app

FOLDER = Path(tempfile.mkdtemp(prefix="backmice-schemathesis-"))
APP = create_app(Settings.load(data_dir=FOLDER,
                               environ={"BACKMICE_ANONYMOUS_WRITES_PER_MINUTE": "0"}))
schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", APP)
schema.config.generation.update(allow_x00=False)

HEADERS: dict[str, dict[str, str]] = {"anonymous": {}}
STATEFUL = {
    ("POST", "/api/v1/patients/{patient_id}/encounters"),
    ("POST", "/api/v1/procedures/{procedure_id}/complications"),
    ("PATCH", "/api/v1/patients/{patient_id}"), ("PATCH", "/api/v1/lesions/{lesion_id}"),
    ("PATCH", "/api/v1/procedures/{procedure_id}"),
    ("POST", "/api/v1/users"), ("PATCH", "/api/v1/users/{user_id}"),
    ("POST", "/api/v1/patients/{patient_id}/procedures"),
    ("POST", "/api/v1/patients/{patient_id}/outcomes"),
    ("POST", "/api/v1/interview/step"),
    # records: a correction or deletion sends the version it read, a review names an alert
    # of this patient, a password change the current password.
    ("PATCH", "/api/v1/encounters/{encounter_id}"), ("PATCH", "/api/v1/outcomes/{outcome_id}"),
    ("POST", "/api/v1/encounters/{encounter_id}/delete"),
    ("POST", "/api/v1/procedures/{procedure_id}/delete"),
    ("POST", "/api/v1/outcomes/{outcome_id}/delete"),
    ("POST", "/api/v1/patients/{patient_id}/alerts/review"),
    ("POST", "/api/v1/referrals/{referral_id}/done"), ("POST", "/api/v1/me/password"),
    ("POST", "/api/v1/users/{user_id}/password"),
}
PATIENT_DOCUMENT = {("POST", "/api/v1/assess"), ("POST", "/api/v1/assessments")}


@pytest.fixture(scope="module", autouse=True)
def running_app():
    with TestClient(APP):  # runs the lifespan: the store opens here and closes after
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
        yield
    shutil.rmtree(FOLDER, ignore_errors=True)


@schema.parametrize()
@pytest.mark.parametrize("who", ["anonymous", "clinician", "admin"])
@settings(max_examples=15, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_the_api_answers_as_documented(case, who):
    operation = (case.method.upper(), case.path)
    excluded = [check for check, where in ((positive_data_acceptance, STATEFUL),
                                           (negative_data_rejection, PATIENT_DOCUMENT))
                if operation in where]
    case.call_and_validate(headers=HEADERS[who], excluded_checks=excluded)
