"""The JSON document of an assessment: the stable output of ``backmice assess --format json``.

The document is the PatientAssessment dataclass serialised by pydantic, wrapped with a format
name and version. Its JSON Schema (``json_schema()``) is published by ``backmice schema
assessment``; a change that breaks a consumer bumps FORMAT_VERSION.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from pydantic import TypeAdapter

from backmice.results import PatientAssessment

FORMAT = "backmice.assessment"
FORMAT_VERSION = 1


# The document's first two members as json.dumps writes them (with its spaces: the published
# bytes), ready to be followed by the result's own members.
_HEAD = json.dumps({"format": FORMAT, "format_version": FORMAT_VERSION}).encode()[:-1] + b","


@functools.cache
def _adapter() -> TypeAdapter[PatientAssessment]:
    return TypeAdapter(PatientAssessment)


def to_data(result: PatientAssessment) -> dict[str, Any]:
    body = _adapter().dump_python(result, mode="json")
    return {"format": FORMAT, "format_version": FORMAT_VERSION, **body}


def to_json_bytes(result: PatientAssessment) -> bytes:
    """The same document as ``to_data``, compact, serialised by pydantic's core in one pass."""
    body = _adapter().dump_json(result)
    return b"".join((_HEAD, memoryview(body)[1:]))  # one copy of the body, not two


def to_json(result: PatientAssessment, *, indent: int | None = 2) -> str:
    return json.dumps(to_data(result), indent=indent, ensure_ascii=False)


def json_schema() -> dict[str, Any]:
    schema = _adapter().json_schema(mode="serialization")
    schema["title"] = "backmice assessment"
    schema.setdefault("properties", {})
    schema["properties"] = {"format": {"const": FORMAT},
                            "format_version": {"const": FORMAT_VERSION},
                            **schema["properties"]}
    schema.setdefault("required", [])
    schema["required"] = ["format", "format_version", *schema["required"]]
    return schema


def from_data(document: dict[str, Any]) -> PatientAssessment:
    """Rebuild the result from its document (a saved assessment is shown exactly as it was)."""
    body = {k: v for k, v in document.items() if k not in ("format", "format_version")}
    return _adapter().validate_python(body)
