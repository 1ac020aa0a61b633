"""The vectorised batch path agrees with the single-case engine."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backmice import batch
from backmice.engine import bayes, red_flags
from backmice.engine.model import compile_model
from backmice.findings import FINDINGS, Kind, parse_findings
from backmice.interop.cases import read_case
from backmice.kb.loader import default_kb
from strategies import finding_sets

DEV = Path(__file__).parent / "data" / "dev_cases.jsonl"


def _cases():
    out = []
    for line in DEV.read_text().splitlines():
        case = read_case(json.loads(line), strict=False)
        out += [case.first_visit, case.with_later_tests]
    return out


def test_batch_differential_equals_single_path(kb):
    cases = _cases()
    for setting in kb.setting_ids:
        model = compile_model(kb, setting)
        matrix = batch.differential(model, batch.encode(cases))
        single = np.array([bayes.posterior(model, c) for c in cases])
        np.testing.assert_allclose(matrix, single, atol=1e-9)


def test_batch_red_flags_equal_single_path(kb):
    cases = _cases()
    ids, matrix = batch.red_flag_matrix(kb, batch.encode(cases))
    for row, case in zip(matrix, cases, strict=True):
        fired = {h.id for h in red_flags.fired(kb, case)}
        assert {i for i, hit in zip(ids, row, strict=True) if hit} == fired


# --- the batch tables equal the single-case numbers -----------------------------------------

KB_ = default_kb()


def _reference_encode(cases):
    """The plain definition of the columns: every case asked for every finding."""
    rows = list(cases)
    numbers, codes = {}, {}
    for fid, spec in FINDINGS.items():
        if spec.kind in (Kind.NUMBER, Kind.COUNT):
            numbers[fid] = np.array([np.nan if r.get(fid) is None
                                     else np.inf if r.get(fid) == "many" else float(r.get(fid))
                                     for r in rows], dtype=float)
        else:
            lookup = {True: 1, False: 0} if spec.kind is Kind.BOOLEAN else {
                v: i for i, v in enumerate(spec.values)}
            codes[fid] = np.array([lookup.get(r.get(fid), -1) for r in rows], dtype=np.int16)
    return numbers, codes


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(finding_sets(), min_size=1, max_size=40))
def test_batch_equals_single_path_on_random_finding_sets(raws):
    cases = [parse_findings(r) for r in raws]
    cols = batch.encode(cases)
    numbers, codes = _reference_encode(cases)
    for fid, col in numbers.items():
        np.testing.assert_array_equal(cols.numbers[fid], col)
    for fid, col in codes.items():
        np.testing.assert_array_equal(cols.codes[fid], col)
        assert cols.codes[fid].dtype == np.int16
    for setting in KB_.setting_ids:
        model = compile_model(KB_, setting)
        single = np.array([bayes.posterior(model, c) for c in cases])
        np.testing.assert_allclose(batch.differential(model, cols), single, rtol=0, atol=1e-12)


def test_encode_reads_plain_dicts_and_ignores_other_keys():
    cases = [{"fever": True, "size_cm": 3, "nodule_count": "many", "not_a_finding": 1},
             {"fever": None, "depth": "intramuscular"}, {}]
    cols = batch.encode(cases)
    numbers, codes = _reference_encode(cases)
    for fid in numbers:
        np.testing.assert_array_equal(cols.numbers[fid], numbers[fid])
    for fid in codes:
        np.testing.assert_array_equal(cols.codes[fid], codes[fid])


def test_joint_tables_are_sums_of_their_parts():
    for setting in KB_.setting_ids:
        model = compile_model(KB_, setting)
        parts = {p.members: p for p in batch._parts(model)}
        tables = batch._tables(model)
        covered = [m for j in tables.joints for m in j.members]
        assert sorted(covered) == sorted(m for p in parts for m in p)  # each finding once
        for n, joint in enumerate(tables.joints):
            assert len(joint.logs) == math.prod(joint.states)
            for key in range(len(joint.logs)):
                states, rest = [], key
                for count in reversed(joint.states):
                    states.append(rest % count)
                    rest //= count
                state_of = dict(zip(joint.members, reversed(states), strict=True))
                expected = np.array(model.log_prior) if n == 0 else 0.0
                for members, part in parts.items():
                    if members[0] not in state_of:
                        continue
                    row = 0
                    for m, count in zip(part.members, part.states, strict=True):
                        row = row * count + state_of[m]
                    expected = expected + part.logs[row]
                np.testing.assert_allclose(joint.logs[key], expected, rtol=0, atol=1e-12)


def test_group_parts_are_the_single_path_group_likelihoods():
    model = compile_model(KB_, KB_.priors.default_setting)
    for group in model.groups:
        part = next(p for p in batch._parts(model) if p.members == group.members)
        for key, row in enumerate(part.logs):
            states = [(key // 3 ** (len(group.members) - 1 - i)) % 3
                      for i in range(len(group.members))]
            known = {m: (None, False, True)[s]
                     for m, s in zip(group.members, states, strict=True) if s}
            expected = ([model.weight * math.log(bayes.group_likelihood(group, i, known))
                         for i in range(len(model.outcomes))] if known else [0.0] * len(row))
            assert row.tolist() == expected
