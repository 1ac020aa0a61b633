"""FHIR R4 endpoints under /fhir: the CapabilityStatement, the interview Questionnaire and the
``$assess`` operation. Mappings live in :mod:`backmice.interop.fhir`; this folder only serves
them."""
