"""`make bench`: speed of the reasoning core, each figure next to a baseline measured in this run.

1. In-process latency of one single-lump assessment (median and p99 over >= 10,000 calls):
   full assessment without / with the next-question ranking, against two baselines on the same
   cases: validating the findings only (parse_findings) and the bare naive-Bayes posterior.
2. Batch throughput over >= 100,000 cases: the NumPy differential and red flags, against
   encoding the same cases only.
3. Cold start: wall time of `backmice assess` on one case, against `python -c pass`.

Timings are printed, never asserted: compare the ratios, not the absolute numbers.
"""

from __future__ import annotations

import json
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from backmice import batch  # noqa: E402
from backmice.engine import assess, bayes  # noqa: E402
from backmice.engine.model import compile_model  # noqa: E402
from backmice.findings import parse_findings  # noqa: E402
from backmice.kb.loader import default_kb  # noqa: E402

CALLS = 10_000
BATCH = 200_000


def _cases() -> list[dict]:
    raw = []
    for line in (ROOT / "tests" / "data" / "dev_cases.jsonl").read_text().splitlines():
        case = json.loads(line)
        raw.append({k: v for k, v in case["findings"].items() if v is not None})
    return raw


def _latency(fn, inputs, calls: int) -> tuple[float, float]:
    times = []
    for i in range(calls):
        x = inputs[i % len(inputs)]
        t0 = time.perf_counter_ns()
        fn(x)
        times.append(time.perf_counter_ns() - t0)
    times.sort()
    return statistics.median(times) / 1000, times[int(len(times) * 0.99)] / 1000


def bench_latency(kb) -> None:
    raw = _cases()
    parsed = [parse_findings(r, strict=False) for r in raw]
    model = compile_model(kb, kb.priors.default_setting)
    for f in parsed:  # warm caches
        assess(kb, f)
    rows = [
        ("baseline: validate findings only", lambda r: parse_findings(r, strict=False), raw),
        ("baseline: naive-Bayes posterior only", lambda f: bayes.posterior(model, f), parsed),
        ("assess (differential, flags, triage, explanation, work-up)",
         lambda f: assess(kb, f, with_questions=False), parsed),
        ("assess with next-question ranking", lambda f: assess(kb, f), parsed),
    ]
    print(f"\n1. Single-lump latency in-process ({CALLS:,} calls each, microseconds)")
    print(f"   {'':62} {'median':>8} {'p99':>8} {'x baseline':>11}")
    base = None
    for name, fn, inputs in rows:
        median, p99 = _latency(fn, inputs, CALLS)
        base = base or median
        print(f"   {name:62} {median:8.1f} {p99:8.1f} {median / base:11.1f}")


def bench_batch(kb) -> None:
    raw = _cases()
    parsed = [parse_findings(r, strict=False) for r in raw]
    rng = random.Random(1)
    many = [rng.choice(parsed) for _ in range(BATCH)]
    model = compile_model(kb, kb.priors.default_setting)
    batch.differential(model, batch.encode(many[:10]))  # build the joint tables once, untimed
    t0 = time.perf_counter()
    cols = batch.encode(many)
    t_encode = time.perf_counter() - t0
    t0 = time.perf_counter()
    post = batch.differential(model, cols)
    t_diff = time.perf_counter() - t0
    t0 = time.perf_counter()
    batch.red_flag_matrix(kb, cols)
    t_flags = time.perf_counter() - t0
    assert post.shape == (BATCH, len(model.outcomes))
    print(f"\n2. Batch screening of {BATCH:,} cases (cases per second)")
    print(f"   baseline: encode the cases into columns   {BATCH / t_encode:14,.0f}")
    print(f"   differential (NumPy, encoded columns)     {BATCH / t_diff:14,.0f}")
    print(f"   red flags (NumPy, encoded columns)        {BATCH / t_flags:14,.0f}")
    print(f"   differential + red flags incl. encoding   "
          f"{BATCH / (t_encode + t_diff + t_flags):14,.0f}")


def _wall(cmd: list[str], runs: int = 7) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def bench_cold_start() -> None:
    exe = Path(sys.executable).parent / "backmice"
    case = ROOT / "examples" / "back_mouse.json"
    python = _wall([sys.executable, "-c", "pass"])
    import_only = _wall([sys.executable, "-c", "import backmice.engine, backmice.kb.loader"])
    json_out = _wall([str(exe), "assess", str(case), "--format", "json"])
    terminal = _wall([str(exe), "assess", str(case)])
    print("\n3. Cold start, median of 7 runs (seconds)")
    print(f"   baseline: python -c pass                  {python:8.3f}")
    print(f"   import engine + knowledge-base loader     {import_only:8.3f}")
    print(f"   backmice assess --format json             {json_out:8.3f}")
    print(f"   backmice assess (Rich terminal view)      {terminal:8.3f}")


def main() -> None:
    t0 = time.perf_counter()
    kb = default_kb()
    print(f"backmice bench — knowledge base {kb.version}; load and validate: "
          f"{time.perf_counter() - t0:.3f} s; Python {sys.version.split()[0]}")
    bench_latency(kb)
    bench_batch(kb)
    bench_cold_start()


if __name__ == "__main__":
    main()
