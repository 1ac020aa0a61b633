"""JSON as backmice accepts it at every door (the API, the interview state, a restored backup)
and writes it to storage: I-JSON (RFC 7493), no NUL character, nesting bounded.

I-JSON is JSON that every conforming parser reads the same way: text is valid Unicode (no
unpaired surrogate such as ``"\\ud800"``), numbers are finite (no ``NaN`` or ``Infinity``, which
Python's ``json`` reads and writes by default) and integers lie within ±(2**53 - 1). On top of
that: every number, whole or not, lies within ±(2**53 - 1) (no value of this domain comes
near, and a bound a JSON Schema can state cannot tell ``1e20`` from ``100000000000000000000``),
no NUL character in any text (PostgreSQL cannot store one) and at most ``MAX_DEPTH`` levels of
nesting. ``loads`` raises ``InputError`` naming the path of the first offending value
(``lumps.0.findings.size_cm``) and what is allowed; ``dumps`` refuses the same values with a
``ValueError`` before anything is written.

The common case costs one ``json.loads`` and two scans of the text: the value tree is walked
only when the text holds something suspect (an escape ``\\u``, a long run of digits, a large
exponent, ``NaN``/``Infinity``, or more brackets than ``MAX_DEPTH``).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from backmice.errors import InputError

MAX_DEPTH = 32
MAX_DOCUMENT_CHARS = 4_000_000  # a stored document; 50 lumps make about 1.3 million
MAX_SAFE_INTEGER = 2**53 - 1
ALLOWED = "a JSON document in UTF-8 (I-JSON, RFC 7493): text without NUL, numbers within " \
          f"±{MAX_SAFE_INTEGER}, at most {MAX_DEPTH} levels of nesting"
_SUSPECT = re.compile(r"\\u|\d{16}|[eE]\+?\d")
_SUSPECT_OUT = re.compile(r"\\u0000|(?<![\d.])\d{16,}|[eE]\+?\d")  # in dumps' own output


class Refused(ValueError):
    """``dumps`` met a value outside the rules; ``field`` and ``message`` name it;
    ``too_large`` when the only problem is the size."""

    def __init__(self, field: str, message: str, *, too_large: bool = False) -> None:
        super().__init__(f"{field}: {message}")
        self.field, self.message, self.too_large = field, message, too_large


class _NonFinite:
    """What ``NaN``, ``Infinity`` and ``-Infinity`` parse to, so the walk can name their path."""

    def __init__(self, word: str) -> None:
        self.word = word


def _join(path: str, key: Any) -> str:
    """``path.key``; a key that is empty, holds a dot or is not printable (a line break, a
    surrogate) is written as a JSON string, so a field path is always one readable line."""
    key = str(key)
    if not key or "." in key or not key.isprintable():
        key = json.dumps(key)
    return f"{path}.{key}" if path else key


def _text_problem(text: str) -> str | None:
    if "\x00" in text:
        return "contains a NUL character"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return f"contains an unpaired surrogate (\\u{ord(text[exc.start]):04x})"
    return None


def problem(value: Any, *, where: str = "") -> tuple[str, str] | None:
    """The first value outside the rules as ``(path, what is wrong)``, or None. Iterative, so
    depth alone cannot exhaust the stack."""
    stack: list[tuple[Any, str, int]] = [(value, where, 0)]
    while stack:
        item, path, depth = stack.pop()
        if isinstance(item, str):
            wrong = _text_problem(item)
            if wrong:
                return path or "(body)", wrong
        elif isinstance(item, bool) or item is None:
            continue
        elif isinstance(item, int):
            if abs(item) > MAX_SAFE_INTEGER:
                return path or "(body)", (f"a whole number of about {item.bit_length() * 3 // 10}"
                                          " digits is out of range")
        elif isinstance(item, float):
            if not math.isfinite(item):
                return path or "(body)", f"{item!r} is not a finite number"
            if abs(item) > MAX_SAFE_INTEGER:
                return path or "(body)", f"the number {item:g} is out of range"
        elif isinstance(item, _NonFinite):
            return path or "(body)", f"{item.word} is not a number JSON allows"
        elif isinstance(item, dict | list | tuple):
            if depth >= MAX_DEPTH:
                return path or "(body)", f"is nested more than {MAX_DEPTH} levels deep"
            if isinstance(item, dict):
                for key, inner in reversed(item.items()):
                    if not isinstance(key, str):
                        return path or "(body)", f"has a key {key!r} that is not text"
                    wrong = _text_problem(key)
                    if wrong:
                        return path or "(body)", f"has a key that {wrong}"
                    stack.append((inner, _join(path, key), depth + 1))
            else:
                stack.extend((inner, _join(path, i), depth + 1)
                             for i, inner in reversed(list(enumerate(item))))
        else:
            return path or "(body)", f"holds a {type(item).__name__}, not a JSON value"
    return None


def loads(data: bytes | str, *, where: str = "") -> Any:
    """Parse ``data`` under the rules above; InputError (field ``where`` or the path inside it,
    ``(body)`` at the top) when it breaks them."""
    top = where or "(body)"
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputError(top, f"is not UTF-8 text (byte {exc.start})", ALLOWED) from None
    if not data.strip():
        raise InputError(top, "is empty", ALLOWED)
    flagged = False

    def constant(word: str) -> _NonFinite:
        nonlocal flagged
        flagged = True
        return _NonFinite(word)

    try:
        value = json.loads(data, parse_constant=constant)
    except json.JSONDecodeError as exc:
        raise InputError(top, f"is not valid JSON: {exc.msg} at line {exc.lineno} column "
                              f"{exc.colno}", ALLOWED) from None
    except RecursionError:
        raise InputError(top, f"is nested more than {MAX_DEPTH} levels deep", ALLOWED) from None
    except ValueError:  # an integer of more than 4300 digits
        raise InputError(top, "holds a number with too many digits", ALLOWED) from None
    if (flagged or data.count("[") + data.count("{") > MAX_DEPTH
            or _SUSPECT.search(data) is not None):
        found = problem(value, where=where)
        if found is not None:
            raise InputError(found[0], found[1], ALLOWED)
    return value


def dumps(value: Any) -> str:
    """Compact JSON text of ``value``; ValueError for anything ``loads`` would refuse, so that
    nothing storage cannot read back (or move to the other database) is ever written."""
    try:
        text = json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        text.encode("utf-8")
        if _SUSPECT_OUT.search(text) is not None:
            found = problem(value)
            if found is not None:
                raise Refused(*found)
    except Refused:
        raise
    except (ValueError, TypeError) as exc:  # NaN, a surrogate, a value JSON cannot hold
        found = problem(value)
        raise (Refused(*found) if found else Refused("(document)", str(exc)[:200])) from None
    if len(text) > MAX_DOCUMENT_CHARS:
        raise Refused("(document)", f"is {len(text)} characters long, more than the "
                      f"{MAX_DOCUMENT_CHARS} a stored document may have", too_large=True)
    return text
