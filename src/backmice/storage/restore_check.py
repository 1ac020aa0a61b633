"""The rules a restored row must meet: the same as the API's when the row was written.

``check_row(table, row)`` takes one row as read from a backup line (JSON values: dates and times
as ISO text) and raises InputError naming the column and what is allowed. First the column's own
type (text length, no NUL or unpaired surrogate, whole numbers within the 32-bit range, finite
numbers, dates from 1900, I-JSON documents); then the record's rules, through the very functions
the API's writes use (``patient_values``, ``lesion_values``, ``procedure_values``,
``outcome_values``, ...), so a pain of 99 is refused on restore as it is in a request.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy import JSON, Boolean, Date, DateTime, Float, Integer, String, Text
from sqlalchemy.sql.schema import Table

from backmice import strict_json
from backmice.errors import InputError
from backmice.followup.alerts import ALERT_KEY
from backmice.followup.vocab import (
    COMPLICATIONS,
    CORRECTION_ACTIONS,
    CORRECTION_TARGETS,
    REFERRAL_DAYS,
    REFERRAL_OUTCOMES,
    REFERRAL_STATUSES,
    ROLES,
)
from backmice.storage import validate
from backmice.storage.patients import lesion_values, patient_values
from backmice.storage.records import FEEDBACK_KINDS, FEEDBACK_STATUSES
from backmice.storage.visits import outcome_values, procedure_values

TEXT_LIMIT = 1_000_000
INT32 = 2**31 - 1


def _column(table: Table, name: str, value: Any) -> None:
    column = table.columns[name]
    kind = column.type
    if value is None:
        if not column.nullable:
            raise InputError(name, "is missing (null)", "a value: this column is required")
        return
    if isinstance(kind, String | Text):
        limit = getattr(kind, "length", None) or TEXT_LIMIT
        if not isinstance(value, str):
            raise InputError(name, f"expected text, got {type(value).__name__}", "text")
        if len(value) > limit:
            raise InputError(name, f"is {len(value)} characters long", f"at most {limit}")
        found = strict_json.problem(value, where=name)
        if found:
            raise InputError(name, found[1], "valid Unicode text without NUL")
    elif isinstance(kind, Boolean):
        if not isinstance(value, bool):
            raise InputError(name, f"expected true or false, got {value!r}"[:120],
                             "true or false")
    elif isinstance(kind, Integer):
        if isinstance(value, bool) or not isinstance(value, int) or not -INT32 <= value <= INT32:
            raise InputError(name, f"expected a whole number, got {value!r}"[:120],
                             f"a whole number within ±{INT32}")
    elif isinstance(kind, Float):
        validate.number(name, value, -1e300, 1e300)
    elif isinstance(kind, DateTime):
        try:
            dt.datetime.fromisoformat(value)
        except (TypeError, ValueError):
            raise InputError(name, f"cannot read {value!r} as a time"[:120],
                             "an ISO 8601 date and time") from None
    elif isinstance(kind, Date):
        validate.day(name, value, not_future=False)
    elif isinstance(kind, JSON):
        found = strict_json.problem(value, where=name)
        if found:
            raise InputError(found[0], found[1], strict_json.ALLOWED)
        if not isinstance(value, dict):
            raise InputError(name, "expected a JSON object", "a JSON object")


def _pick(row: dict[str, Any], *names: str) -> dict[str, Any]:
    return {n: row[n] for n in names if n in row}


def _patient(row: dict[str, Any]) -> None:
    patient_values(_pick(row, "display_name", "local_id", "birth_date", "sex", "notes"))
    if not row.get("display_name") and not row.get("local_id"):
        raise InputError("display_name", "a patient needs a display name or a local "
                         "identifier", "a name (or a local identifier)")


def _lesion(row: dict[str, Any]) -> None:
    data = _pick(row, "label", "region", "side", "x", "y", "status", "nodule_count")
    lesion_values({**data, "size_cm": row.get("first_size_cm")})


def _procedure(row: dict[str, Any]) -> None:
    procedure_values(_pick(row, "lesion_id", "kind", "performed_on", "pain_before", "pain_after",
                           "minutes_after", "with_steroid", "histopathology", "notes"))


def _outcome(row: dict[str, Any]) -> None:
    outcome_values(_pick(row, "lesion_id", "measured_on", "pain", "odi", "satisfaction",
                         "notes"))
    _version(row)


def _complication(row: dict[str, Any]) -> None:
    validate.choice("kind", row.get("kind"), COMPLICATIONS)


def _feedback(row: dict[str, Any]) -> None:
    validate.choice("kind", row.get("kind"), FEEDBACK_KINDS)
    validate.choice("status", row.get("status"), FEEDBACK_STATUSES)


def _user(row: dict[str, Any]) -> None:
    roles = str(row.get("roles") or "").split()
    if not roles:
        raise InputError("roles", "a user needs at least one role", ", ".join(ROLES))
    for role in roles:
        validate.choice("roles", role, ROLES)
    validate.number("failed_logins", row.get("failed_logins"), 0, 10**6, whole=True)


def _version(row: dict[str, Any]) -> None:
    validate.number("version", row.get("version"), 1, INT32, whole=True, required=True)


def _alert_review(row: dict[str, Any]) -> None:
    if not ALERT_KEY.fullmatch(str(row.get("alert_key"))):
        raise InputError("alert_key", f"{str(row.get('alert_key'))[:60]!r} is not an alert key",
                         "complication:<id> or triage:<encounter id>:<lesion id>")
    validate.text("reviewed_by", row.get("reviewed_by"), 64, required=True)


def _referral(row: dict[str, Any]) -> None:
    validate.choice("triage", row.get("triage"), tuple(REFERRAL_DAYS))
    status = validate.choice("status", row.get("status"), REFERRAL_STATUSES)
    opened = validate.day("opened_on", row.get("opened_on"), not_future=False)
    due = validate.day("due_on", row.get("due_on"), not_future=False)
    if due < opened:
        raise InputError("due_on", "is before the referral was opened", "a date from opened_on")
    if status == "done":
        validate.choice("done_how", row.get("done_how"), REFERRAL_OUTCOMES)
        validate.day("done_on", row.get("done_on"), not_future=False)
    _version(row)


def _correction(row: dict[str, Any]) -> None:
    validate.choice("action", row.get("action"), CORRECTION_ACTIONS)
    kind, _, key = str(row.get("target")).partition(":")
    if kind not in CORRECTION_TARGETS or not key.isdigit():
        raise InputError("target", f"{str(row.get('target'))[:60]!r} is not a corrected entry",
                         "encounter:<id>, procedure:<id> or outcome:<id>")
    validate.text("reason", row.get("reason"), 2000, required=True)


RECORD_RULES: dict[str, Callable[[dict[str, Any]], None]] = {
    "patient": _patient, "lesion": _lesion, "procedure": _procedure, "outcome": _outcome,
    "complication": _complication, "feedback": _feedback, "app_user": _user,
    "alert_review": _alert_review, "referral": _referral, "record_correction": _correction,
    "encounter": _version,
}


def check_row(table: Table, row: Any) -> None:
    """InputError (column, reason, what is allowed) when ``row`` breaks a rule of ``table``."""
    if not isinstance(row, dict):
        raise InputError("(row)", "expected an object of columns", "one JSON object per row")
    unknown = sorted(set(row) - set(table.columns.keys()))
    if unknown:
        raise InputError(str(unknown[0])[:60], "is not a column of this table",
                         ", ".join(table.columns.keys()))
    for column in table.columns:
        _column(table, column.name, row.get(column.name))
    rule = RECORD_RULES.get(table.name)
    if rule is not None:
        rule(row)
