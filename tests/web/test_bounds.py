"""Every whole number a route reads has an upper bound, so no integer reaches the database
unchecked: huge offsets, versions and ids are answered 422, never 500 or 503 (both databases)."""

from __future__ import annotations

import typing

import annotated_types
from fastapi.routing import APIRoute
from pydantic import BaseModel

from backmice.web.errors import _leaf_routes

HUGE = "9223372036854775808"
VERY_HUGE = "9" * 400


def _unbounded(annotation, metadata, where):
    args = typing.get_args(annotation)
    kinds = [a for a in (args or (annotation,)) if a is not type(None)]
    found = []
    if int in kinds and not any(isinstance(m, annotated_types.Le | annotated_types.Lt)
                                for m in metadata):
        found.append(where)
    for kind in kinds:
        inner = [kind, *typing.get_args(kind)]
        for model in inner:
            if isinstance(model, type) and issubclass(model, BaseModel):
                for name, field in model.model_fields.items():
                    found += _unbounded(field.annotation, field.metadata, f"{where}.{name}")
    return found


def _params(dependant):
    yield from dependant.path_params + dependant.query_params + dependant.body_params
    for inner in dependant.dependencies:
        yield from _params(inner)


def test_every_integer_parameter_has_an_upper_bound(web_app):
    unbounded = [f"{sorted(route.methods)} {route.path}: {where}"
                 for route in _leaf_routes(web_app.router.routes) if isinstance(route, APIRoute)
                 for p in _params(route.dependant)
                 for where in _unbounded(p.field_info.annotation, p.field_info.metadata,
                                         p.name)]
    assert unbounded == []


def test_huge_offsets_versions_and_ids_are_422(bearer, login_as):
    admin = bearer("admin", "clinician")
    assert admin.get(f"/api/v1/audit?offset={HUGE}").status_code == 422
    assert admin.get(f"/api/v1/patients?offset={HUGE}").status_code == 422
    patient = admin.post("/api/v1/patients", json={"display_name": "A"}).json()
    lesion = admin.post(f"/api/v1/patients/{patient['id']}/lesions",
                        json={"label": "L"}).json()
    procedure = admin.post(f"/api/v1/patients/{patient['id']}/procedures",
                           json={"kind": "excision", "lesion_id": lesion["id"],
                                 "performed_on": "2024-01-01"}).json()
    for path in (f"/patients/{patient['id']}", f"/lesions/{lesion['id']}",
                 f"/procedures/{procedure['id']}"):
        for version in (VERY_HUGE, str(2**31), HUGE):
            answer = admin.patch("/api/v1" + path, content=f'{{"version": {version}}}',
                                 headers={"content-type": "application/json"})
            assert answer.status_code == 422, (path, version, answer.text)
            assert answer.json()["error"]["field"] == "version"
    assert admin.delete(f"/api/v1/patients/{patient['id']}?version={HUGE}").status_code == 422
    assert admin.get(f"/api/v1/patients/{HUGE}").status_code == 422
    browser = login_as("clinician")
    for page in (f"/patients/{HUGE}", f"/encounters/{HUGE}", f"/patients/{HUGE}/delete"):
        assert browser.get(page).status_code == 422
