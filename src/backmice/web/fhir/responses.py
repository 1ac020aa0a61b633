"""FHIR answers: resources as ``application/fhir+json``, every error as an OperationOutcome
that names the FHIR element."""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse

from backmice.interop.fhir import operation_outcome
from backmice.web.fhir.capability import MEDIA_TYPE

# HTTP status -> OperationOutcome.issue.code
ISSUE_CODES = {400: "invalid", 404: "not-found", 413: "too-costly", 415: "not-supported",
               422: "invalid"}


def fhir_response(resource: dict[str, Any], status: int = 200) -> JSONResponse:
    return JSONResponse(resource, status_code=status, media_type=MEDIA_TYPE)


def outcome_response(status: int, text: str, path: str | None = None) -> JSONResponse:
    issue = {"code": ISSUE_CODES.get(status, "processing"), "text": text}
    if path:
        issue["path"] = path
    return fhir_response(operation_outcome([issue]), status)
