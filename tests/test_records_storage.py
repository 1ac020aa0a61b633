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


# --- alerts, referrals, corrections, passwords (migration 0003) -------------------------------
def _urgent(lesion_id: int, *, days: int, triage: str = "urgent_2_weeks") -> EncounterDraft:
    return EncounterDraft(occurred_on=days_ago(days), note="urgent visit",
                          input_doc={"lumps": []}, result_doc={"lumps": []}, kb_version="k",
                          engine_version="e", triage=triage,
                          lesions=((lesion_id, f"lesion-{lesion_id}", "liposarcoma", 0.3,
                                    triage, 7.0),))


def test_an_urgent_lesion_opens_one_referral_due_by_its_level(store):
    from backmice.followup.alerts import patient_alerts

    me = make_user(store, "me")
    p = store.patients.create(me, {"display_name": "Gus"})
    deep = store.patients.add_lesion(me, p.id, {"label": "deep"})
    calm = store.patients.add_lesion(me, p.id, {"label": "calm"})
    store.visits.record_encounter(me, p.id, _draft([calm.id]))  # routine: no referral
    first = store.visits.record_encounter(me, p.id, _urgent(deep.id, days=20))
    store.visits.record_encounter(me, p.id, _urgent(deep.id, days=10))  # later due: none
    same_day = store.visits.record_encounter(me, p.id, _urgent(deep.id, days=5,
                                                               triage="urgent_same_day"))
    t = store.visits.timeline(me, p.id)
    got = [(r.encounter_id, r.triage, r.opened_on, r.due_on) for r in t.referrals]
    assert got == [
        (first.id, "urgent_2_weeks", TODAY - dt.timedelta(days=20),
         TODAY - dt.timedelta(days=6)),
        (same_day.id, "urgent_same_day", TODAY - dt.timedelta(days=5),
         TODAY - dt.timedelta(days=5))]
    assert all(r.lesion_id == deep.id and r.status == "open" for r in t.referrals)
    assert t.referrals[0].is_overdue(TODAY)
    assert not t.referrals[0].is_overdue(TODAY - dt.timedelta(days=6))  # due that day
    open_alerts, reviewed = patient_alerts(t.procedures, t.visit_lines(), t.reviews)
    assert [a.kind for a in open_alerts] == ["urgent_lesion"] * 3 and reviewed == []


def test_alerts_stay_until_reviewed_and_the_review_is_kept_and_audited(store):
    from backmice.followup.alerts import patient_alerts

    me = make_user(store, "me")
    p = store.patients.create(me, {"display_name": "Hal"})
    lesion = store.patients.add_lesion(me, p.id, {"label": "A"})
    enc = store.visits.record_encounter(me, p.id, _urgent(lesion.id, days=3))
    proc = store.visits.add_procedure(me, p.id, {
        "lesion_id": lesion.id, "kind": "excision", "performed_on": days_ago(2),
        "complications": [{"kind": "infection", "noted_on": days_ago(1)},
                          {"kind": "bruising", "noted_on": days_ago(1)}]})
    infection = proc.complications[0]
    t = store.visits.timeline(me, p.id)
    open_alerts, _ = patient_alerts(t.procedures, t.visit_lines(), t.reviews)
    keys = [a.key for a in open_alerts]
    assert keys == [f"complication:{infection.id}", f"triage:{enc.id}:{lesion.id}"]
    for bad in ("complication:99999", f"complication:{proc.complications[1].id}", "lol", 5):
        with pytest.raises(InputError) as err:  # unknown, a non-alerting kind, junk
            store.worklist.review_alert(me, p.id, bad)
        assert err.value.field == "alert"
    other = store.patients.create(me, {"display_name": "Ida"})
    with pytest.raises(InputError):  # another patient's alert
        store.worklist.review_alert(me, other.id, keys[0])
    outsider = make_user(store, "outsider", clinic="Elsewhere")
    with pytest.raises(NotFoundError):
        store.worklist.review_alert(outsider, p.id, keys[0])
    review = store.worklist.review_alert(me, p.id, keys[0], "seen, antibiotics started")
    assert review.reviewed_by == "me" and review.reviewed_at.tzinfo is not None
    with pytest.raises(InputError, match="already reviewed by me"):
        store.worklist.review_alert(me, p.id, keys[0])
    t = store.visits.timeline(me, p.id)
    open_alerts, reviewed = patient_alerts(t.procedures, t.visit_lines(), t.reviews)
    assert [a.key for a in open_alerts] == [keys[1]]
    assert [(a.key, a.review.reviewed_by, a.review.note) for a in reviewed] == [
        (keys[0], "me", "seen, antibiotics started")]
    assert ("review", f"alert:{keys[0]}") in [(e.action, e.target)
                                             for e in store.audit.events(patient_id=p.id)]
    clinic = store.worklist.clinic(me)
    assert set(clinic.patients) == {p.id} and len(clinic.referrals) == 1
    assert [r.alert_key for r in clinic.reviews] == [keys[0]]
    assert store.worklist.clinic(outsider).patients == {}


