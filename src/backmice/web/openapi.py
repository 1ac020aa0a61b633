"""The OpenAPI document at /api/v1/openapi.json, made to say exactly what the server answers.

FastAPI's document is built from the routes, then completed in one place:
- every error answer a route can give is documented with the one error shape (``ErrorOut``):
  404 everywhere, 413 and 415 where a body is read, 422 (malformed JSON included: the edge
  answers it, never the framework's 400), 409 where a well-formed request can conflict with
  what is stored (``CONFLICTS``: a stale version, a lesion of another patient, a date before
  its procedure, the last admin, a name in use), 429 for the writes anonymous callers are
  rate-limited on; FastAPI's own ``HTTPValidationError`` shape, which the server never sends,
  is dropped. 422 means the request itself is wrong, whatever is stored, so every request the
  schema allows is answered 2xx, or 404 / 409 when the record refuses it;
- the findings of a recorded visit have the schemas of the patient document (``visit``):
  patient-level ones in ``patient``, a lesion's own in its lump's ``findings``, later tests
  in ``later_tests``; the interview's ``answers`` take every finding, and ``dont_know`` says
  in the schema that a finding answered is not also "don't know";
- values checked against the knowledge base are enums: every ``setting`` (the care settings of
  the knowledge base) and the ``page`` of feedback (the pages that take it);
- every date says the range the server accepts (``validate.day``: 1900-01-01 up to tomorrow,
  a day of slack for time zones) as a pattern of exactly the valid dates in it;
- the rules of the edge (``strict_json``) are in every request schema: text has no NUL and no
  unpaired surrogate (a pattern), numbers lie within ±(2**53 - 1), and a free-form JSON value
  (the ``findings`` of a lump, interview ``answers``) is ``IJsonValue``, which says the same;
  the knowledge base's input schema keeps its ``$defs`` under ``components/schemas``, where the
  references of an OpenAPI document point;
- the CSV export's ``text/csv``.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from backmice.strict_json import MAX_SAFE_INTEGER
from backmice.web.records_models import HAS_TEXT

ERROR_REF = {"$ref": "#/components/schemas/ErrorOut"}
STALE = "changed by someone else since you read it (send the version you read)"
# Every operation that can answer 409, and why: a well-formed request that what is stored
# refuses (StateConflictError, ConflictError); the body names the field and what is allowed.
CONFLICTS = {
    "PATCH /api/v1/patients/{patient_id}": STALE + "; or the change would leave the patient "
        "with neither a display name nor a local identifier (field display_name)",
    "DELETE /api/v1/patients/{patient_id}": STALE,
    "PATCH /api/v1/lesions/{lesion_id}": STALE,
    "PATCH /api/v1/procedures/{procedure_id}": STALE + "; or a histopathology result for a "
        "procedure that is not an excision (field histopathology)",
    "POST /api/v1/patients/{patient_id}/encounters": "a lump names a lesion that is not one "
        "of this patient's (field lumps.<i>.lesion_id; allowed lists the patient's lesions)",
    "POST /api/v1/patients/{patient_id}/procedures": "lesion_id names a lesion that is not one "
        "of this patient's (allowed lists the patient's lesions)",
    "POST /api/v1/patients/{patient_id}/outcomes": "lesion_id names a lesion that is not one "
        "of this patient's (allowed lists the patient's lesions)",
    "POST /api/v1/procedures/{procedure_id}/complications": "noted_on is before the day of "
        "the procedure (allowed names that day)",
    "POST /api/v1/users": "the user name is already in use (code in_use)",
    "PATCH /api/v1/users/{user_id}": "the change would remove your own admin role or disable "
        "you, or leave no active admin (field roles or active)",
    "POST /api/v1/me/password": "current_password is not your current password (it counts "
        "towards the lock-out), or new_password is the password you have now",
    "POST /api/v1/patients/{patient_id}/alerts/review": "key names no alert of this patient "
        "(field alert), or the alert was already reviewed (code in_use)",
    "PATCH /api/v1/encounters/{encounter_id}": STALE,
    "PATCH /api/v1/outcomes/{outcome_id}": STALE + "; or lesion_id names a lesion that is not "
        "one of this patient's",
    "POST /api/v1/encounters/{encounter_id}/delete": STALE,
    "POST /api/v1/procedures/{procedure_id}/delete": STALE,
    "POST /api/v1/outcomes/{outcome_id}/delete": STALE,
    "POST /api/v1/referrals/{referral_id}/done": STALE + "; or the referral is already done "
        "(code in_use), or done_on is before the day the referral opened",
}
DESCRIPTIONS = {
    401: "not logged in / no valid token",
    403: "logged in without the needed role",
    404: "not found (or another clinic's record)",
    409: "conflicts with what is stored",
    413: "the body or the document it makes is larger than the limit",
    415: "the body was sent with a Content-Type other than application/json",
    422: "invalid input, malformed JSON included: the field and what is allowed",
    429: "too many anonymous writes from this address: wait the Retry-After seconds",
}
BODY_METHODS = ("post", "put", "patch")
TEXT = r"^[^\x00\ud800-\udfff]*$"  # no NUL, no unpaired surrogate
# Required text is not blank (storage.validate.is_blank): at least one character that is not
# white space, or one of the separators \x1c-\x1f and \x85, which Python's \s counts as white
# space and ECMAScript's does not (storage takes them as text, so either reading agrees).
NON_BLANK = (r"^[^\x00\ud800-\udfff]*(?:[^\s\x00\ud800-\udfff]|[\x1c-\x1f\x85])"
             r"[^\x00\ud800-\udfff]*$")
ANY_REF = {"$ref": "#/components/schemas/IJsonValue"}
IJSON_VALUE = {
    "description": "any JSON value under the rules of the edge (I-JSON): text without NUL or "
                   f"unpaired surrogates, numbers within ±{MAX_SAFE_INTEGER}, at most 32 levels "
                   "of nesting",
    "anyOf": [{"type": "string", "pattern": TEXT},
              {"type": "number", "minimum": -MAX_SAFE_INTEGER, "maximum": MAX_SAFE_INTEGER},
              {"type": "boolean"}, {"type": "null"},
              {"type": "array", "items": ANY_REF},
              {"type": "object", "propertyNames": {"pattern": TEXT},
               "additionalProperties": ANY_REF}]}
SHAPE_WORDS = ("type", "$ref", "anyOf", "oneOf", "allOf", "enum", "const", "not", "if")


_DAYS = {31: r"(?:0[1-9]|[12]\d|3[01])", 30: r"(?:0[1-9]|[12]\d|30)", 28: r"(?:0[1-9]|1\d|2[0-8])"}


def _month(month: int, last_day: int | None = None) -> str:
    """``MM-DD`` for the days of ``month`` (28 for February; 29 is added per leap year), up to
    ``last_day`` when given."""
    days = {2: 28, 4: 30, 6: 30, 9: 30, 11: 30}.get(month, 31)
    if last_day is None or last_day >= days:
        return f"{month:02d}-{_DAYS[days]}"
    return f"{month:02d}-(?:" + "|".join(f"{d:02d}" for d in range(1, last_day + 1)) + ")"


def date_pattern(first_year: int, last: dt.date) -> str:
    """A regular expression matching exactly the valid ISO dates from January 1 of
    ``first_year`` to ``last``."""
    whole = "|".join(_month(m) for m in range(1, 13))
    parts = [f"(?:{'|'.join(str(y) for y in range(first_year, last.year))})-(?:{whole})"]
    leap = [y for y in range(first_year, last.year + 1) if calendar.isleap(y)
            and dt.date(y, 2, 29) <= last]
    if leap:
        parts.append(f"(?:{'|'.join(str(y) for y in leap)})-02-29")
    months = [_month(m) for m in range(1, last.month)] + [_month(last.month, last.day)]
    parts.append(f"{last.year}-(?:{'|'.join(months)})")
    return "^(?:" + "|".join(parts) + ")$"


def _types(schema: dict[str, Any]) -> set[str]:
    kind = schema.get("type")
    return set(kind) if isinstance(kind, list) else {kind} if kind else set()


def _tighten(schema: Any) -> None:
    """Write the edge's rules into one request schema and every schema inside it."""
    if not isinstance(schema, dict):
        return
    if schema.get("propertyNames") is not None or schema is IJSON_VALUE:
        return
    if not any(word in schema for word in SHAPE_WORDS):
        schema.update(ANY_REF)  # a free-form value: say what the edge accepts in it
        return
    kinds = _types(schema)
    if "string" in kinds and "enum" not in schema and "format" not in schema:
        required_text = schema.get("pattern") == HAS_TEXT or (
            schema.get("minLength", 0) >= 1 and "pattern" not in schema)
        schema["pattern"] = NON_BLANK if required_text else schema.get("pattern", TEXT)
    if kinds & {"number", "integer"}:
        schema.setdefault("maximum", MAX_SAFE_INTEGER)
        schema.setdefault("minimum", -MAX_SAFE_INTEGER)
    if "object" in kinds:
        extra = schema.get("additionalProperties")
        if extra is True or extra == {} or extra is None:  # unknown keys: any I-JSON value
            schema["additionalProperties"] = dict(ANY_REF)
            schema["propertyNames"] = {"pattern": TEXT}
        elif isinstance(extra, dict):
            schema["propertyNames"] = {"pattern": TEXT}
            _tighten(extra)
    for inner in (schema.get("properties") or {}).values():
        _tighten(inner)
    for word in ("items", "not", "if", "then", "else"):
        _tighten(schema.get(word))
    for word in ("anyOf", "oneOf", "allOf"):
        for inner in schema.get(word) or ():
            _tighten(inner)


