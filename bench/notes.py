"""`python bench/notes.py`: reading clinical notes, backmice.nlp beside a medspaCy 1.3 pipeline
(TargetMatcher + ConText with the same targets), on the same annotated notes, in one run.

Reports micro precision, recall and F1, and negation precision and recall, on the held-out notes
(never used to tune a rule), the tune notes and all of them, and on the 156 vignettes of the
real-case corpus annotated from their text (tests/data/notes/published_vignettes.jsonl: the
held-out part, the tune part and all), and notes per second on the 90 notes for each, one core
each (each pipeline runs alone; the figures are ratios measured in the same run, never
assertions).

medspaCy 1.3 needs spaCy < 3.8 on Python 3.11 and so numpy < 2, which backmice pins to 2.x: it is
run in the bench's own process when it can be imported there (the `bench` extra, Python 3.12+),
else in the environment named by BACKMICE_MEDSPACY_PYTHON or `.venv-medspacy` (made by
`make bench-medspacy-env`), else skipped with a note. Its entities become findings with
backmice's own number parsing and combining, so the two sides differ only in tokenising,
sentence splitting, matching and ConText scoping.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from bisect import bisect_left, bisect_right
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from backmice.kb.loader import default_kb  # noqa: E402
from backmice.nlp import extract  # noqa: E402
from backmice.nlp import measures as M  # noqa: E402
from backmice.nlp.context import Work  # noqa: E402
from backmice.nlp.extract import _combine, _outermost, mentions_of  # noqa: E402
from backmice.nlp.measures import Candidate  # noqa: E402
from backmice.nlp.rules import rules  # noqa: E402
from backmice.nlp.scoring import score  # noqa: E402

NOTES = ROOT / "tests" / "data" / "notes" / "annotated.jsonl"
VIGNETTES = ROOT / "tests" / "data" / "notes" / "published_vignettes.jsonl"
MODS = ("negated", "possible", "historical", "hypothetical", "other_person")
MEASURE_READERS = {"AGE": M.ages, "SIZE": M.sizes, "DUR": M.durations, "FRAC": M.durations,
                   "COUNT": M.counts, "COUNTX": M.counts, "TEMP": M.temperatures}


def load_notes(path: Path = NOTES) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


# --- backmice.nlp -------------------------------------------------------------------------------
def run_backmice(texts: list[str], repeats: int) -> tuple[list[dict[str, Any]], float]:
    found = [dict(extract(t).findings.values) for t in texts]
    start = time.perf_counter()
    for _ in range(repeats):
        for t in texts:
            extract(t)
    return found, len(texts) * repeats / (time.perf_counter() - start)


# --- medspaCy -----------------------------------------------------------------------------------
def _medspacy_run(texts: list[str], repeats: int) -> tuple[dict[str, Any] | None, str]:
    try:
        import medspacy  # noqa: F401
    except ImportError:
        pass
    else:
        sys.path.insert(0, str(ROOT / "bench"))
        from notes_medspacy import run

        return run(texts, repeats), "in this process"
    python = os.environ.get("BACKMICE_MEDSPACY_PYTHON") or str(ROOT / ".venv-medspacy" / "bin" /
                                                                "python")
    if not Path(python).exists():
        return None, ("medspaCy is not installed here and no environment has it (make "
                      "bench-medspacy-env, or set BACKMICE_MEDSPACY_PYTHON)")
    done = subprocess.run([python, str(ROOT / "bench" / "notes_medspacy.py")],
                          input=json.dumps({"texts": texts, "repeats": repeats}),
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        return None, "the medspaCy run failed: " + done.stderr.strip()[-400:]
    return json.loads(done.stdout), f"in {python}"


def _candidate(r, text: str, label: str, start: int, end: int) -> list[Candidate]:
    """The candidate(s) a medspaCy entity stands for, read with backmice's own parsers."""
    if label[:1] == "T" and label[1:].isdigit():
        t = r.compiled_targets[int(label[1:])]
        return [Candidate(start, end, t.finding, t.value, negated_value=t.negated_value,
                          also=t.also, affirm_only=t.affirm_only)]
    kind, _, rest = label.partition(":")
    if kind == "LOC":
        value, rank = rest.rsplit(":", 1)
        return [Candidate(start, end, "location", value, kind="location", rank=int(rank))]
    if kind == "SIDE":
        return [Candidate(start, end, "laterality", rest, kind="side")]
    if kind in ("SEX", "PRON"):
        return [Candidate(start, end, "sex", rest, kind="measure" if kind == "SEX" else "pronoun")]
    if kind.startswith("W"):
        word = getattr(r.measures, kind[1:]).words[int(rest)]
        finding, value = {"age": ("age_years", word.years), "size": ("size_cm", word.cm),
                          "duration": ("duration_weeks", word.weeks)}[kind[1:]]
        return [Candidate(start, end, finding, value, word.basis, kind="word")]
    reader = MEASURE_READERS.get(kind.rstrip("0123456789"))
    if reader is None:
        return []
    window = reader(r, text, {}, max(0, start - 60), end, Work())
    return [c for c in window if c.start >= start and c.end <= end and c.kind != "word"]


