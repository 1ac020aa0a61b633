"""Two independent, specification-generated validators for the FHIR resources backmice emits.

- ``fhirclient.models`` (SMART on FHIR), generated from FHIR 4.0.1 (R4) itself, strict: unknown
  elements, wrong types and missing required elements are errors.
- ``fhir.resources.R4B`` (pydantic), generated from FHIR 4.3.0 (R4B). The resources backmice
  emits (Bundle, Patient, BodyStructure, Observation, RiskAssessment, ClinicalImpression,
  ServiceRequest, DetectedIssue, Questionnaire, QuestionnaireResponse, OperationOutcome,
  CapabilityStatement) have the same elements in R4 and R4B for every element used here, so a
  resource must pass both; docs/fhir.md lists the differences checked.
"""

from __future__ import annotations

import importlib
from typing import Any

from fhir.resources.R4B import get_fhir_model_class


def _r4_class(kind: str) -> Any:
    module = importlib.import_module(f"fhirclient.models.{kind.lower()}")
    return getattr(module, kind)


def validate(resource: dict[str, Any]) -> None:
    """Raise if ``resource`` is not valid R4 (fhirclient) and R4B (fhir.resources)."""
    kind = resource["resourceType"]
    _r4_class(kind)(jsondict=resource, strict=True)
    get_fhir_model_class(kind).model_validate(resource)
    for entry in resource.get("entry", []) if kind == "Bundle" else []:
        validate(entry["resource"])
    for inner in resource.get("contained", []):
        validate(inner)
