"""The vectorised batch path agrees with the single-case engine."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from backmice import batch
from backmice.engine import bayes, red_flags
from backmice.engine.model import compile_model
from backmice.interop.cases import read_case

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
