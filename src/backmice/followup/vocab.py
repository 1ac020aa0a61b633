"""Closed vocabularies of the follow-up record (UPPER_SNAKE tuples, as the case format's are),
with the ranges of the numeric measures. Storage and the web validate against these."""

from __future__ import annotations

from backmice.findings import HISTOPATHOLOGY, LATERALITIES, LOCATIONS

ROLES = ("clinician", "reviewer", "admin")

LESION_STATUSES = ("active", "resolved", "excised")
LESION_REGIONS = LOCATIONS
LESION_SIDES = LATERALITIES

PROCEDURE_KINDS = (
    "diagnostic_injection",  # local anaesthetic into the nodule; pain before / after
    "therapeutic_injection",  # lidocaine with or without corticosteroid
    "excision",  # excision with fascial repair; histopathology when it comes back
    "liposuction",  # fluid liposuction for many small nodules
    "dry_needling",
    "acupuncture",
    "manipulation",
    "other",
)
PROCEDURE_LABELS = {
    "diagnostic_injection": "Diagnostic local-anaesthetic injection",
    "therapeutic_injection": "Lidocaine ± corticosteroid injection",
    "excision": "Excision with fascial repair",
    "liposuction": "Fluid liposuction",
    "dry_needling": "Dry needling",
    "acupuncture": "Acupuncture",
    "manipulation": "Manipulation",
    "other": "Other procedure",
}
# Procedures whose pain before / after is the anaesthetic test of the case format.
INJECTION_KINDS = ("diagnostic_injection", "therapeutic_injection")

COMPLICATIONS = ("fever", "increasing_pain", "bleeding", "discharge", "infection", "scarring",
                 "bruising", "other")
# Complications that need the treating clinician soon (the after-care warning signs); the rest
# (scarring, bruising) are recorded and shown but raise no alert.
ALERTING_COMPLICATIONS = ("fever", "increasing_pain", "bleeding", "discharge", "infection")

HISTOPATHOLOGY_RESULTS = HISTOPATHOLOGY

# Outcome measures: (lowest, highest, what it is).
OUTCOME_MEASURES = {
    "pain": (0, 10, "numeric pain rating, 0 no pain to 10 worst imaginable"),
    "odi": (0, 100, "Oswestry Disability Index, percent (0 no disability)"),
    "satisfaction": (0, 10, "patient satisfaction, 0 not at all to 10 completely"),
}

PATIENT_SEXES = ("female", "male", "other", "unknown")

# Triage levels that open a referral, with the days allowed until it is due (counted from the
# visit that triaged the lesion): within two weeks, or that same day for the more urgent levels
# (backmice.results.URGENCY_ORDER). The same levels put the lesion in the alerts banner.
REFERRAL_DAYS = {"emergency": 0, "urgent_same_day": 0, "urgent_2_weeks": 14}
REFERRAL_STATUSES = ("open", "done")
REFERRAL_OUTCOMES = ("sent", "seen")  # the referral letter sent / the patient seen

# What a correction did to a visit, procedure or outcome.
CORRECTION_ACTIONS = ("update", "delete")
CORRECTION_TARGETS = ("encounter", "procedure", "outcome")
