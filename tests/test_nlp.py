"""Free-text reports are read into categories, negations respected, nothing guessed."""

from __future__ import annotations

import pytest

from backmice.nlp.later_tests import read_report


@pytest.mark.parametrize(("kind", "text", "expected"), [
    ("ultrasound", "Mobile fatty nodule herniating through a defect in the thoracolumbar fascia.",
     "fat_herniation_through_fascia"),
    ("ultrasound", "Oval lesion with posterior acoustic enhancement; no internal vascularity.",
     "cyst_pattern"),
    ("ultrasound", "Subcutaneous fluid collection with debris: abscess.", "fluid_collection"),
    ("ultrasound", "Heterogeneous solid mass with internal vascularity.", "suspicious_solid_mass"),
    ("ultrasound", "Well-defined compressible lipoma, no suspicious features.", "fat_lesion"),
    ("ultrasound", "No focal lesion in the area of tenderness.", "no_focal_lesion"),
    ("mri", "Large fatty mass with thick septa and nodular enhancement.", "atypical_fatty_lesion"),
    ("mri", "Oedematous fat adjacent to the PSIS and paraspinal fascia.",
     "oedematous_fat_at_fascia"),
    ("mri", "Homogeneous lipoma following fat on all sequences, no nodularity.",
     "simple_fatty_lesion"),
    ("histopathology", "Mature adipose tissue; MDM2 amplification not detected.",
     "adipose_tissue"),
    ("histopathology", "Atypical lipomatous tumour with MDM2 amplification.",
     "atypical_lipomatous_tumour_or_liposarcoma"),
    ("histopathology", "Epidermoid cyst with keratin flakes, ruptured.", "epidermoid_cyst"),
    ("histopathology", "Pilonidal sinus with hair shafts and acute inflammation.",
     "pilonidal_sinus"),
    ("histopathology", "Metastatic adenocarcinoma.", "metastatic_carcinoma"),
])
def test_reports(kind, text, expected):
    assert read_report(kind, text) == expected


def test_unreadable_report_gives_nothing():
    assert read_report("ultrasound", "Patient moved; study limited.") is None
    assert read_report("mri", "") is None