def test_a_referral_is_marked_done_once_with_who_and_when(store):
    me = make_user(store, "me")
    p = store.patients.create(me, {"display_name": "Jo"})
    lesion = store.patients.add_lesion(me, p.id, {"label": "A"})
    store.visits.record_encounter(me, p.id, _urgent(lesion.id, days=20))
    ref = store.visits.timeline(me, p.id).referrals[0]
    cases = [({"how": "faxed", "done_on": days_ago(1)}, "how"),
             ({"how": "sent", "done_on": days_ago(30)}, "done_on"),  # before it was opened
             ({"how": "sent", "done_on": days_ago(-5)}, "done_on"),  # in the future
             ({"how": "sent", "done_on": days_ago(1), "who": "x"}, "who")]
    for data, field in cases:
        with pytest.raises(InputError) as err:
            store.worklist.complete_referral(me, ref.id, version=ref.version, data=data,
                                             today=TODAY)
        assert err.value.field == field, data
    with pytest.raises(ConflictError):
        store.worklist.complete_referral(me, ref.id, version=ref.version + 1,
                                         data={"how": "sent", "done_on": days_ago(1)})
    done = store.worklist.complete_referral(me, ref.id, version=ref.version,
                                            data={"how": "seen", "done_on": days_ago(2),
                                                  "notes": "seen in the sarcoma clinic"})
    assert (done.status, done.done_how, done.done_by) == ("done", "seen", "me")
    assert not done.is_overdue(TODAY) and done.version == ref.version + 1
    with pytest.raises(InputError, match="already marked seen"):
        store.worklist.complete_referral(me, ref.id, version=done.version,
                                         data={"how": "sent", "done_on": days_ago(1)})
    assert ("update", f"referral:{ref.id}") in [(e.action, e.target)
                                               for e in store.audit.events(patient_id=p.id)]


