"""CDS Hooks storage: the EHR clients allowed to call (issuer and JWK Set), the JWT ids already
accepted (each once), the cards sent and the clinicians' feedback on them, counted per kind."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from backmice.errors import InputError, NotFoundError
from backmice.storage import validate
from backmice.storage.db import Database
from backmice.storage.tables import CdsCardRow, CdsClientRow, CdsFeedbackRow, CdsSeenTokenRow

OUTCOMES = ("accepted", "overridden")
KINDS = ("critical", "warning", "info")


@dataclass(frozen=True, slots=True)
class CdsClient:
    issuer: str
    jwks: dict[str, Any] | None
    jwks_url: str | None
    added_at: dt.datetime


@dataclass(frozen=True, slots=True)
class SeenToken:
    """A verified JWT's issuer, id and expiry: accepted once."""

    issuer: str
    jti: str
    expires_at: dt.datetime


@dataclass(frozen=True, slots=True)
class CardRates:
    """Per card kind: cards sent, feedback received, and the share accepted or overridden."""

    kind: str
    cards: int
    accepted: int
    overridden: int

    @property
    def acceptance_rate(self) -> float | None:
        return self.accepted / self.cards if self.cards else None

    @property
    def override_rate(self) -> float | None:
        return self.overridden / self.cards if self.cards else None


def _client(row: CdsClientRow) -> CdsClient:
    return CdsClient(issuer=row.issuer, jwks=row.jwks, jwks_url=row.jwks_url,
                     added_at=validate.aware(row.added_at))


class CdsHooks:
    def __init__(self, db: Database) -> None:
        self.db = db

    # --- clients ---------------------------------------------------------------------------
    def add_client(self, *, issuer: str, jwks: dict[str, Any] | None = None,
                   jwks_url: str | None = None) -> CdsClient:
        """Register (or replace) an issuer with its JWK Set or the URL of one."""
        issuer = validate.text("issuer", issuer, 500, required=True) or ""
        if (jwks is None) == (jwks_url is None):
            raise InputError("jwks", "give a JWK Set or its URL, not both or neither",
                             "a JWK Set (JSON with keys) or an https URL")
        if jwks is not None and not (isinstance(jwks, dict) and isinstance(jwks.get("keys"),
                                                                           list)):
            raise InputError("jwks", "not a JWK Set", 'a JSON object {"keys": [...]}')

        def work(session: Session) -> CdsClient:
            row = session.scalar(select(CdsClientRow).where(CdsClientRow.issuer == issuer))
            if row is None:
                row = CdsClientRow(issuer=issuer, added_at=validate.now())
                session.add(row)
            row.jwks, row.jwks_url = jwks, jwks_url
            session.flush()
            return _client(row)

        return self.db.write(work)

    def clients(self) -> list[CdsClient]:
        return self.db.read(lambda s: [_client(r) for r in s.scalars(
            select(CdsClientRow).order_by(CdsClientRow.issuer))])

    def client(self, issuer: str) -> CdsClient | None:
        return self.db.read(lambda s: next((_client(r) for r in s.scalars(
            select(CdsClientRow).where(CdsClientRow.issuer == issuer))), None))

    def remove_client(self, issuer: str) -> None:
        def work(session: Session) -> None:
            gone = session.execute(delete(CdsClientRow).where(CdsClientRow.issuer == issuer))
            if not gone.rowcount:
                raise NotFoundError("CDS client", issuer)

        self.db.write(work)

    # --- calls: the token's id, and what the call sent or received, in one transaction ------
    def _accept_token(self, session: Session, token: SeenToken) -> bool:
        """Record a JWT id; False when it was already accepted (a replay). Expired ids are
        dropped as it goes."""
        dialect = postgresql if self.db.dialect == "postgresql" else sqlite
        session.execute(delete(CdsSeenTokenRow).where(CdsSeenTokenRow.expires_at
                                                      < validate.now()))
        added = session.execute(dialect.insert(CdsSeenTokenRow).values(
            issuer=token.issuer[:500], jti=token.jti[:200], expires_at=token.expires_at
        ).on_conflict_do_nothing().returning(CdsSeenTokenRow.jti))
        return added.first() is not None  # no row back: the id was there already

    def record_call(self, token: SeenToken, *, service: str,
                    cards: list[tuple[str, str]]) -> bool:
        """Accept the call's token once and remember the cards it answered as (uuid, kind);
        False, with nothing written, when the token was used before."""
        return self.db.write(self._call_work(token, service, cards))

    async def record_call_async(self, token: SeenToken, *, service: str,
                                cards: list[tuple[str, str]]) -> bool:
        """``record_call`` for a coroutine (see ``Database.write_async``)."""
        return await self.db.write_async(self._call_work(token, service, cards))

    def _call_work(self, token: SeenToken, service: str,
                   cards: list[tuple[str, str]]) -> Any:
        dialect = postgresql if self.db.dialect == "postgresql" else sqlite
        now = validate.now()

        def work(session: Session) -> bool:
            if not self._accept_token(session, token):
                return False
            if cards:
                session.execute(dialect.insert(CdsCardRow).values([
                    {"uuid": card, "service": service, "kind": kind, "issued_at": now}
                    for card, kind in cards]).on_conflict_do_nothing())
            return True

        return work

    def add_feedback(self, token: SeenToken, *, service: str,
                     items: list[dict[str, Any]]) -> bool:
        """Accept the call's token once and store its feedback items (checked by the web
        layer); False when the token was used before. A card this server never sent is a
        NotFoundError, and nothing is written."""
        now = validate.now()

        def work(session: Session) -> bool:
            known = set(session.scalars(select(CdsCardRow.uuid).where(
                CdsCardRow.uuid.in_([i["card"] for i in items]))))
            for item in items:
                if item["card"] not in known:
                    raise NotFoundError("card", item["card"])
            if not self._accept_token(session, token):
                return False
            for item in items:
                session.add(CdsFeedbackRow(
                    card_uuid=item["card"], service=service, outcome=item["outcome"],
                    override_reason=item.get("override_reason"),
                    outcome_at=item["outcome_at"], received_at=now))
            return True

        return self.db.write(work)

    def rates(self) -> list[CardRates]:
        def work(session: Session) -> list[CardRates]:
            sent = dict(session.execute(select(CdsCardRow.kind, func.count()).group_by(
                CdsCardRow.kind)).all())
            rows = session.execute(
                select(CdsCardRow.kind, CdsFeedbackRow.outcome,
                       func.count(func.distinct(CdsFeedbackRow.card_uuid)))
                .join(CdsCardRow, CdsCardRow.uuid == CdsFeedbackRow.card_uuid)
                .group_by(CdsCardRow.kind, CdsFeedbackRow.outcome)).all()
            done = {(kind, outcome): n for kind, outcome, n in rows}
            return [CardRates(kind=k, cards=sent.get(k, 0),
                              accepted=done.get((k, "accepted"), 0),
                              overridden=done.get((k, "overridden"), 0)) for k in KINDS]

        return self.db.read(work)
