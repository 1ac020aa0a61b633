"""The knowledge base: it loads, every number has provenance, and the checks name the place."""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path

import pytest
import yaml

from backmice.errors import KnowledgeBaseError
from backmice.findings import FINDINGS
from backmice.kb.loader import load_kb
from backmice.kb.schema import ConditionRole, Grade

DATA = Path(str(resources.files("backmice.kb").joinpath("data")))


def test_packaged_kb_is_valid(kb):
    assert kb.version
    assert set(kb.in_scope()) == {
        "episacral_lipoma", "lipoma", "iliac_crest_pain_syndrome",
        "lumbar_fascial_fat_herniation", "sebaceous_cyst", "subcutaneous_abscess", "liposarcoma",
    }
    assert set(kb.family()) == {"episacral_lipoma", "lumbar_fascial_fat_herniation",
                                "iliac_crest_pain_syndrome"}


def test_mimics_and_consider_entries_exist(kb):
    roles = {c.id: c.role for c in kb.conditions.values()}
    for mimic in ("myofascial_trigger_point", "sacroiliac_joint_dysfunction",
                  "lumbar_radiculopathy", "greater_trochanteric_pain_syndrome",
                  "pilonidal_abscess", "other_soft_tissue_sarcoma", "cutaneous_metastasis"):
        assert roles[mimic] is ConditionRole.MIMIC
    assert roles["other"] is ConditionRole.OTHER
    assert roles["cauda_equina_syndrome"] is ConditionRole.CONSIDER


def test_every_estimate_says_why_and_every_evidence_cites(kb):
    from backmice.kb.checks import _provenances

    n = 0
    for where, prov in _provenances(kb):
        n += 1
        assert prov.remark.strip(), where
        if prov.grade in (Grade.EVIDENCE, Grade.EXPERT_OPINION):
            assert prov.citations, where
        if prov.grade is Grade.FITTED:  # a fitted number says what it started from
            assert "fitted:" in prov.remark, where
    assert n > 300


def test_every_case_format_finding_has_likelihoods_somewhere(kb):
    specific = {f for lf in kb.likelihoods.values() for f in lf.findings}
    grouped = {m.finding for g in kb.dependence_groups for m in g.members}
    for fid, spec in FINDINGS.items():
        if spec.in_case_format:
            assert fid in specific | grouped, f"{fid} discriminates nothing"


def _copy(tmp_path: Path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(DATA, target)
    return target


def _finding(data: dict, fid: str) -> dict:
    return next(f for f in data["findings"] if f["id"] == fid)


def _edit(path: Path, change) -> None:
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


@pytest.mark.parametrize(("file", "change", "expected"), [
    ("likelihoods/lipoma.yaml",
     lambda d: d["findings"]["size_cm"]["values"].update(under_2=0.9),
     "likelihoods/lipoma.yaml: size_cm: values sum to"),
    ("likelihoods/lipoma.yaml",
     lambda d: d["findings"]["tender"]["provenance"].update(citations=["R9999"]),
     "likelihoods/lipoma.yaml: tender.provenance: unknown citation id R9999"),
    ("likelihoods/lipoma.yaml",
     lambda d: d["findings"].update(colour={"p": 0.5, "provenance": {"grade": "estimate",
                                                                        "remark": "x y z"}}),
     "likelihoods/lipoma.yaml: colour: unknown finding"),
    ("likelihoods/lipoma.yaml",
     lambda d: d["findings"]["tender"].update(p=1.5),
     "likelihoods/lipoma.yaml: findings.tender.p"),
    ("red_flags.yaml",
     lambda d: d["red_flags"][0].update(when="size_cm >> 5"),
     "red_flags.yaml: cauda_equina.when"),
    ("red_flags.yaml",
     lambda d: d["red_flags"][0].update(when="depth == very_deep"),
     "'very_deep' is not a value of depth"),
    ("priors.yaml",
     lambda d: d["settings"][0]["priors"]["lipoma"].update(p=0.5),
     "priors.yaml: primary_care.priors: sum to"),
    ("priors.yaml",
     lambda d: d["settings"][0]["priors"]["lipoma"]["provenance"].update(
         grade="evidence", citations=[]),
     "priors.yaml: settings.0.priors.lipoma.provenance"),
    ("findings.yaml",
     lambda d: _finding(d, "anesthetic_injection_relief").pop("reading"),
     "findings.yaml: anesthetic_injection_relief.reading: needed"),
    ("findings.yaml",
     lambda d: _finding(d, "anesthetic_injection_relief")["reading"]["provenance"].update(
         citations=["R9999"]),
     "findings.yaml: anesthetic_injection_relief.reading.provenance: unknown citation id R9999"),
    ("findings.yaml",
     lambda d: _finding(d, "anesthetic_injection_relief")["reading"].update(min_relief=1.5),
     "reading.min_relief: Input should be less than or equal to 1"),
    ("findings.yaml",
     lambda d: _finding(d, "tender").update(reading=_finding(d, "anesthetic_injection_relief")[
         "reading"]),
     "findings.yaml: tender.reading: only anesthetic_injection_relief has one"),
])
def test_check_names_file_and_path(tmp_path, file, change, expected):
    data = _copy(tmp_path)
    _edit(data / file, change)
    with pytest.raises(KnowledgeBaseError) as info:
        load_kb(data)
    assert any(expected in p for p in info.value.problems), info.value.problems


def test_missing_file_is_reported(tmp_path):
    data = _copy(tmp_path)
    (data / "red_flags.yaml").unlink()
    with pytest.raises(KnowledgeBaseError) as info:
        load_kb(data)
    assert "red_flags.yaml: file is missing" in info.value.problems


def test_copy_of_packaged_kb_loads(tmp_path):
    assert load_kb(_copy(tmp_path)).version