def test_visits_procedures_and_outcomes_are_corrected_or_deleted_with_a_reason(store):
    me = make_user(store, "me")
    p = store.patients.create(me, {"display_name": "Kit"})
    lesion = store.patients.add_lesion(me, p.id, {"label": "A"})
    enc = store.visits.record_encounter(me, p.id, _urgent(lesion.id, days=20))
    proc = store.visits.add_procedure(me, p.id, {
        "lesion_id": lesion.id, "kind": "diagnostic_injection", "performed_on": days_ago(9),
        "pain_before": 8, "pain_after": 1, "minutes_after": 15})
    out = store.visits.add_outcome(me, p.id, {"measured_on": days_ago(3), "pain": 4})
    assert (enc.version, out.version) == (1, 1)
    with pytest.raises(InputError) as err:  # a reason is required
        store.corrections.correct_outcome(me, out.id, version=1, reason="  ",
                                          data={"pain": 3})
    assert err.value.field == "reason"
    with pytest.raises(InputError) as err:  # the rules of a new entry apply
        store.corrections.correct_procedure(me, proc.id, version=1, reason="typo",
                                            data={"pain_after": 11})
    assert err.value.field == "pain_after"
    with pytest.raises(InputError) as err:
        store.corrections.correct_encounter(me, enc.id, version=1, reason="typo",
                                            data={"result_doc": {}})
    assert err.value.field == "result_doc"
    with pytest.raises(ConflictError):
        store.corrections.correct_outcome(me, out.id, version=2, reason="typo",
                                          data={"pain": 3})
    fixed = store.corrections.correct_outcome(me, out.id, version=1, reason="pain was 3",
                                              data={"pain": 3})
    assert (fixed.pain, fixed.version) == (3, 2)
    fixed = store.corrections.correct_procedure(me, proc.id, version=1, reason="read at 20",
                                                data={"minutes_after": 20})
    assert (fixed.minutes_after, fixed.pain_after, fixed.version) == (20, 1, 2)
    moved = store.corrections.correct_encounter(me, enc.id, version=1, reason="wrong date",
                                                data={"occurred_on": days_ago(18)})
    assert moved.occurred_on == TODAY - dt.timedelta(days=18) and moved.version == 2
    t = store.visits.timeline(me, p.id)
    assert t.referrals[0].due_on == TODAY - dt.timedelta(days=4)  # counted from the new date
    store.corrections.delete_outcome(me, out.id, version=2, reason="entered on the wrong "
                                     "patient")
    store.corrections.delete_procedure(me, proc.id, version=2, reason="never happened")
    with pytest.raises(ConflictError):
        store.corrections.delete_encounter(me, enc.id, version=1, reason="duplicate")
    store.corrections.delete_encounter(me, enc.id, version=2, reason="duplicate")
    t = store.visits.timeline(me, p.id)
    assert (t.encounters, t.procedures, t.outcomes, t.referrals) == ((), (), (), ())
    kept = [(c.target, c.action, c.reason, c.username) for c in t.corrections]
    assert kept == [
        (f"outcome:{out.id}", "update", "pain was 3", "me"),
        (f"procedure:{proc.id}", "update", "read at 20", "me"),
        (f"encounter:{enc.id}", "update", "wrong date", "me"),
        (f"outcome:{out.id}", "delete", "entered on the wrong patient", "me"),
        (f"procedure:{proc.id}", "delete", "never happened", "me"),
        (f"encounter:{enc.id}", "delete", "duplicate", "me")]
    assert t.corrections[0].old["pain"] == 4 and t.corrections[1].old["minutes_after"] == 15
    assert t.corrections[2].old["occurred_on"] == days_ago(20)
    assert t.corrections[5].old["lesions"][0]["triage"] == "urgent_2_weeks"
    actions = [(e.action, e.target) for e in store.audit.events(patient_id=p.id)]
    assert ("correct", f"outcome:{out.id}") in actions
    assert ("delete", f"encounter:{enc.id}") in actions
    outsider = make_user(store, "outsider", clinic="Elsewhere")
    other = store.visits.add_outcome(me, p.id, {"measured_on": days_ago(1), "pain": 2})
    with pytest.raises(NotFoundError):
        store.corrections.delete_outcome(outsider, other.id, version=1, reason="mine")


def test_passwords_are_changed_by_their_owner_and_reset_by_an_admin(store):
    admin = store.accounts.create_user(username="root", password=TEST_PASSWORD,
                                       roles=["admin"])
    user = store.accounts.create_user(username="nurse", password=TEST_PASSWORD,
                                      roles=["clinician"])
    cookie, _ = store.accounts.start_session(user)
    other_cookie, _ = store.accounts.start_session(user)
    for current, new, field in ((TEST_PASSWORD, "short", "new_password"),
                                ("not it at all", "a brand new secret", "current_password"),
                                (TEST_PASSWORD, TEST_PASSWORD, "new_password"),
                                (None, "a brand new secret", "current_password")):
        with pytest.raises(InputError) as err:
            store.accounts.change_password(user.id, current=current, new=new)
        assert err.value.field == field
    changed = store.accounts.change_password(user.id, current=TEST_PASSWORD,
                                             new="a brand new secret", keep_session=cookie)
    assert not changed.must_change_password
    assert store.accounts.session_for(cookie) is not None  # the session that changed it
    assert store.accounts.session_for(other_cookie) is None  # every other login ends
    with pytest.raises(NotAuthenticated):
        store.accounts.authenticate("nurse", TEST_PASSWORD)
    assert store.accounts.authenticate("nurse", "a brand new secret").id == user.id
    reset = store.accounts.reset_password(user.id, password="temporary secret 1",
                                          acting_user_id=admin.id)
    assert reset.must_change_password and store.accounts.session_for(cookie) is None
    assert store.accounts.authenticate("nurse", "temporary secret 1").must_change_password
    again = store.accounts.change_password(user.id, current="temporary secret 1",
                                           new="my own secret 22")
    assert not again.must_change_password


