"""CDS Hooks 2.0: discovery, the token refusal matrix (each refusal 401, its reason in the log
and never in the answer), cards by kind, no card when there is nothing to say, prefetch
fetched from the FHIR server or 412, and feedback counted per card kind. What touches storage
(a replayed token, feedback) runs on SQLite and PostgreSQL, the rest on SQLite."""

from __future__ import annotations

import base64
import http.server
import json
import logging
import threading
import time
import urllib.parse
import uuid

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet, OctKey, RSAKey
from tests.web.conftest import log_in

from backmice.interop.fhir.vocabulary import UCUM, finding_concept, value_concept
from backmice.testing import TEST_PASSWORD

ISSUER = "https://ehr.example.org"
SERVICE = "backmice-patient-view"
AUDIENCE = f"http://testserver/cds-services/{SERVICE}"
ALGS = ["ES384", "RS384", "HS256", "ES256"]
EC_KEY = ECKey.generate_key("P-384", parameters={"kid": "ehr-1"}, private=True)
RSA_KEY = RSAKey.generate_key(2048, parameters={"kid": "ehr-2"}, private=True)
PUBLIC = KeySet([EC_KEY, RSA_KEY]).as_dict(private=False)


# Only storage-bound behaviour (replay, feedback) runs on both databases; the rest on SQLite.
SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def token(key=EC_KEY, alg="ES384", **change):
    now = int(time.time())
    claims = {"iss": ISSUER, "sub": "client-1", "aud": AUDIENCE, "iat": now, "exp": now + 240,
              "jti": str(uuid.uuid4()), **change}
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode({"alg": alg, "kid": key.kid or "x", "typ": "JWT"}, claims, key,
                      algorithms=ALGS)


def obs(finding, **value):
    return {"resourceType": "Observation", "status": "final", "code": finding_concept(finding),
            **value}


def call_body(*observations, prefetch=True, patient_id="p1", hook="patient-view", note=None):
    body = {"hook": hook, "hookInstance": str(uuid.uuid4()),
            "context": {"userId": "Practitioner/1", "patientId": patient_id}}
    if prefetch:
        entries = [{"resource": o} for o in observations]
        notes = []
        if note:
            notes = [{"resource": {"resourceType": "DocumentReference", "status": "current",
                                   "content": [{"attachment": {
                                       "contentType": "text/plain",
                                       "data": base64.b64encode(note.encode()).decode()}}]}}]
        body["prefetch"] = {
            "patient": {"resourceType": "Patient", "id": patient_id, "gender": "male",
                        "birthDate": "1970-01-01"},
            "lumps": {"resourceType": "Bundle", "type": "searchset", "entry": entries},
            "conditions": {"resourceType": "Bundle", "type": "searchset", "entry": []},
            "notes": {"resourceType": "Bundle", "type": "searchset", "entry": notes}}
    return body


@pytest.fixture
def ehr(client, web_app):
    web_app.state.store.cds.add_client(issuer=ISSUER, jwks=PUBLIC)
    return client


def post(client, body, bearer=None, service=SERVICE):
    headers = {"Authorization": f"Bearer {bearer or token()}"} if bearer != "" else {}
    return client.post(f"/cds-services/{service}", json=body, headers=headers)


@SQLITE_ONLY
def test_discovery_lists_the_services_with_their_prefetch(client):
    services = client.get("/cds-services").json()["services"]
    assert {s["hook"] for s in services} == {"patient-view", "encounter-start"}
    prefetch = services[0]["prefetch"]
    assert set(prefetch) == {"patient", "lumps", "conditions", "notes"}
    assert prefetch["patient"] == "Patient/{{context.patientId}}"


def _hmac_token():
    return token(key=OctKey.generate_key(256), alg="HS256")


def _none_token():
    head = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=").decode()
    claims = json.dumps({"iss": ISSUER, "aud": AUDIENCE, "exp": int(time.time()) + 60,
                         "iat": int(time.time()), "jti": "n"}).encode()
    return f"{head}.{base64.urlsafe_b64encode(claims).rstrip(b'=').decode()}."


