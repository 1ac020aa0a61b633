"""Fitting the likelihoods on cases (``backmice kb fit``) and the cross-validation around it.

A fit on a small fixed corpus must give numbers computed here by hand from the Beta/Dirichlet
update, refitting must not drift, the YAML written must load back with the same numbers, and the
cross-validation must never let a source's cases into its own training folds.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from importlib import resources
from pathlib import Path

import pytest

from backmice.evaluation import score_case
from backmice.evaluation.crossval import choose, cross_validate, split
from backmice.evaluation.fitting import count, expert_kb, fit_kb, gold_outcome
from backmice.evaluation.kb_writer import write_fit, write_likelihoods
from backmice.evaluation.refit import refit
from backmice.evaluation.report import load, validation_report
from backmice.kb.loader import load_kb
from backmice.kb.schema import Grade


def _case(i: int, gold: str, source: str, **findings) -> str:
    return json.dumps({"id": f"c{i}", "gold": gold, "findings": findings,
                       "source": {"pmid_or_doi": source}, "urgent_expected": False})


# Four lipomas (3 mobile, 1 fixed; sizes 3, 12, 12 cm and one unknown), two sebaceous cysts.
SMALL = "\n".join([
    _case(1, "lipoma", "PMID:1", mobile=True, size_cm=3),
    _case(2, "lipoma", "PMID:1", mobile=True, size_cm=12),
    _case(3, "lipoma", "PMID:2", mobile=True, size_cm=12),
    _case(4, "lipoma", "PMID:3", mobile=False),
    _case(5, "sebaceous_cyst", "PMID:4", punctum=True),
    _case(6, "sebaceous_cyst", "PMID:5", punctum=False, mobile=None),
])


@pytest.fixture(scope="module")
def small(kb):
    cases, report = load(kb, SMALL)
    assert not report.bad_lines
    return cases


def test_counts_take_stated_findings_only(kb, small):
    counts = count(kb, small)
    assert counts[("lipoma", "mobile")] == {"true": 3, "false": 1}
    assert counts[("lipoma", "size_cm")] == {"2_to_5": 1, "10_plus": 2}
    assert counts[("sebaceous_cyst", "punctum")] == {"true": 1, "false": 1}
    assert ("sebaceous_cyst", "mobile") not in counts  # null is unknown, never counted


def test_fit_is_the_beta_and_dirichlet_posterior_mean(kb, small):
    base = expert_kb(kb)
    fitted = fit_kb(base, count(base, small), scale=1.0, weight=1.0)
    before = base.likelihoods["lipoma"].findings["mobile"]
    after = fitted.likelihoods["lipoma"].findings["mobile"]
    m = base.fit.pseudo_counts[before.provenance.grade]
    assert after.p == pytest.approx(round((m * before.p + 3) / (m + 4), 4))
    assert after.provenance.grade is Grade.FITTED
    assert after.expert.p == before.p and after.expert.grade is before.provenance.grade
    assert after.fit.cases == 4 and after.fit.counts == {"false": 1, "true": 3}
    assert after.fit.pseudo_count == m

    size_before = base.likelihoods["lipoma"].findings["size_cm"]
    size_after = fitted.likelihoods["lipoma"].findings["size_cm"].values
    ms = base.fit.pseudo_counts[size_before.provenance.grade]
    seen = {"under_2": 0, "2_to_5": 1, "5_to_10": 0, "10_plus": 2}
    for k, e in size_before.values.items():
        assert size_after[k] == pytest.approx((ms * e + seen[k]) / (ms + 3), abs=2e-4)
    assert sum(size_after.values()) == pytest.approx(1.0, abs=1e-9)


def test_pseudo_count_scale_decides_how_far_cases_move_a_number(kb, small):
    base = expert_kb(kb)
    counts = count(base, small)
    expert = base.likelihoods["lipoma"].findings["mobile"].p
    weak = fit_kb(base, counts, scale=0.25).likelihoods["lipoma"].findings["mobile"].p
    strong = fit_kb(base, counts, scale=4.0).likelihoods["lipoma"].findings["mobile"].p
    assert abs(strong - expert) < abs(weak - expert)


def test_no_case_keeps_the_expert_number_and_grade(kb, small):
    base = expert_kb(kb)
    fitted = fit_kb(base, count(base, small))
    assert fitted.likelihoods["liposarcoma"].findings == base.likelihoods["liposarcoma"].findings


def test_a_condition_without_its_own_number_starts_from_the_default(kb, small):
    base = expert_kb(kb)
    assert "punctum" not in base.likelihoods["other"].findings
    cases, _ = load(base, _case(9, "other:gouty_tophus", "PMID:9", punctum=False))
    fitted = fit_kb(base, count(base, cases), scale=1.0)
    entry = fitted.likelihoods["other"].findings["punctum"]
    default = base.findings["punctum"].default
    m = base.fit.pseudo_counts[default.provenance.grade]
    assert entry.expert.p == default.p
    assert entry.p == pytest.approx(round(m * default.p / (m + 1), 4))
    assert "population default" in entry.provenance.remark


def test_refitting_does_not_drift(kb, small):
    once = fit_kb(kb, count(kb, small), scale=1.0)
    twice = fit_kb(once, count(once, small), scale=1.0)
    assert once.likelihoods["lipoma"].findings == twice.likelihoods["lipoma"].findings
    assert expert_kb(once).likelihoods["lipoma"].findings == \
        expert_kb(kb).likelihoods["lipoma"].findings


def test_gold_labels_map_to_modelled_outcomes(kb):
    assert gold_outcome(kb, "lipoma") == "lipoma"
    assert gold_outcome(kb, "other:pilonidal_abscess") == "pilonidal_abscess"
    assert gold_outcome(kb, "other:something_unmodelled") == "other"


def test_fitted_files_load_back_with_the_same_numbers(kb, small, tmp_path):
    import datetime as dt

    folder = tmp_path / "data"
    shutil.copytree(Path(str(resources.files("backmice.kb").joinpath("data"))), folder)
    source = load_kb(folder)
    fitted = refit(source, SMALL, file_name="small.jsonl", on=dt.date(2026, 12, 7), folds=2)
    write_likelihoods(fitted, source, folder, dt.date(2026, 12, 7))
    write_fit(fitted, folder)
    again = load_kb(folder)
    for outcome in ("lipoma", "sebaceous_cyst"):
        assert again.likelihoods[outcome].findings == fitted.likelihoods[outcome].findings
    assert again.fit.corpus.cases == 6 and again.fit.corpus.sources == 5
    assert again.fit.likelihood_weight == fitted.fit.likelihood_weight
    text = (folder / "likelihoods" / "lipoma.yaml").read_text()
    assert text.startswith("#")  # the file's opening comment is kept
    assert "expert:" in text and "fit: {cases: 4" in text


def test_split_keeps_every_source_inside_one_fold(kb, small):
    parts = split(small, 3)
    where = {}
    for i, part in enumerate(parts):
        for c in part:
            assert where.setdefault(c.source, i) == i
    assert sum(len(p) for p in parts) == len(small)


def test_cross_validation_scores_every_case_once_out_of_sample(kb, small):
    cv = cross_validate(kb, small, folds=3, inner_folds=2, scales=(1.0,), weights=(0.7, 1.0),
                        interview=False)
    assert sorted(r.id for r in cv.results) == sorted(c.id for c in small)
    assert len(cv.choices) == cv.folds == 3
    # each held-out case is scored exactly as by a knowledge base fitted on the other folds
    parts = split(small, 3)
    by_id = {r.id: r for r in cv.results}
    for i, held_out in enumerate(parts):
        train = [c for j, p in enumerate(parts) if j != i for c in p]
        chosen = cv.choices[i]
        alone = fit_kb(kb, count(kb, train), scale=chosen.scale, weight=chosen.weight)
        for case in held_out:
            expected = score_case(alone, case, later=False, setting=None, interview=False)
            assert by_id[case.id].probabilities == expected.probabilities


def test_choice_is_on_the_grid(kb, small):
    chosen = choose(kb, small, folds=2, scales=(0.25, 4.0), weights=(0.5, 1.0))
    assert chosen.scale in (0.25, 4.0) and chosen.weight in (0.5, 1.0)


def test_report_has_intervals_tables_and_flags_in_sample(kb):
    m = validation_report(kb, SMALL, interview=False, samples=50)
    assert m["n"] == 6 and m["out_of_sample"] is False and m["in_sample"] is False
    assert set(m["intervals_95"]) >= {"top1", "top3", "family_top1", "brier"}
    for lo_hi in m["intervals_95"].values():
        assert lo_hi[0] <= lo_hi[1]
    conf = m["confusion"]["rows_gold_columns_predicted"]
    assert sum(sum(row.values()) for row in conf.values()) == 6
    assert sum(b["count"] for b in m["calibration"]) == 6 * len(m["confusion"]["labels"])
    assert "urgent_open_recall" in m


def test_validate_and_kb_fit_from_the_command_line(tmp_path):
    from typer.testing import CliRunner

    from backmice.cli import app

    corpus = tmp_path / "small.jsonl"
    corpus.write_text(SMALL + "\n")
    plot = tmp_path / "quality.svg"
    result = CliRunner().invoke(app, ["validate", str(corpus), "--folds", "2", "--json",
                                      "--no-interview", "--plot", str(plot)])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["out_of_sample"] is True and report["cross_validation"]["folds"] == 2
    assert plot.read_text().lstrip().startswith("<?xml")
    bad = CliRunner().invoke(app, ["validate", str(corpus), "--plot", str(tmp_path / "q.gif")])
    assert bad.exit_code == 2 and "--plot" in bad.output

    folder = tmp_path / "data"
    shutil.copytree(Path(str(resources.files("backmice.kb").joinpath("data"))), folder)
    fitted = CliRunner().invoke(app, ["kb", "fit", str(corpus), "--path", str(folder),
                                      "--folds", "2", "--on", "2026-12-07"])
    assert fitted.exit_code == 0, fitted.output
    assert "likelihoods fitted" in fitted.output
    assert load_kb(folder).fit.corpus.sha256 == hashlib.sha256(corpus.read_bytes()).hexdigest()
    # scoring the knowledge base on the very corpus it was fitted on is flagged as in-sample
    report = validation_report(load_kb(folder), corpus.read_text(), interview=False, samples=20)
    assert report["in_sample"] is True and "in-sample" in report["warning"]


def test_findings_listed_as_not_fitted_keep_their_expert_numbers(kb):
    assert "location" in kb.fit.not_fitted
    cases, _ = load(kb, "\n".join(_case(i, "lipoma", f"PMID:{i}", location="buttock")
                                  for i in range(30)))
    base = expert_kb(kb)
    fitted = fit_kb(base, count(base, cases))
    assert fitted.likelihoods["lipoma"].findings["location"] == \
        base.likelihoods["lipoma"].findings["location"]
