"""backmice: clinical decision support for painful lumps of the lower back and hip ("back mice").

The public API: load the knowledge base, assess findings, read cases.

    >>> from backmice import assess, default_kb, parse_findings
    >>> result = assess(default_kb(), parse_findings({"location": "iliac_crest", "tender": True}))
    >>> result.differential[0].probability > 0
    True
"""

from backmice.engine import ENGINE_VERSION, assess, assess_patient
from backmice.errors import BackmiceError, CaseFormatError, InputError, KnowledgeBaseError
from backmice.findings import FINDINGS, FindingSet, LumpInput, PatientInput, parse_findings
from backmice.interop.cases import read_case, read_document
from backmice.kb.base import KnowledgeBase
from backmice.kb.loader import default_kb, load_kb
from backmice.results import Assessment, PatientAssessment

__version__ = "0.1.0"

__all__ = [
    "ENGINE_VERSION",
    "FINDINGS",
    "Assessment",
    "BackmiceError",
    "CaseFormatError",
    "FindingSet",
    "InputError",
    "KnowledgeBase",
    "KnowledgeBaseError",
    "LumpInput",
    "PatientAssessment",
    "PatientInput",
    "__version__",
    "assess",
    "assess_patient",
    "default_kb",
    "load_kb",
    "parse_findings",
    "read_case",
    "read_document",
]