REFUSALS = {
    "missing": (lambda: "", "no Authorization header"),
    "malformed": (lambda: "not-a-jwt", "not a compact JWS"),
    "none": (_none_token, "alg 'none' is refused"),
    "hmac": (_hmac_token, "alg 'HS256' is refused"),
    "weaker ec": (lambda: token(key=ECKey.generate_key("P-256", parameters={"kid": "w"},
                                                       private=True), alg="ES256"),
                  "alg 'ES256' is refused"),
    "forged": (lambda: token(key=ECKey.generate_key("P-384", parameters={"kid": "ehr-1"},
                                                    private=True)), "BadSignatureError"),
    "unknown issuer": (lambda: token(iss="https://evil.example"), "is not registered"),
    "wrong audience": (lambda: token(aud="https://other.example/cds-services/x"), "aud"),
    "expired": (lambda: token(iat=int(time.time()) - 900, exp=int(time.time()) - 600),
                "ExpiredTokenError"),
    "no jti": (lambda: token(jti=None), "jti"),
    "too long-lived": (lambda: token(exp=int(time.time()) + 3600), "longer than 5 minutes"),
}


@SQLITE_ONLY
@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_every_untrusted_call_is_refused_with_the_reason_only_in_the_log(ehr, caplog, case):
    make, reason = REFUSALS[case]
    body = call_body(obs("size_cm", valueQuantity={"value": 2, "system": UCUM, "code": "cm"}))
    with caplog.at_level(logging.WARNING, logger="backmice.cds_hooks"):
        answer = post(ehr, body, bearer=make())
    assert answer.status_code == 401
    assert answer.json()["error"]["message"] == "the call is not authorised"
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert reason in logged
    assert reason not in answer.text


def test_a_replayed_token_is_refused(ehr, caplog):
    once = token()
    body = call_body(obs("size_cm", valueQuantity={"value": 2, "code": "cm"}))
    assert post(ehr, body, bearer=once).status_code == 200
    with caplog.at_level(logging.WARNING, logger="backmice.cds_hooks"):
        assert post(ehr, body, bearer=once).status_code == 401
    assert "replay" in caplog.text


@SQLITE_ONLY
def test_an_rs384_token_is_accepted(ehr):
    body = call_body(obs("size_cm", valueQuantity={"value": 2, "code": "cm"}))
    assert post(ehr, body, bearer=token(key=RSA_KEY, alg="RS384")).status_code == 200


@SQLITE_ONLY
def test_a_red_flag_of_the_same_day_gives_one_critical_card(ehr):
    body = call_body(obs("fever", valueBoolean=True),
                     obs("erythema", valueBoolean=True), obs("warmth", valueBoolean=True),
                     obs("size_cm", valueQuantity={"value": 3, "code": "cm"}))
    cards = post(ehr, body).json()["cards"]
    assert [c["indicator"] for c in cards] == ["critical"]
    card = cards[0]
    assert len(card["summary"]) < 140
    assert card["source"]["label"] == "backmice" and card["source"]["topic"]["code"]
    assert card["overrideReasons"]
    action = card["suggestions"][0]["actions"][0]
    assert action["type"] == "create" and action["resource"]["resourceType"] == "ServiceRequest"
    assert action["resource"]["subject"] == {"reference": "Patient/p1"}
    link = card["links"][0]
    assert link["type"] == "absolute" and "/clinician#case=" in link["url"]
    encoded = link["url"].split("#case=")[1]
    case = json.loads(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))
    assert case["patient"]["fever"] is True and case["lumps"][0]["findings"]["size_cm"] == 3


@SQLITE_ONLY
def test_the_suspected_cancer_pathway_gives_a_warning(ehr):
    body = call_body(obs("size_cm", valueQuantity={"value": 8, "code": "cm"}),
                     obs("depth", valueCodeableConcept=value_concept("deep_to_fascia")))
    assert [c["indicator"] for c in post(ehr, body).json()["cards"]] == ["warning"]


@SQLITE_ONLY
def test_a_back_mouse_picture_gives_an_info_card_from_the_note(ehr):
    note = ("Tender rubbery mobile 1.5 cm nodule over the left PSIS for 6 months; pressing on "
            "it reproduces her usual back pain. No fever, no leg symptoms.")
    cards = post(ehr, call_body(note=note)).json()["cards"]
    assert [c["indicator"] for c in cards] == ["info"]
    assert "lipoma" in cards[0]["summary"].lower() or "back" in cards[0]["summary"].lower()


@SQLITE_ONLY
def test_no_lump_recorded_means_no_card(ehr):
    other = {"resourceType": "Observation", "status": "final",
             "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]},
             "valueQuantity": {"value": 70}}
    assert post(ehr, call_body(other)).json() == {"cards": []}
    assert post(ehr, call_body(obs("fever", valueBoolean=False))).json() == {"cards": []}


@SQLITE_ONLY
def test_missing_prefetch_without_a_fhir_server_is_412(ehr):
    answer = post(ehr, call_body(prefetch=False))
    assert answer.status_code == 412
    assert answer.json()["error"]["field"] == "prefetch"


