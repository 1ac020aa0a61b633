"""Writing a fitted knowledge base back to its YAML files (``backmice kb fit``).

Only ``likelihoods/<condition>.yaml`` and ``fit.yaml`` are rewritten. Each file keeps its opening
comment; every likelihood stays one line, in the order of ``findings.yaml``, and a fitted one
shows its expert value, its case counts and the result side by side.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import yaml

from backmice.kb.base import KnowledgeBase
from backmice.kb.schema import LikelihoodFile, Review

REVIEWER = "backmice kb fit (automated; awaiting clinical review)"


def _flow(data: Any) -> str:
    """One value as one line of YAML flow style (a scalar without a document-end marker)."""
    text = yaml.safe_dump([data], default_flow_style=True, width=10**6, sort_keys=False)
    return text.strip()[1:-1]


def _header(path: Path) -> list[str]:
    if not path.exists():
        return []
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        lines.append(line)
    return lines


def _review(review: Review, on: dt.date) -> dict[str, Any]:
    return {"reviewed_by": review.reviewed_by, "reviewed_on": review.reviewed_on.isoformat(),
            "last_modified": on.isoformat()}


def likelihood_text(kb: KnowledgeBase, lf: LikelihoodFile, header: list[str], on: dt.date,
                    changed: bool) -> str:
    review = _review(lf.review, on) if changed else lf.review.model_dump(mode="json")
    lines = [*header, f"condition: {lf.condition}", f"review: {_flow(review)}"]
    if lf.latent:
        lines.append("latent:")
        lines += [f"  {k}: {_flow(v.model_dump(mode='json', exclude_none=True))}"
                  for k, v in lf.latent.items()]
    lines.append("findings:")
    order = list(kb.findings)
    for fid in sorted(lf.findings, key=order.index):
        data = lf.findings[fid].model_dump(mode="json", exclude_none=True)
        lines.append(f"  {fid}: {_flow(data)}")
    return "\n".join(lines) + "\n"


def write_likelihoods(kb: KnowledgeBase, before: KnowledgeBase, folder: Path,
                      on: dt.date) -> list[Path]:
    """Rewrite every likelihood file whose numbers changed; returns the files written."""
    written = []
    for outcome, lf in kb.likelihoods.items():
        path = folder / "likelihoods" / f"{outcome}.yaml"
        changed = lf.findings != before.likelihoods[outcome].findings
        if not changed:
            continue
        path.write_text(likelihood_text(kb, lf, _header(path), on, changed), encoding="utf-8")
        written.append(path)
    return written


def write_fit(kb: KnowledgeBase, folder: Path) -> Path:
    path = folder / "fit.yaml"
    data = kb.fit.model_dump(mode="json")
    lines = _header(path)
    for key, value in data.items():
        if isinstance(value, list) and value:
            lines.append(f"{key}:")
            lines += [f"  - {_flow(v)}" for v in value]
        else:
            lines.append(f"{key}: {_flow(value)}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
