"""The append-only audit log: who read or changed which patient's record, and when.

``record`` adds an event inside the caller's transaction, so a change and its audit entry are
committed together or not at all. Events hold ids and an action, never patient data (no names,
no findings, no search text). The database itself refuses UPDATE and DELETE on the table
(triggers, migration 0002).
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backmice.followup.records import Actor, AuditEvent
from backmice.storage import validate
from backmice.storage.db import Database
from backmice.storage.tables import AuditEventRow

ACTIONS = ("login", "login_failed", "logout", "read", "search", "create", "update", "delete",
           "export", "user_change", "token_change", "correct", "review", "password_change",
           "password_reset")


def record(session: Session, actor: Actor | None, action: str, *, patient_id: int | None = None,
           target: str = "", username: str | None = None, client: str = "") -> None:
    assert action in ACTIONS, action
    session.add(AuditEventRow(
        at=validate.now(), user_id=actor.user_id if actor else None,
        username=(actor.username if actor else username or "(anonymous)")[:64],
        action=action, patient_id=patient_id, target=target[:80],
        client=(actor.client if actor else client)[:64]))


def _event(row: AuditEventRow) -> AuditEvent:
    return AuditEvent(id=row.id, at=validate.aware(row.at), user_id=row.user_id,
                      username=row.username, action=row.action, patient_id=row.patient_id,
                      target=row.target, client=row.client)


class AuditLog:
    """Reading the log (admins only; the web layer checks the role)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def add(self, actor: Actor | None, action: str, *, patient_id: int | None = None,
            target: str = "", username: str | None = None, client: str = "") -> None:
        """One event in its own transaction (logins, logouts, failed attempts)."""
        self.db.write(lambda session: record(session, actor, action, patient_id=patient_id,
                                             target=target, username=username, client=client))

    def events(self, *, patient_id: int | None = None, user_id: int | None = None,
               limit: int = 100, offset: int = 0) -> list[AuditEvent]:
        query = select(AuditEventRow).order_by(AuditEventRow.id.desc())
        if patient_id is not None:
            query = query.where(AuditEventRow.patient_id == patient_id)
        if user_id is not None:
            query = query.where(AuditEventRow.user_id == user_id)
        query = query.limit(max(1, min(limit, 1000))).offset(max(0, offset))
        return self.db.read(lambda session: [_event(r) for r in session.scalars(query)])

    def count(self) -> int:
        return self.db.read(lambda session: session.scalar(
            select(func.count()).select_from(AuditEventRow)) or 0)
