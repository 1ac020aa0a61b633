"""Property-based API fuzzing: schemathesis generates requests from the OpenAPI document, valid
and invalid, and no answer may be a server error.

The app runs on a throwaway SQLite database in a temporary folder (the API tests cover
PostgreSQL); its lifespan is entered once for the module, which opens and closes the store.
Requests carry an API token of a user with every role, so the patient-record routes are
fuzzed past their login check; a patient with a lesion exists, so small ids hit real rows.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from backmice.config import Settings
from backmice.testing import TEST_PASSWORD
from backmice.web.app import create_app

FOLDER = Path(tempfile.mkdtemp(prefix="backmice-schemathesis-"))
APP = create_app(Settings.load(data_dir=FOLDER))
schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", APP)


HEADERS: dict[str, str] = {}


@pytest.fixture(scope="module", autouse=True)
def running_app():
    with TestClient(APP):  # runs the lifespan: the store opens here and closes after
        store = APP.state.store
        user = store.accounts.create_user(username="fuzz", password=TEST_PASSWORD,
                                          roles=["clinician", "reviewer", "admin"])
        secret, _ = store.accounts.create_token(user_id=user.id, name="schemathesis")
        HEADERS["Authorization"] = f"Bearer {secret}"
        patient = store.patients.create(user.actor(), {"display_name": "Fuzz Test"})
        store.patients.add_lesion(user.actor(), patient.id, {"label": "A"})
        yield
    shutil.rmtree(FOLDER, ignore_errors=True)


@schema.parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors(case):
    case.call_and_validate(headers=HEADERS, checks=[not_a_server_error])
