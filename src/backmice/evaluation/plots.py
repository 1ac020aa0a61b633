"""``backmice validate --plot FILE.svg|png``: the reliability diagram and the confusion matrix,
drawn with matplotlib (imported here only, and with its non-interactive backend)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from backmice.errors import InputError

FORMATS = (".svg", ".png")


def plot(report: dict[str, Any], path: Path) -> Path:
    if path.suffix.lower() not in FORMATS:
        raise InputError("--plot", f"cannot draw {path.name!r}", "a file name ending in .svg "
                         "or .png")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 5.8),
                                      gridspec_kw={"width_ratios": [1, 1.35]})
    rows = [r for r in report["calibration"] if r["count"]]
    left.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfect calibration")
    left.plot([r["mean_predicted"] for r in rows], [r["observed"] for r in rows], marker="o",
              color="#1f5f8b", label="backmice")
    for r in rows:
        left.annotate(str(r["count"]), (r["mean_predicted"], r["observed"]),
                      textcoords="offset points", xytext=(4, -10), fontsize=7)
    left.set(xlim=(0, 1), ylim=(0, 1), xlabel="predicted probability",
             ylabel="share that was the diagnosis",
             title="Reliability (labels: number of probabilities)")
    left.legend(loc="upper left")

    conf = report["confusion"]
    labels = conf["labels"]
    grid = [[conf["rows_gold_columns_predicted"][g][p] for p in labels] for g in labels]
    right.imshow(grid, cmap="Blues")
    right.set_xticks(range(len(labels)), labels=labels, rotation=40, ha="right", fontsize=8)
    right.set_yticks(range(len(labels)), labels=labels, fontsize=8)
    top = max(max(row) for row in grid) or 1
    for i, row in enumerate(grid):
        for j, value in enumerate(row):
            if value:
                right.text(j, i, str(value), ha="center", va="center", fontsize=8,
                           color="white" if value > top / 2 else "black")
    right.set(xlabel="predicted (top 1)", ylabel="diagnosis (gold)", title="Confusion matrix")
    kind = ("out of sample" if report.get("out_of_sample")
            else "knowledge base as it stands")
    fig.suptitle(f"backmice validation on {report['n']} cases ({kind})")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
