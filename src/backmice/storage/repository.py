"""The storage operations the app calls (keyword-only), returning domain records.

``open_store(url)`` connects, migrates and returns a Store. Input is checked here before any
write, so bad input raises InputError naming the field and nothing is written.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from argon2 import PasswordHasher
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from backmice.errors import InputError, NotFoundError
from backmice.storage import validate
from backmice.storage.accounts import Accounts
from backmice.storage.audit import AuditLog
from backmice.storage.cds_hooks import CdsHooks
from backmice.storage.corrections import Corrections
from backmice.storage.db import Database, connect
from backmice.storage.patients import Patients
from backmice.storage.records import FEEDBACK_KINDS, FEEDBACK_STATUSES, Feedback, SavedAssessment
from backmice.storage.tables import FeedbackRow, SavedAssessmentRow
from backmice.storage.visits import Visits
from backmice.storage.worklist import Worklist

Write = Callable[[Session], Any]  # one checked change, run by Database.write or write_async
LIMITS = {"page": 200, "text": 5000, "contact": 320, "title": 200}


def _text(field: str, value: str | None, *, required: bool = False) -> str | None:
    return validate.text(field, value, LIMITS[field], required=required)


def _saved(row: SavedAssessmentRow) -> SavedAssessment:
    return SavedAssessment(share_id=row.share_id, created_at=validate.aware(row.created_at),
                           kb_version=row.kb_version, engine_version=row.engine_version,
                           input_doc=row.input_doc, result_doc=row.result_doc, title=row.title)


def _feedback(row: FeedbackRow) -> Feedback:
    return Feedback(id=row.id, created_at=validate.aware(row.created_at), page=row.page,
                    kind=row.kind, helpful=row.helpful, text=row.text, contact=row.contact,
                    status=row.status,
                    resolved_at=validate.aware(row.resolved_at), kb_version=row.kb_version)


class Store(Database):
    """Saved assessments and reader feedback here; the rest in one part per concern:
    ``accounts`` (users, logins, API tokens), ``patients`` (patients and lesions), ``visits``
    (encounters, procedures, outcomes, timelines), ``corrections`` (correcting or deleting a
    visit, procedure or outcome with a reason), ``worklist`` (alert reviews, referrals, the
    clinic's lists), ``audit`` (the audit log) and ``cds`` (CDS Hooks clients, tokens, cards
    and feedback)."""

    def __init__(self, engine: Engine, *, password_hasher: PasswordHasher | None = None) -> None:
        super().__init__(engine)
        self.accounts = Accounts(self, password_hasher)
        self.patients = Patients(self)
        self.visits = Visits(self)
        self.corrections = Corrections(self)
        self.worklist = Worklist(self)
        self.audit = AuditLog(self)
        self.cds = CdsHooks(self)

    # --- saved assessments ------------------------------------------------------------------
    def save_assessment(self, **fields: Any) -> SavedAssessment:
        """Keep an assessment (the fields of ``assessment_write``); answers it with its share id."""
        return self.write(self.assessment_write(**fields))

    def assessment_write(self, *, input_doc: dict[str, Any], result_doc: dict[str, Any],
                         kb_version: str, engine_version: str,
                         title: str | None = None) -> Write:
        """The checked write of a saved assessment, for ``write`` or ``write_async``."""
        title = _text("title", title)

        def work(session: Session) -> SavedAssessment:
            row = SavedAssessmentRow(share_id=secrets.token_urlsafe(12), created_at=validate.now(),
                                     kb_version=kb_version, engine_version=engine_version,
                                     title=title, input_doc=input_doc, result_doc=result_doc)
            session.add(row)
            session.flush()
            return _saved(row)

        return work

    def get_assessment(self, *, share_id: str) -> SavedAssessment:
        def work(session: Session) -> SavedAssessment | None:
            row = session.scalars(select(SavedAssessmentRow)
                                  .where(SavedAssessmentRow.share_id == share_id)).first()
            return _saved(row) if row else None

        found = self.read(work) if len(share_id) <= 32 else None
        if found is None:
            raise NotFoundError("saved assessment", share_id[:40])
        return found

    # --- feedback ---------------------------------------------------------------------------
    def add_feedback(self, **fields: Any) -> Feedback:
        """Store reader feedback (the fields of ``feedback_write``)."""
        return self.write(self.feedback_write(**fields))

    def feedback_write(self, *, page: str, kind: str, helpful: bool | None, text: str | None,
                       contact: str | None, kb_version: str) -> Write:
        """The checked write of one piece of feedback; InputError now if a field is wrong."""
        if kind not in FEEDBACK_KINDS:
            raise InputError("kind", f"unknown kind {kind!r}", ", ".join(FEEDBACK_KINDS))
        page = _text("page", page, required=True)
        text = _text("text", text, required=kind == "inaccuracy")
        contact = _text("contact", contact)
        if kind == "helpful" and helpful is None:
            raise InputError("helpful", "is required for 'was this helpful?'", "true or false")

        def work(session: Session) -> Feedback:
            row = FeedbackRow(created_at=validate.now(), page=page, kind=kind, helpful=helpful,
                              text=text, contact=contact, status="open", kb_version=kb_version)
            session.add(row)
            session.flush()
            return _feedback(row)

        return work

    def list_feedback(self, *, status: str | None = None, limit: int = 100,
                      offset: int = 0) -> list[Feedback]:
        query = select(FeedbackRow).order_by(FeedbackRow.created_at.desc(), FeedbackRow.id.desc())
        if status is not None:
            query = query.where(FeedbackRow.status == _status(status))
        query = query.limit(max(1, min(limit, 1000))).offset(max(0, offset))
        return self.read(lambda session: [_feedback(r) for r in session.scalars(query)])

    def count_feedback(self, *, status: str | None = None) -> int:
        query = select(func.count()).select_from(FeedbackRow)
        if status is not None:
            query = query.where(FeedbackRow.status == _status(status))
        return self.read(lambda session: session.scalar(query) or 0)

    def set_feedback_status(self, *, feedback_id: int, status: str) -> Feedback:
        status = _status(status)

        def work(session: Session) -> Feedback | None:
            row = session.get(FeedbackRow, feedback_id)
            if row is None:
                return None
            row.status = status
            row.resolved_at = validate.now() if status == "resolved" else None
            session.flush()
            return _feedback(row)

        found = self.write(work) if validate.is_record_id(feedback_id) else None
        if found is None:
            raise NotFoundError("feedback", str(feedback_id))
        return found


def _status(status: str) -> str:
    if status not in FEEDBACK_STATUSES:
        raise InputError("status", f"unknown status {status!r}", ", ".join(FEEDBACK_STATUSES))
    return status


def open_store(url: str, *, password_hasher: PasswordHasher | None = None) -> Store:
    """Connect to ``url``, apply the migrations, and return a ready Store. ``password_hasher``
    defaults to argon2id at its library's recommended cost."""
    return Store(connect(url), password_hasher=password_hasher)
