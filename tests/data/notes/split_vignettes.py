"""Split the published vignettes into `tune` and `heldout` by source, once, with a fixed seed.

`python tests/data/notes/split_vignettes.py` rewrites the `split` field of
published_vignettes.jsonl (nothing else). Cases from the same source stay on the same side: two
cases share a source when they share a PMID or DOI, or the same citation (many sources have no
PMID or DOI). The sources are put in a fixed order, shuffled with SEED, and given to `tune` until
about TUNE_SHARE of the cases are there; the rest are `heldout`. The split was drawn before any
extractor error on the vignettes was looked at; running the script again gives the same split.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent
CORPUS = HERE.parents[2] / "corpus" / "published.jsonl"
VIGNETTES = HERE / "published_vignettes.jsonl"
SEED = 20261207
TUNE_SHARE = 0.6


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def source_groups(cases: list[dict]) -> list[list[str]]:
    """Case ids grouped by source (same PMID/DOI or same citation), each group in corpus order,
    the groups ordered by their first case."""
    parent: dict[str, str] = {}

    def root(key: str) -> str:
        while parent.setdefault(key, key) != key:
            key = parent[key]
        return key

    for case in cases:
        keys = ["case:" + case["id"], "cite:" + " ".join(case["source"]["citation"].split())]
        if case["source"].get("pmid_or_doi"):
            keys.append("ref:" + case["source"]["pmid_or_doi"].strip().lower())
        for key in keys[1:]:
            parent[root(key)] = root(keys[0])
    groups: dict[str, list[str]] = {}
    for case in cases:
        groups.setdefault(root("case:" + case["id"]), []).append(case["id"])
    return list(groups.values())


def split_of(cases: list[dict]) -> dict[str, str]:
    groups = source_groups(cases)
    random.Random(SEED).shuffle(groups)
    target, taken, out = round(TUNE_SHARE * len(cases)), 0, {}
    for group in groups:
        side = "tune" if taken < target else "heldout"
        taken += len(group) if side == "tune" else 0
        out.update(dict.fromkeys(group, side))
    return out


def main() -> None:
    split = split_of(_jsonl(CORPUS))
    rows = _jsonl(VIGNETTES)
    lines = [json.dumps(row | {"split": split[row["id"]]}, ensure_ascii=False) for row in rows]
    VIGNETTES.write_text("\n".join(lines) + "\n", encoding="utf-8")
    tune = sum(s == "tune" for s in split.values())
    print(f"{tune} tune, {len(split) - tune} heldout, {len(source_groups(_jsonl(CORPUS)))} sources")


if __name__ == "__main__":
    main()