def test_wrong_current_passwords_count_towards_the_lock(store):
    user = store.accounts.create_user(username="pat", password=TEST_PASSWORD,
                                      roles=["clinician"])
    for _ in range(accounts_module.MAX_FAILURES):
        with pytest.raises(InputError):
            store.accounts.change_password(user.id, current="wrong guess", new="x" * 12)
    with pytest.raises(NotAuthenticated):
        store.accounts.authenticate("pat", TEST_PASSWORD)  # locked now
    with pytest.raises(InputError):  # and the right password cannot change it while locked
        store.accounts.change_password(user.id, current=TEST_PASSWORD, new="x" * 12)


def test_migration_0003_downgrades_and_upgrades_again(store):
    """The one migration of alerts, referrals and corrections goes down to 0002 and back up,
    keeping the rows of the tables it does not own."""
    from alembic import command
    from sqlalchemy import inspect

    from backmice.storage.migrate import alembic_config, current_revision

    me = make_user(store, "me")
    p = store.patients.create(me, {"display_name": "Lou"})
    config = alembic_config()
    with store.engine.connect() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0002")
        connection.commit()
    assert current_revision(store.engine) == "0002"
    names = set(inspect(store.engine).get_table_names())
    assert not names & {"alert_review", "referral", "record_correction"}
    assert "version" not in {c["name"] for c in inspect(store.engine).get_columns("outcome")}
    with store.engine.connect() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
        connection.commit()
    assert store.patients.get(me, p.id).display_name == "Lou"
    lesion = store.patients.add_lesion(me, p.id, {"label": "A"})
    store.visits.record_encounter(me, p.id, _urgent(lesion.id, days=1))
    assert len(store.visits.timeline(me, p.id).referrals) == 1


def test_referral_levels_are_the_triage_levels_from_two_weeks_up():
    from backmice.followup.referrals import due_date
    from backmice.followup.vocab import REFERRAL_DAYS
    from backmice.results import URGENCY_ORDER

    upto = URGENCY_ORDER[:URGENCY_ORDER.index("urgent_2_weeks") + 1]
    assert tuple(REFERRAL_DAYS) == upto
    day = dt.date(2026, 3, 1)
    assert due_date("urgent_2_weeks", day) == dt.date(2026, 3, 15)
    assert due_date("urgent_same_day", day) == due_date("emergency", day) == day


def test_a_visit_is_prefilled_with_age_sex_and_the_last_size():
    from backmice.followup.prefill import age_on, visit_prefill
    from backmice.followup.records import Lesion, LesionSummary, Patient

    born = dt.date(1966, 5, 2)
    assert age_on(born, dt.date(2026, 5, 1)) == 59 and age_on(born, dt.date(2026, 5, 2)) == 60
    assert age_on(born, dt.date(1960, 1, 1)) is None
    moment = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)
    patient = Patient(1, 1, "Zoë", None, born, "female", None, moment, moment, 1)
    lesions = [Lesion(i, 1, f"L{i}", None, None, None, None, "active", 1, size, moment, moment, 1)
               for i, size in ((1, 1.5), (2, None), (3, None))]
    lines = [(dt.date(2026, 2, 1), 7, LesionSummary(1, "lesion-1", "x", 0.5, "routine", 2.5)),
             (dt.date(2026, 3, 1), 8, LesionSummary(1, "lesion-1", "x", 0.5, "routine", None)),
             (dt.date(2026, 3, 1), 8, LesionSummary(2, "lesion-2", "x", 0.5, "routine", 4.0))]
    got = visit_prefill(patient, lesions, lines, on=dt.date(2026, 6, 1))
    assert got.patient == {"age_years": 60, "sex": "female"}
    assert got.lesions == {1: {"size_cm": 2.5}, 2: {"size_cm": 4.0}}
    assert got.size_from[1] == dt.date(2026, 2, 1)
    other = Patient(2, 1, None, "MRN", None, "other", None, moment, moment, 1)
    assert visit_prefill(other, [], [], on=dt.date(2026, 6, 1)).patient == {}