def medspacy_findings(r, text: str, ents: list[list]) -> dict[str, Any]:
    """Entities → mentions → findings, as backmice.nlp does after its own matching."""
    cands = []
    for start, end, label, *flags in ents:
        mods = dict(zip(MODS, (bool(f) for f in flags), strict=True))
        cands += [(c, mods) for c in _candidate(r, text, label, start, end)]
    by: dict[tuple[str, str], list] = {}
    for c, mods in cands:
        by.setdefault((c.kind, c.finding), []).append((c, mods))
    kept = []
    for group in by.values():
        keep = {id(c) for c in _outermost(c for c, _ in group)}
        kept += [(c, m) for c, m in group if id(c) in keep]
    anchors = sorted((c.start, c.end) for c, _ in kept if c.kind == "location" or (
        c.kind == "target" and c.finding in ("palpable_lump", "tender")))
    starts, ends = [s for s, _ in anchors], sorted(e for _, e in anchors)
    gap, after = r.sites.side_gap, r.sites.side_after
    adjectives = set(r.sites.side_adjectives)

    def near_a_site(c) -> bool:  # a side counts only next to a site or a lump, as in extract
        i, j = bisect_left(starts, c.end), bisect_right(ends, c.start)
        return ((i < len(starts) and starts[i] - c.end <= gap)
                or (c.value in ("left", "right") and j and c.start - ends[j - 1] <= after)
                or (c.value == "bilateral" and bool(anchors)
                    and text[c.start:c.end].lower() not in adjectives))

    ranks: dict[int, int] = {}
    items = [(c, mods) for c, mods in sorted(kept, key=lambda x: (x[0].start, x[0].end))
             if c.kind != "side" or near_a_site(c)]
    mentions = mentions_of(r, text, items, ranks)
    return dict(_combine(r, mentions, ranks).values)


# --- the report ---------------------------------------------------------------------------------
SETS = (("heldout", "notes, held out"), ("tune", "notes, tune"), ("all", "notes, all"),
        ("vignettes_heldout", "published vignettes, held out"),
        ("vignettes_tune", "published vignettes, tune"), ("vignettes", "published vignettes, all"))


def _scores(kb, notes, found, vignettes, found_v) -> dict[str, dict[str, Any]]:
    out = {}
    for name, keep in (("heldout", "heldout"), ("tune", "tune"), ("all", None)):
        pairs = [(n["id"], n["findings"], f) for n, f in zip(notes, found, strict=True)
                 if keep is None or n["split"] == keep]
        out[name] = score(kb, pairs).summary() | {"notes": len(pairs)}
    for name, keep in (("vignettes_heldout", "heldout"), ("vignettes_tune", "tune"),
                       ("vignettes", None)):
        pairs = [(n["id"], n["findings"], f) for n, f in zip(vignettes, found_v, strict=True)
                 if keep is None or n["split"] == keep]
        out[name] = score(kb, pairs).summary() | {"notes": len(pairs)}
    return out


