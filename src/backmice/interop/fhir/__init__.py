"""FHIR R4 (4.0.1) mappings, pure: a FHIR input read into backmice's native patient document,
an assessment written as FHIR resources, and the interview as an SDC Questionnaire. Resources
are plain JSON-ready dicts; the web adapter serves them and the tests validate them against the
``fhir.resources`` models."""

from backmice.interop.fhir.reading import FhirInput, read_fhir
from backmice.interop.fhir.writing import assessment_bundle, operation_outcome

__all__ = ["FhirInput", "assessment_bundle", "operation_outcome", "read_fhir"]
