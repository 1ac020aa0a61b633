"""The annotated notes (tests/data/notes): extraction quality with a floor, on the held-out
notes (never used to tune a rule), on the tune notes, and on the vignettes of the real-case corpus
annotated from their text (split by source into tune and held-out parts before any rule was
tuned on them). bench/notes.py reports the same figures beside a medspaCy pipeline."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from backmice.findings import parse_findings
from backmice.nlp import extract
from backmice.nlp.scoring import same_value, score

HERE = Path(__file__).resolve().parent


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


NOTES = _jsonl(HERE / "data" / "notes" / "annotated.jsonl")
VIGNETTES = _jsonl(HERE / "data" / "notes" / "published_vignettes.jsonl")
PUBLISHED = _jsonl(HERE.parent / "corpus" / "published.jsonl")

# Floors a little under the figures measured (held-out: P 0.978, R 0.945, F1 0.962, negation
# precision 0.968; tune: P 0.984, F1 0.987, negation precision 0.987): a drop below them is a
# regression.
FLOORS = {"heldout": {"f1": 0.955, "precision": 0.97, "negation_precision": 0.95},
          "tune": {"f1": 0.975, "precision": 0.975, "negation_precision": 0.975}}

# The 156 published vignettes, annotated from their text before the extractor was first run on
# them, then split by source (split_vignettes.py) into 94 tune and 62 held-out before any rule was
# tuned on them. Measured before the rules were tuned on the tune part (tune: P 0.903, R 0.847,
# F1 0.874, negation precision 0.706; held out: P 0.907, R 0.851, F1 0.878, negation precision
# 0.829) and after (tune: P 0.952, R 0.967, F1 0.960, negation precision 0.922; held out: P 0.928,
# R 0.897, F1 0.912, negation precision 0.857). Floors a little under the figures after.
VIGNETTE_FLOORS = {"tune": {"f1": 0.95, "precision": 0.945, "recall": 0.955,
                            "negation_precision": 0.90},
                   "heldout": {"f1": 0.90, "precision": 0.92, "recall": 0.88,
                               "negation_precision": 0.83}}


def test_the_corpus_is_well_formed():
    assert len(NOTES) >= 80
    assert len({n["id"] for n in NOTES}) == len(NOTES)
    held = sum(n["split"] == "heldout" for n in NOTES)
    assert 0.25 <= held / len(NOTES) <= 0.35
    for n in NOTES:
        assert set(n) == {"id", "split", "text", "findings"}
        parse_findings(n["findings"])  # every gold value is in the case format


@pytest.mark.parametrize("split", ["heldout", "tune"])
def test_quality_floor(kb, split):
    notes = [n for n in NOTES if n["split"] == split]
    s = score(kb, [(n["id"], n["findings"], dict(extract(n["text"]).findings.values))
                   for n in notes]).summary()
    for metric, floor in FLOORS[split].items():
        assert s[metric] >= floor, (split, metric, s)


def _split_script():
    spec = importlib.util.spec_from_file_location(
        "split_vignettes", HERE / "data" / "notes" / "split_vignettes.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_vignettes_are_the_corpus_verbatim():
    assert [v["id"] for v in VIGNETTES] == [c["id"] for c in PUBLISHED]
    for v, case in zip(VIGNETTES, PUBLISHED, strict=True):
        assert set(v) == {"id", "split", "text", "findings"}
        assert v["text"] == case["vignette"]
        parse_findings(v["findings"])


def test_the_vignettes_split_is_the_scripts_and_keeps_each_source_on_one_side():
    script = _split_script()
    assert {v["id"]: v["split"] for v in VIGNETTES} == script.split_of(PUBLISHED)
    held = sum(v["split"] == "heldout" for v in VIGNETTES)
    assert 0.3 <= held / len(VIGNETTES) <= 0.5
    side = {v["id"]: v["split"] for v in VIGNETTES}
    by_citation: dict[str, set[str]] = {}
    for case in PUBLISHED:
        for key in (case["source"]["citation"], case["source"]["pmid_or_doi"]):
            if key:
                by_citation.setdefault(key, set()).add(side[case["id"]])
    assert all(len(sides) == 1 for sides in by_citation.values())


@pytest.mark.parametrize("split", ["heldout", "tune"])
def test_quality_floor_on_the_published_vignettes(kb, split):
    s = score(kb, [(v["id"], v["findings"], dict(extract(v["text"]).findings.values))
                   for v in VIGNETTES if v["split"] == split]).summary()
    for metric, floor in VIGNETTE_FLOORS[split].items():
        assert s[metric] >= floor, (split, metric, s)


def test_numbers_match_by_the_bins_the_engine_uses(kb):
    assert same_value(kb, "size_cm", 4, 4.9) and not same_value(kb, "size_cm", 4.9, 5)
    assert same_value(kb, "duration_weeks", 156, 520)
    assert same_value(kb, "nodule_count", "many", 12) and not same_value(kb, "nodule_count", 1, 2)
    assert same_value(kb, "age_years", 47, 47.5) and not same_value(kb, "age_years", 47, 49)
    assert not same_value(kb, "fever", False, 0)
