"""Adapters between outside formats (case files, FHIR, CDS Hooks) and the domain types."""
