"""The CapabilityStatement of /fhir: exactly what this server answers, and nothing more."""

from __future__ import annotations

from typing import Any

FHIR_VERSION = "4.0.1"
MEDIA_TYPE = "application/fhir+json"


def capability_statement(*, software_version: str, kb_version: str, date: str) -> dict[str, Any]:
    return {
        "resourceType": "CapabilityStatement", "status": "active", "date": date,
        "kind": "instance", "fhirVersion": FHIR_VERSION, "format": ["json"],
        "publisher": "backmice",
        "description": "backmice: clinical decision support for painful lumps of the lower "
                       f"back and hip (knowledge base {kb_version}). It supports, and does not "
                       "replace, a clinician's judgement.",
        "software": {"name": "backmice", "version": software_version},
        "implementation": {"description": "backmice FHIR endpoint"},
        "rest": [{
            "mode": "server",
            "resource": [{
                "type": "Questionnaire",
                "interaction": [{"code": "read"}],
                "operation": [{"name": "next-question",
                               "definition": "http://hl7.org/fhir/uv/sdc/OperationDefinition/"
                                             "Questionnaire-next-question"}],
            }],
            "operation": [{"name": "assess",
                           "definition": "https://backmice.org/fhir/OperationDefinition/assess",
                           "documentation": "Parameters or Bundle with a Patient, "
                                            "BodyStructures, Observations and "
                                            "DocumentReferences in; a Bundle of the "
                                            "assessment out (see docs/fhir.md)."}],
        }],
    }
