"""Checks on every value before it is written, shared by the repositories.

Each raises InputError naming the field and what is allowed, so a bad value is refused before
any row is touched. Text is refused the same way on both backends (PostgreSQL rejects NUL
characters and unpaired surrogates; SQLite would store them).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from typing import Any

from backmice.errors import InputError


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def aware(moment: dt.datetime | None) -> dt.datetime | None:
    """SQLite returns naive datetimes; every stored time is UTC."""
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=dt.UTC)
    return moment


# Characters Python's str.strip() removes but JSON Schema's (ECMAScript's) \s does not count
# as white space: text holding one is not blank, so that the API's schema and this agree.
NOT_BLANK_SEPARATORS = frozenset("\x1c\x1d\x1e\x1f\x85")


def is_blank(value: str) -> bool:
    """Only white space (as both Python and JSON Schema patterns see it), or empty."""
    return not value.strip() and NOT_BLANK_SEPARATORS.isdisjoint(value)


def text(field: str, value: Any, limit: int, *, required: bool = False) -> str | None:
    """Optional text of at most ``limit`` characters; blank counts as absent unless required."""
    if value is not None and not isinstance(value, str):
        raise InputError(field, "expected text", f"text of at most {limit} characters")
    if value is None or is_blank(value):
        if required:
            raise InputError(field, "is required" if value is None else "is empty",
                             f"text of 1 to {limit} characters")
        return None
    if len(value) > limit:
        raise InputError(field, f"is {len(value)} characters long", f"at most {limit} characters")
    if "\x00" in value:
        raise InputError(field, "contains a NUL character", "printable text")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InputError(field, "contains an unpaired surrogate", "valid Unicode text") from None
    return value


def choice(field: str, value: Any, allowed: Sequence[str], *, required: bool = True) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or value not in allowed:
        raise InputError(field, f"unknown value {value!r}", ", ".join(allowed))
    return value


def number(field: str, value: Any, low: float, high: float, *, whole: bool = False,
           required: bool = False) -> float | int | None:
    kind = "a whole number" if whole else "a number"
    if value is None:
        if required:
            raise InputError(field, "is required", f"{kind} from {low:g} to {high:g}")
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or (
            whole and not float(value).is_integer()):
        raise InputError(field, f"expected {kind}, got {value!r}"[:120],
                         f"{kind} from {low:g} to {high:g}")
    if not math.isfinite(value) or not low <= value <= high:
        raise InputError(field, f"{value!r} is out of range", f"{kind} from {low:g} to {high:g}")
    return int(value) if whole else float(value)


def day(field: str, value: Any, *, required: bool = True, not_future: bool = True,
        today: dt.date | None = None) -> dt.date | None:
    """A calendar date (a date, or ISO text YYYY-MM-DD) from 1900 on, not after today."""
    allowed = "a date YYYY-MM-DD from 1900-01-01" + (" up to today" if not_future else "")
    if value is None or value == "":
        if required:
            raise InputError(field, "is required", allowed)
        return None
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value)
        except ValueError:
            raise InputError(field, f"cannot read {value[:40]!r} as a date", allowed) from None
    if not isinstance(value, dt.date):
        raise InputError(field, f"expected a date, got {value!r}"[:120], allowed)
    limit = today or dt.date.today() + dt.timedelta(days=1)  # a day of slack for time zones
    if value.year < 1900 or (not_future and value > limit):
        raise InputError(field, f"{value.isoformat()} is out of range", allowed)
    return value


def flag(field: str, value: Any) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise InputError(field, f"expected true or false, got {value!r}"[:120], "true, false or null")


def is_record_id(value: Any) -> bool:
    """A value that can be a row id (a positive 32-bit whole number, not a bool)."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**31


def record_id(field: str, value: Any) -> int:
    if not is_record_id(value):
        raise InputError(field, f"expected a record id, got {value!r}"[:120],
                         "a positive whole number")
    return value
