"""What earlier procedures on a lesion tell its next assessment, as case-format later tests.

The anaesthetic test is the pain score just before and shortly after an injection into the
nodule (the case reader turns the two scores into relief or no relief with the knowledge base's
threshold and time window, so ``minutes_after`` travels with them); an excision's
histopathology settles the diagnosis. The most recent result of each kind counts.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from backmice.followup.records import Procedure
from backmice.followup.vocab import INJECTION_KINDS


def later_tests_for(lesion_id: int, procedures: Iterable[Procedure]) -> dict[str, Any]:
    """The later tests of ``lesion_id`` from its recorded procedures (empty when none)."""
    own = sorted((p for p in procedures if p.lesion_id == lesion_id),
                 key=lambda p: (p.performed_on, p.id))
    tests: dict[str, Any] = {}
    for p in own:
        if p.kind in INJECTION_KINDS and p.pain_before is not None and p.pain_after is not None:
            tests["injection_pain_before"] = p.pain_before
            tests["injection_pain_after"] = p.pain_after
            if p.minutes_after is not None:
                tests["minutes_after"] = p.minutes_after
            else:
                tests.pop("minutes_after", None)
        if p.kind == "excision" and p.histopathology:
            tests["histopathology_finding"] = p.histopathology
    return tests
