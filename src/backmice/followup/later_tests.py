"""What earlier procedures on a lesion tell its next assessment, as case-format later tests.

The anaesthetic test is the pain score just before and shortly after an injection into the
nodule (the case reader turns the two scores into relief or no relief with the knowledge base's
threshold and time window, so ``minutes_after`` travels with them); an excision's
histopathology settles the diagnosis. The most recent result of each kind counts, except that an
injection scored later than the knowledge base's window (``within_minutes``, passed in by the
caller: this layer does not read the knowledge base) is not the test and does not replace an
earlier one scored in time; it is passed on only when there is no such earlier one, so that the
reader's note says why it was not used.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from backmice.followup.records import Procedure
from backmice.followup.vocab import INJECTION_KINDS


def read_too_late(p: Procedure, within_minutes: float) -> bool:
    """True when the injection's second pain score was taken after the window in which relief
    is read (it is then not the anaesthetic test). An unknown time is not too late."""
    return p.minutes_after is not None and p.minutes_after > within_minutes


def later_tests_for(lesion_id: int, procedures: Iterable[Procedure], *,
                    within_minutes: float) -> dict[str, Any]:
    """The later tests of ``lesion_id`` from its recorded procedures (empty when none);
    ``within_minutes`` is the knowledge base's window for reading the anaesthetic test."""
    own = sorted((p for p in procedures if p.lesion_id == lesion_id),
                 key=lambda p: (p.performed_on, p.id))
    tests: dict[str, Any] = {}
    in_time: Procedure | None = None
    too_late: Procedure | None = None
    for p in own:
        if p.kind in INJECTION_KINDS and p.pain_before is not None and p.pain_after is not None:
            if read_too_late(p, within_minutes):
                too_late = p
            else:
                in_time = p
        if p.kind == "excision" and p.histopathology:
            tests["histopathology_finding"] = p.histopathology
    injection = in_time or too_late
    if injection is not None:
        tests["injection_pain_before"] = injection.pain_before
        tests["injection_pain_after"] = injection.pain_after
        if injection.minutes_after is not None:
            tests["minutes_after"] = injection.minutes_after
    return tests