def errors_by_finding(kb, vignettes) -> dict[str, dict[str, int]]:
    """For each part of the vignettes, how many (finding, value) errors each finding has."""
    out: dict[str, dict[str, int]] = {}
    for part in ("tune", "heldout"):
        rows = [v for v in vignettes if v["split"] == part]
        errors = score(kb, [(v["id"], v["findings"], dict(extract(v["text"]).findings.values))
                            for v in rows]).errors
        counts: dict[str, int] = {}
        for e in errors:
            counts[e["finding"]] = counts.get(e["finding"], 0) + 1
        out[part] = dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
    return out


def _cell(row: dict[str, Any]) -> str:
    return "/".join("  -  " if row[k] is None else f"{row[k]:.3f}"
                    for k in ("precision", "recall", "f1", "negation_precision"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=20, help="timing passes over the notes "
                        "for backmice (medspaCy: a quarter as many, at least 2)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--by-finding", action="store_true", help="backmice.nlp only, no "
                        "timing: the number of errors per finding on each part of the vignettes "
                        "(counts only, so the held-out part's errors are not shown)")
    args = parser.parse_args()
    kb, r = default_kb(), rules()
    notes, vignettes = load_notes(), load_notes(VIGNETTES)
    if args.by_finding:
        print(json.dumps(errors_by_finding(kb, vignettes), indent=2))
        return
    texts, texts_v = [n["text"] for n in notes], [n["text"] for n in vignettes]
    ours, ours_rate = run_backmice(texts, args.repeats)
    ours_v = [dict(extract(t).findings.values) for t in texts_v]
    report: dict[str, Any] = {"notes": len(notes), "vignettes": len(vignettes), "backmice": {
        "notes_per_s": round(ours_rate, 1), **_scores(kb, notes, ours, vignettes, ours_v)}}
    ms, where = _medspacy_run(texts, max(2, args.repeats // 4))
    ms_v = _medspacy_run(texts_v, 0)[0] if ms is not None else None  # findings only, untimed
    if ms is None or ms_v is None:
        report["medspacy"] = {"skipped": where if ms is None else "the vignettes' run failed"}
    else:
        found = [medspacy_findings(r, t, ents) for t, ents in zip(texts, ms["docs"], strict=True)]
        found_v = [medspacy_findings(r, t, ents)
                   for t, ents in zip(texts_v, ms_v["docs"], strict=True)]
        rate = ms["notes"] / ms["seconds"]
        report["medspacy"] = {"version": ms["medspacy"], "run": where,
                              "notes_per_s": round(rate, 1),
                              **_scores(kb, notes, found, vignettes, found_v)}
        report["speed_ratio"] = round(ours_rate / rate, 1)
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"{len(notes)} annotated notes (tests/data/notes/annotated.jsonl) and "
          f"{len(vignettes)} annotated vignettes (published_vignettes.jsonl); "
          "P/R/F1/negation precision")
    systems = [("backmice", "backmice.nlp")]
    if "skipped" not in report["medspacy"]:
        systems.append(("medspacy", f"medspaCy {report['medspacy']['version']}"))
    print(f"{'':34}{'texts':>6}  " + "  ".join(f"{label:>27}" for _, label in systems))
    for key, label in SETS:
        n = report["backmice"][key]["notes"]
        print(f"{label:34}{n:>6}  " + "  ".join(
            f"{_cell(report[name][key]):>27}" for name, _ in systems))
    print(f"{'notes/s (the 90 notes, one core)':34}{'':6}  " + "  ".join(
        f"{report[name]['notes_per_s']:>27.1f}" for name, _ in systems))
    if "skipped" in report["medspacy"]:
        print(f"medspaCy skipped: {report['medspacy']['skipped']}")
    if "speed_ratio" in report:
        print(f"backmice.nlp reads {report['speed_ratio']}x as many notes per second as medspaCy "
              f"({report['medspacy']['run']})")


if __name__ == "__main__":
    main()
