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
from backmice.kb.schema import LikelihoodFile


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


def _dates(data: Any) -> Any:
    """ISO date strings of review blocks back to dates, so YAML writes them unquoted."""
    if isinstance(data, dict):
        return {k: (dt.date.fromisoformat(v) if k in DATE_KEYS and isinstance(v, str)
                    else _dates(v)) for k, v in data.items()}
    return data


DATE_KEYS = frozenset({"reviewed_on", "last_modified", "fitted_on"})


def _original_lines(path: Path) -> dict[str, str]:
    """Each line of a likelihood file by its key (``review``, ``findings.size_cm``)."""
    lines: dict[str, str] = {}
    section = ""
    if not path.exists():
        return lines
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or not line.strip():
            continue
        key = line.strip().split(":", 1)[0]
        if line.startswith("  "):
            lines[f"{section}.{key}"] = line
        else:
            section = key
            lines[key] = line
    return lines


def likelihood_text(kb: KnowledgeBase, lf: LikelihoodFile, before: LikelihoodFile,
                    path: Path, on: dt.date) -> str:
    """The file of ``lf``: entries that did not change keep their line exactly as it was."""
    original = _original_lines(path)
    review = _dates({**lf.review.model_dump(mode="json"), "last_modified": on.isoformat()})
    lines = [*_header(path), f"condition: {lf.condition}", f"review: {_flow(review)}"]
    if lf.latent:
        lines.append("latent:")
        lines += [original.get(f"latent.{k}") or
                  f"  {k}: {_flow(v.model_dump(mode='json', exclude_none=True))}"
                  for k, v in lf.latent.items()]
    lines.append("findings:")
    order = list(kb.findings)
    for fid in sorted(lf.findings, key=order.index):
        entry = lf.findings[fid]
        kept = original.get(f"findings.{fid}") if before.findings.get(fid) == entry else None
        lines.append(kept or f"  {fid}: {_flow(entry.model_dump(mode='json', exclude_none=True))}")
    return "\n".join(lines) + "\n"


def write_likelihoods(kb: KnowledgeBase, before: KnowledgeBase, folder: Path,
                      on: dt.date) -> list[Path]:
    """Rewrite every likelihood file whose numbers changed; returns the files written."""
    written = []
    for outcome, lf in kb.likelihoods.items():
        path = folder / "likelihoods" / f"{outcome}.yaml"
        previous = before.likelihoods[outcome]
        if lf.findings == previous.findings:
            continue
        path.write_text(likelihood_text(kb, lf, previous, path, on), encoding="utf-8")
        written.append(path)
    return written


def write_fit(kb: KnowledgeBase, folder: Path) -> Path:
    path = folder / "fit.yaml"
    data = _dates(kb.fit.model_dump(mode="json"))
    lines = _header(path)
    for key, value in data.items():
        if isinstance(value, list) and value:
            lines.append(f"{key}:")
            lines += [f"  - {_flow(v)}" for v in value]
        elif isinstance(value, dict) and key == "not_fitted" and value:
            lines.append(f"{key}:")
            lines += [f"  {k}: {_flow(v)}" for k, v in value.items()]
        else:
            lines.append(f"{key}: {_flow(value)}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