@pytest.fixture
def fhir_server():
    """A tiny FHIR server that answers the prefetch queries and records what it was asked."""
    asked: list[tuple[str, str]] = []
    lump = obs("size_cm", valueQuantity={"value": 9, "code": "cm"})
    answers = {"Patient": {"resourceType": "Patient", "id": "p7", "gender": "female"},
               "Observation": {"resourceType": "Bundle", "type": "searchset",
                               "entry": [{"resource": lump}]}}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            asked.append((self.path, self.headers.get("Authorization", "")))
            path = urllib.parse.urlsplit(self.path).path
            kind = "Patient" if path.startswith("/fhir/Patient/") else path.split("/")[-1]
            body = json.dumps(answers.get(kind, {"resourceType": "Bundle", "type": "searchset",
                                                 "entry": []})).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/fhir+json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/fhir", asked
    server.shutdown()
    server.server_close()


@SQLITE_ONLY
def test_missing_prefetch_is_fetched_from_the_fhir_server_with_its_token(ehr, fhir_server):
    url, asked = fhir_server
    body = call_body(prefetch=False, patient_id="p7")
    body["fhirServer"] = url
    body["fhirAuthorization"] = {"access_token": "abc123", "token_type": "Bearer",
                                 "expires_in": 300, "scope": "patient/*.read", "subject": "x"}
    answer = post(ehr, body)
    assert answer.status_code == 200
    assert [c["indicator"] for c in answer.json()["cards"]] == ["warning"]
    assert {path.split("?")[0] for path, _ in asked} == {
        "/fhir/Patient/p7", "/fhir/Observation", "/fhir/Condition", "/fhir/DocumentReference"}
    assert {auth for _, auth in asked} == {"Bearer abc123"}


def test_feedback_is_stored_and_counted_per_card_kind(ehr, web_app):
    body = call_body(obs("size_cm", valueQuantity={"value": 8, "code": "cm"}))
    card = post(ehr, body).json()["cards"][0]
    stamp = "2026-12-07T10:00:00Z"
    feedback = {"feedback": [{"card": card["uuid"], "outcome": "overridden",
                              "overrideReason": {"reason": {
                                  "code": "already-addressed",
                                  "system": card["overrideReasons"][0]["system"]}},
                              "outcomeTimestamp": stamp}]}
    answer = ehr.post(f"/cds-services/{SERVICE}/feedback", json=feedback,
                      headers={"Authorization": f"Bearer {token(aud=AUDIENCE + '/feedback')}"})
    assert answer.status_code == 200, answer.text
    rates = {r.kind: r for r in web_app.state.store.cds.rates()}
    assert rates["warning"].cards == 1 and rates["warning"].overridden == 1
    assert rates["warning"].override_rate == 1.0 and rates["warning"].acceptance_rate == 0.0
    web_app.state.store.accounts.create_user(username="rates", password=TEST_PASSWORD,
                                             roles=["reviewer"])
    log_in(ehr, "rates")
    page = ehr.get("/reviewer").text
    assert "Cards in the EHR" in page and "<td>warning</td>" in page and "1 (100%)" in page
    unknown = {"feedback": [{**feedback["feedback"][0], "card": str(uuid.uuid4())}]}
    refused = ehr.post(f"/cds-services/{SERVICE}/feedback", json=unknown,
                       headers={"Authorization": f"Bearer {token(aud=AUDIENCE + '/feedback')}"})
    assert refused.status_code == 404


@SQLITE_ONLY
@pytest.mark.parametrize(("body", "field"), [
    ({"hook": "order-select", "hookInstance": "x", "context": {"patientId": "p"}}, "hook"),
    ({"hook": "patient-view", "hookInstance": "x", "context": {}}, "context.patientId"),
    ({"hook": "patient-view", "context": {"patientId": "p"}}, "hookInstance"),
])
def test_a_malformed_call_names_the_field(ehr, body, field):
    answer = post(ehr, body)
    assert answer.status_code == 400
    assert answer.json()["error"]["field"] == field


def test_reviewers_read_the_rates_others_may_not(ehr, web_app):
    from tests.web.conftest import log_in

    from backmice.testing import TEST_PASSWORD

    assert ehr.get("/api/v1/cds-hooks/rates").status_code == 401
    web_app.state.store.accounts.create_user(username="rev", password=TEST_PASSWORD,
                                             roles=["reviewer"])
    log_in(ehr, "rev")
    rates = ehr.get("/api/v1/cds-hooks/rates").json()
    assert [r["kind"] for r in rates] == ["critical", "warning", "info"]
    assert all(r["cards"] == 0 and r["acceptance_rate"] is None for r in rates)
