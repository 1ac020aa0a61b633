"""Query options read by hand, for the busiest route (POST /api/v1/assess).

FastAPI validates each declared query parameter on every request, about 10 µs each even when
the query string is empty. A route that reads its options here instead gets the same values and
the same errors (a RequestValidationError located at ``("query", name)``, as FastAPI raises it)
and documents them with ``query_parameters``: the entries FastAPI would write, up to key order.
"""

from __future__ import annotations

from typing import Any, TypeVar

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

Options = TypeVar("Options", bound=BaseModel)


def read_query(model: type[Options], request: Request) -> Options:
    """The query string as ``model`` (its defaults when there is none); unknown names ignored."""
    if not request.scope.get("query_string"):
        return model()
    params = request.query_params  # a repeated name: its last value, as FastAPI takes it
    try:
        return model.model_validate({name: params[name] for name in model.model_fields
                                     if name in params})
    except ValidationError as exc:
        raise RequestValidationError(
            [{**err, "loc": ("query", *err["loc"])} for err in exc.errors()]) from None


def query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    """The OpenAPI ``parameters`` of ``model``'s fields as optional query parameters."""
    properties = model.model_json_schema()["properties"]
    return [{"name": name, "in": "query", "required": False, "schema": schema,
             **({"description": schema["description"]} if "description" in schema else {})}
            for name, schema in properties.items()]
