"""The follow-up record in storage, on SQLite and PostgreSQL: accounts and lock-out, sessions and
tokens, patients scoped to a clinic, optimistic versions, encounters, procedures, outcomes,
cascading delete, and the append-only audit log."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from backmice.errors import (
    ConflictError,
    InputError,
    NotAuthenticated,
    NotFoundError,
    PermissionDenied,
    StateConflictError,
)
from backmice.storage import accounts as accounts_module
from backmice.storage.visits import EncounterDraft
from backmice.testing import TEST_PASSWORD, make_user

TODAY = dt.date.today()


def days_ago(n: int) -> str:
    return (TODAY - dt.timedelta(days=n)).isoformat()


# --- accounts ---------------------------------------------------------------------------------
def test_users_log_in_and_bad_passwords_lock_the_account(store):
    admin = store.accounts.create_user(username="ada", password=TEST_PASSWORD,
                                       roles=["admin", "clinician"])
    assert admin.roles == ("clinician", "admin") and store.accounts.admin_exists()
    assert store.accounts.authenticate("ada", TEST_PASSWORD).id == admin.id
    assert store.accounts.authenticate("ADA ", TEST_PASSWORD).id == admin.id  # user names fold
    for _ in range(accounts_module.MAX_FAILURES - 1):
        with pytest.raises(NotAuthenticated, match="wrong user name or password"):
            store.accounts.authenticate("ada", "not the password")
    store.accounts.authenticate("ada", TEST_PASSWORD)  # success resets the count
    for _ in range(accounts_module.MAX_FAILURES):
        with pytest.raises(NotAuthenticated, match="wrong"):
            store.accounts.authenticate("ada", "not the password")
    with pytest.raises(NotAuthenticated) as locked:
        store.accounts.authenticate("ada", TEST_PASSWORD)  # even the right password now
    with pytest.raises(NotAuthenticated) as unknown:
        store.accounts.authenticate("nobody", TEST_PASSWORD)
    assert str(locked.value) == str(unknown.value) == accounts_module.FAILED_LOGIN


def test_user_input_is_checked_before_anything_is_written(store):
    with pytest.raises(InputError) as err:
        store.accounts.create_user(username="Bad Name", password=TEST_PASSWORD,
                                   roles=["clinician"])
    assert err.value.field == "username"
    with pytest.raises(InputError) as err:
        store.accounts.create_user(username="bob", password="short", roles=["clinician"])
    assert err.value.field == "password"
    with pytest.raises(InputError) as err:
        store.accounts.create_user(username="bob", password=TEST_PASSWORD, roles=["pope"])
    assert err.value.field == "roles" and "clinician" in err.value.allowed
    make_user(store, "bob")
    with pytest.raises(InputError, match="taken"):
        make_user(store, "bob")
    assert [u.username for u in store.accounts.list_users()] == ["bob"]
    assert not store.accounts.admin_exists()


def test_sessions_and_tokens_are_stored_hashed_and_can_be_ended(store):
    user = store.accounts.create_user(username="cy", password=TEST_PASSWORD,
                                      roles=["clinician"])
    cookie, login = store.accounts.start_session(user)
    assert store.accounts.session_for(cookie).user.id == user.id
    assert store.accounts.session_for(cookie).csrf_token == login.csrf_token
    secret, token = store.accounts.create_token(user_id=user.id, name="nightly export")
    assert secret.startswith("bm_") and store.accounts.user_for_token(secret).id == user.id
    with store.engine.connect() as connection:
        stored = " ".join(str(v) for row in connection.execute(
            text("SELECT * FROM login_session")) for v in row)
        stored += " ".join(str(v) for row in connection.execute(
            text("SELECT * FROM api_token")) for v in row)
    assert cookie not in stored and secret not in stored
    store.accounts.end_session(cookie)
    assert store.accounts.session_for(cookie) is None
    store.accounts.revoke_token(token.id)
    assert store.accounts.user_for_token(secret) is None
    assert store.accounts.user_for_token("bm_forged") is None
    # Disabling a user ends their sessions.
    cookie, _ = store.accounts.start_session(user)
    store.accounts.update_user(user.id, active=False)
    assert store.accounts.session_for(cookie) is None
    with pytest.raises(NotAuthenticated):
        store.accounts.authenticate("cy", TEST_PASSWORD)


# --- patients ---------------------------------------------------------------------------------
def test_patients_are_scoped_to_their_clinic(store):
    north = make_user(store, "north", clinic="North")
    south = make_user(store, "south", clinic="South")
    p = store.patients.create(north, {"display_name": "Zoë Ärtz", "birth_date": "1970-03-01",
                                      "local_id": "N-1"})
    assert store.patients.get(north, p.id).display_name == "Zoë Ärtz"
    with pytest.raises(NotFoundError):
        store.patients.get(south, p.id)
    assert store.patients.search(south)[1] == 0
    assert [x.id for x in store.patients.search(north, text="zoë")[0]] == [p.id]
    assert [x.id for x in store.patients.search(north, text="N-1")[0]] == [p.id]
    assert store.patients.search(north, text="%")[1] == 0  # LIKE wildcards are plain text
    assert store.patients.search(north, birth_date="1970-03-01")[1] == 1
    assert store.patients.search(north, birth_date="1971-03-01")[1] == 0


def test_reviewers_and_admins_without_the_clinician_role_see_no_patients(store):
    reviewer = make_user(store, "rev", roles=["reviewer"])
    with pytest.raises(PermissionDenied):
        store.patients.search(reviewer)
    with pytest.raises(PermissionDenied):
        store.patients.create(reviewer, {"display_name": "X"})


def test_a_patient_needs_a_name_or_identifier_and_bad_fields_write_nothing(store):
    me = make_user(store, "me")
    for data, field in [({}, "display_name"), ({"display_name": "  "}, "display_name"),
                        ({"display_name": "A", "birth_date": "2999-01-01"}, "birth_date"),
                        ({"display_name": "A", "sex": "robot"}, "sex"),
                        ({"display_name": "A", "shoe": 1}, "shoe"),
                        ({"display_name": "A\x00"}, "display_name")]:
        with pytest.raises(InputError) as err:
            store.patients.create(me, data)
        assert err.value.field == field
    assert store.patients.search(me)[1] == 0
    assert store.patients.create(me, {"local_id": "MRN-9"}).label == "MRN-9"


def test_a_stale_version_is_refused_and_nothing_is_lost(store):
    me, colleague = make_user(store, "me"), make_user(store, "col")
    p = store.patients.create(me, {"display_name": "Ann"})
    theirs = store.patients.update(colleague, p.id, version=p.version,
                                   data={"notes": "allergic to lidocaine"})
    assert theirs.version == p.version + 1
    with pytest.raises(ConflictError, match="changed by someone else"):
        store.patients.update(me, p.id, version=p.version, data={"notes": "no allergies"})
    assert store.patients.get(me, p.id).notes == "allergic to lidocaine"
    with pytest.raises(InputError):  # clearing both names is refused, and rolls back
        store.patients.update(me, p.id, version=theirs.version, data={"display_name": None})
    assert store.patients.get(me, p.id).version == theirs.version


# --- lesions, visits, procedures, outcomes -----------------------------------------------------
def _draft(lesion_ids, *, top="episacral_lipoma", triage="routine"):
    return EncounterDraft(occurred_on=days_ago(30), note="first visit",
                          input_doc={"lumps": [{"id": f"L{i}"} for i in lesion_ids]},
                          result_doc={"lumps": []}, kb_version="k", engine_version="e",
                          triage=triage,
                          lesions=tuple((i, f"L{i}", top, 0.6, triage, 2.0) for i in lesion_ids))


def test_the_timeline_holds_lesions_visits_procedures_and_outcomes(store):
    me = make_user(store, "me")
    p = store.patients.create(me, {"display_name": "Ben"})
    left = store.patients.add_lesion(me, p.id, {"label": "left PSIS", "region":
                                                "posterior_superior_iliac_spine", "side": "left",
                                                "x": 0.4, "y": 0.5, "size_cm": 1.5})
    cluster = store.patients.add_lesion(me, p.id, {"label": "right flank cluster",
                                                   "nodule_count": 40})
    assert cluster.is_cluster and not left.is_cluster
    enc = store.visits.record_encounter(me, p.id, _draft([left.id, cluster.id]))
    assert [s.lesion_id for s in enc.lesions] == [left.id, cluster.id]
    inj = store.visits.add_procedure(me, p.id, {
        "lesion_id": left.id, "kind": "diagnostic_injection", "performed_on": days_ago(30),
        "pain_before": 8, "pain_after": 1, "minutes_after": 15})
    exc = store.visits.add_procedure(me, p.id, {
        "lesion_id": left.id, "kind": "excision", "performed_on": days_ago(20),
        "complications": [{"kind": "bruising", "noted_on": days_ago(18)}]})
    store.visits.add_complication(me, exc.id, {"kind": "fever", "noted_on": days_ago(17)})
    store.visits.update_procedure(me, exc.id, version=exc.version,
                                  data={"histopathology": "adipose_tissue"})
    store.visits.add_outcome(me, p.id, {"lesion_id": left.id, "measured_on": days_ago(31),
                                        "pain": 8})
    store.visits.add_outcome(me, p.id, {"lesion_id": left.id, "measured_on": days_ago(1),
                                        "pain": 1, "odi": 10, "satisfaction": 9})
    t = store.visits.timeline(me, p.id)
    assert [le.status for le in t.lesions] == ["excised", "active"]
    assert [x.kind for x in t.procedures] == ["diagnostic_injection", "excision"]
    assert [c.kind for c in t.procedures[1].complications] == ["bruising", "fever"]
    assert t.procedures[1].histopathology == "adipose_tissue"
    assert t.procedures[0].id == inj.id and len(t.encounters) == 1
    assert [o.pain for o in t.outcomes] == [8, 1]
    procedures, outcomes = store.visits.clinic_data(me)
    assert len(procedures) == 2 and len(outcomes) == 2


def test_procedure_and_outcome_input_is_checked(store):
    me = make_user(store, "me")
    p = store.patients.create(me, {"display_name": "Cy"})
    lesion = store.patients.add_lesion(me, p.id, {"label": "A"})
    other = store.patients.create(me, {"display_name": "Di"})
    foreign = store.patients.add_lesion(me, other.id, {"label": "B"})
    cases = [
        ({"kind": "laser", "performed_on": days_ago(1)}, "kind"),
        ({"kind": "diagnostic_injection", "lesion_id": lesion.id, "performed_on": days_ago(1),
          "pain_before": 8}, "pain_after"),
        ({"kind": "diagnostic_injection", "lesion_id": lesion.id, "performed_on": days_ago(1),
          "pain_before": 11, "pain_after": 1}, "pain_before"),
        ({"kind": "excision", "performed_on": days_ago(1)}, "lesion_id"),
        ({"kind": "dry_needling", "lesion_id": lesion.id, "performed_on": days_ago(1),
          "histopathology": "adipose_tissue"}, "histopathology"),
        ({"kind": "other", "performed_on": "yesterday"}, "performed_on"),
        ({"kind": "other", "performed_on": days_ago(1),
          "complications": [{"kind": "dragons", "noted_on": days_ago(1)}]},
         "complications[0].kind"),
    ]
    for data, field in cases:
        with pytest.raises(InputError) as err:
            store.visits.add_procedure(me, p.id, data)
        assert err.value.field == field, data
    # a lesion of another patient: well formed, refused by the record (409), naming the field
    with pytest.raises(StateConflictError) as conflict:
        store.visits.add_procedure(me, p.id, {"kind": "excision", "lesion_id": foreign.id,
                                              "performed_on": days_ago(1)})
    assert conflict.value.field == "lesion_id" and str(lesion.id) in conflict.value.allowed
    with pytest.raises(StateConflictError) as conflict:
        store.visits.add_outcome(me, p.id, {"lesion_id": foreign.id, "pain": 3,
                                            "measured_on": days_ago(1)})
    assert conflict.value.field == "lesion_id"
    with pytest.raises(InputError) as err:
        store.visits.add_outcome(me, p.id, {"measured_on": days_ago(1)})
    assert err.value.field == "pain"
    with pytest.raises(InputError) as err:
        store.visits.add_outcome(me, p.id, {"measured_on": days_ago(1), "odi": 101})
    assert err.value.field == "odi"
    t = store.visits.timeline(me, p.id)
    assert t.procedures == () and t.outcomes == ()


def test_deleting_a_patient_removes_their_record_but_the_audit_log_keeps_the_fact(store):
    me = make_user(store, "me")
    p = store.patients.create(me, {"display_name": "Eve"})
    lesion = store.patients.add_lesion(me, p.id, {"label": "A"})
    store.visits.record_encounter(me, p.id, _draft([lesion.id]))
    store.visits.add_outcome(me, p.id, {"measured_on": days_ago(1), "pain": 3})
    with pytest.raises(ConflictError):
        store.patients.delete(me, p.id, version=p.version + 7)
    store.patients.delete(me, p.id, version=p.version)
    with pytest.raises(NotFoundError):
        store.patients.get(me, p.id)
    with store.engine.connect() as connection:
        for table in ("lesion", "encounter", "encounter_lesion", "outcome"):
            assert connection.execute(text(f"SELECT count(*) FROM {table}")).scalar() == 0
    actions = [(e.action, e.target) for e in store.audit.events(patient_id=p.id)]
    assert ("delete", f"patient:{p.id}") in actions and ("create", f"patient:{p.id}") in actions
    assert all("Eve" not in e.target for e in store.audit.events())


def test_the_audit_log_is_append_only_in_the_database(store):
    me = make_user(store, "me")
    store.patients.create(me, {"display_name": "Fay"})
    for statement in ("UPDATE audit_event SET username = 'x'", "DELETE FROM audit_event"):
        with pytest.raises(DBAPIError, match="append-only"), store.engine.begin() as c:
            c.execute(text(statement))
    assert store.audit.count() >= 1


def test_reads_and_searches_are_audited_without_their_words(store):
    me = make_user(store, "me")
    p = store.patients.create(me, {"display_name": "Gil Secretname"})
    store.patients.search(me, text="Secretname")
    store.visits.timeline(me, p.id)
    store.visits.timeline(me, p.id, action="export")
    events = store.audit.events()
    assert {"search", "read", "export", "create"} <= {e.action for e in events}
    assert all("Secretname" not in f"{e.target}{e.username}" for e in events)


def test_a_new_patient_never_inherits_a_deleted_patients_id_or_audit_trail(store):
    me = make_user(store, "me")
    a = store.patients.create(me, {"display_name": "A"})
    b = store.patients.create(me, {"display_name": "B"})
    store.patients.delete(me, b.id, version=b.version)
    c = store.patients.create(me, {"display_name": "C"})
    assert c.id not in (a.id, b.id)
    assert [e.action for e in store.audit.events(patient_id=c.id)] == ["create"]


def _injection(pid: int, day: int, before: float, after: float, minutes: int | None):
    from backmice.followup.records import Procedure

    return Procedure(id=day, patient_id=1, lesion_id=pid, kind="diagnostic_injection",
                     performed_on=dt.date(2026, 1, day), pain_before=before, pain_after=after,
                     minutes_after=minutes, with_steroid=None, histopathology=None, notes=None,
                     created_at=dt.datetime(2026, 1, day, tzinfo=dt.UTC), created_by=None,
                     version=1)


def test_an_injection_read_after_the_window_does_not_replace_one_read_in_time(kb):
    from backmice.followup.later_tests import later_tests_for
    from backmice.kb.base import INJECTION_FINDING

    window = kb.findings[INJECTION_FINDING].reading.within_minutes  # the KB's, not a copy
    in_time = _injection(7, 1, 8, 1, 15)
    late = _injection(7, 2, 8, 7, int(window) + 30)
    assert later_tests_for(7, [in_time, late], within_minutes=window) == {
        "injection_pain_before": 8, "injection_pain_after": 1, "minutes_after": 15}
    # alone, the late one is passed on so that the reading notes say why it is not used
    assert later_tests_for(7, [late], within_minutes=window)["minutes_after"] == window + 30
    unknown_time = _injection(7, 3, 6, 1, None)  # a time not given is not "too late"
    assert later_tests_for(7, [in_time, late, unknown_time], within_minutes=window) == {
        "injection_pain_before": 6, "injection_pain_after": 1}
    assert later_tests_for(7, [in_time, late], within_minutes=window + 60)[
        "injection_pain_after"] == 7  # with a longer window the later one counts