def _hoist_defs(schema: dict[str, Any], schemas: dict[str, Any]) -> None:
    """Move every ``$defs`` inside ``schema`` to ``components/schemas`` (as ``Input_<name>``),
    rewriting the references to them."""
    for node in list(_walk(schema)):
        for name, inner in (node.pop("$defs", None) or {}).items():
            schemas[f"Input_{name}"] = inner
    for node in _walk(schema):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            node["$ref"] = "#/components/schemas/Input_" + ref.removeprefix("#/$defs/")


def _operations(doc: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in doc.get("paths", {}).items():
        for method, operation in item.items():
            if isinstance(operation, dict) and "responses" in operation:
                yield path, method, operation


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            yield item
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _enum(schema: dict[str, Any], values: list[str]) -> None:
    nullable = any(s.get("type") == "null" for s in schema.get("anyOf", ())) or \
        schema.get("type") == ["string", "null"]
    for key in ("anyOf", "type", "maxLength", "minLength"):
        schema.pop(key, None)
    schema["enum"] = [*values, None] if nullable else list(values)


REQUEST_MODELS = {"ComplicationIn", "EncounterIn", "FeedbackIn", "FeedbackStatusIn",
                  "InterviewStepIn", "LesionIn", "LesionPatch", "LumpIn", "OutcomeIn",
                  "PatientIn", "PatientPatch", "ProcedureIn", "ProcedurePatch", "TokenIn",
                  "UserIn", "UserPatch"}


def complete(doc: dict[str, Any], *, settings: list[str], feedback_pages: list[str],
             anonymous_writes: set[str], answers: dict[str, Any] | None = None,
             visit: dict[str, dict[str, Any]] | None = None,
             today: dt.date | None = None) -> dict[str, Any]:
    """``doc`` completed as the module docstring says (changed in place and returned)."""
    pattern = date_pattern(1900, (today or dt.date.today()) + dt.timedelta(days=1))
    for node in _walk(doc):
        if node.get("format") == "date" and node.get("type") == "string":
            node["pattern"] = pattern
    for path, method, operation in _operations(doc):
        statuses = {404, 422}
        if method in BODY_METHODS:
            statuses |= {413, 415}
        conflict = CONFLICTS.get(f"{method.upper()} {path}")
        if conflict is not None:
            statuses.add(409)
            operation["responses"].setdefault("409", {})["description"] = (
                f"conflicts with what is stored: {conflict}")
        if f"{method.upper()} {path}" in anonymous_writes:
            statuses.add(429)
        responses = operation["responses"]
        if "401" in responses:
            statuses |= {401, 403}
        for status in sorted(statuses):
            entry = responses.setdefault(str(status), {})
            entry["description"] = entry.get("description") or DESCRIPTIONS[status]
            if entry["description"] in ("Validation Error", ""):
                entry["description"] = DESCRIPTIONS[status]
            entry["content"] = {"application/json": {"schema": ERROR_REF}}
        for parameter in operation.get("parameters", ()):
            if parameter.get("name") == "setting" and "schema" in parameter:
                _enum(parameter["schema"], settings)
        if path.endswith("/export") and "200" in responses:
            responses["200"]["content"] = {
                "application/json": {"schema": {"type": "object"}},
                "text/csv": {"schema": {"type": "string"}}}
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    if visit is not None and "EncounterIn" in schemas:  # patient, findings, later_tests
        _visit_places(schemas, visit)
    request_schemas: list[Any] = []
    for _, _, operation in _operations(doc):
        for parameter in operation.get("parameters", ()):
            request_schemas.append(parameter.get("schema"))
        for media in (operation.get("requestBody") or {}).get("content", {}).values():
            if isinstance(media.get("schema"), dict):
                _hoist_defs(media["schema"], schemas)
                request_schemas.append(media["schema"])
    request_schemas += [schema for name, schema in schemas.items()
                        if name.startswith("Input_") or name in REQUEST_MODELS]
    for schema in request_schemas:
        _tighten(schema)
    schemas["IJsonValue"] = IJSON_VALUE
    for schema in schemas.values():
        properties = schema.get("properties", {})
        if "setting" in properties:
            _enum(properties["setting"], settings)
    if "FeedbackIn" in schemas:
        _enum(schemas["FeedbackIn"]["properties"]["page"], feedback_pages)
    if answers is not None and "InterviewStepIn" in schemas:  # finding id -> its value set
        _interview_step(schemas["InterviewStepIn"], answers)
    return doc


def _visit_places(schemas: dict[str, Any], visit: dict[str, dict[str, Any]]) -> None:
    """A recorded visit's findings: the schemas of the patient document's three places."""
    encounter = schemas["EncounterIn"]["properties"]
    encounter["patient"] = {**visit["patient"],
                            "description": encounter["patient"].get("description", "")}
    lump = schemas["LumpIn"]["properties"]
    lump["findings"] = {**visit["findings"],
                        "description": visit["findings"].get("description", "")}
    lump["later_tests"] = {**visit["later_tests"],
                           "description": lump["later_tests"].get("description", "")}


def _interview_step(step_schema: dict[str, Any], answers: dict[str, Any]) -> None:
    """``answers``: every finding, each read on its own (no rule across findings, unlike a
    case); ``dont_know``: finding ids, and the one cross-field rule in the schema: a finding
    answered (not null) is not also in ``dont_know``."""
    step = step_schema["properties"]
    step["answers"] = {**{k: v for k, v in answers.items() if k not in ("if", "then")},
                       "description": step["answers"].get("description", "")}
    ids = sorted(answers["properties"])
    step["dont_know"]["items"] = {"enum": ids}
    step["dont_know"]["description"] = (
        "finding ids answered \"don't know\"; a finding is either answered (not null) or "
        "here, never both (422)")
    # one alternative per finding under one "not" (an allOf of one "not" per finding is beyond
    # the generator of schemathesis / hypothesis-jsonschema; this form it handles)
    step_schema["not"] = {"anyOf": [
        {"required": ["answers", "dont_know"], "properties": {
            "answers": {"required": [fid], "properties": {fid: {"not": {"type": "null"}}}},
            "dont_know": {"contains": {"const": fid}}}}
        for fid in ids]}


def install(app: FastAPI, *, settings: list[str], feedback_pages: list[str],
            anonymous_writes: set[str], answers: dict[str, Any] | None = None,
            visit: dict[str, dict[str, Any]] | None = None) -> None:
    """Serve the completed document (built once, on first request)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            doc = get_openapi(title=app.title, version=app.version,
                              description=app.description, routes=app.routes)
            app.openapi_schema = complete(doc, settings=settings,
                                          feedback_pages=feedback_pages,
                                          anonymous_writes=anonymous_writes,
                                          answers=answers, visit=visit)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
