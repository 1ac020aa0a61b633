"""Chart geometry for server-rendered SVG: pain over time with procedures marked, and mean pain
before / after per treatment. Pure functions from numbers and dates to coordinates; the page
templates only draw what these return (SVG attributes and CSS classes, no inline styles, so
the pages keep a strict content security policy)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

PAIN_MAX = 10.0

# Two letters on the chart for each kind of procedure (the full name is in the tooltip).
PROCEDURE_SHORT = {
    "diagnostic_injection": "DI", "therapeutic_injection": "TI", "excision": "EX",
    "liposuction": "LS", "dry_needling": "DN", "acupuncture": "AC", "manipulation": "MA",
    "other": "P",
}


@dataclass(frozen=True, slots=True)
class Tick:
    at: float  # x (for the time axis) or y (for the pain axis) in chart units
    label: str


@dataclass(frozen=True, slots=True)
class ChartPoint:
    x: float
    y: float
    on: dt.date
    value: float


@dataclass(frozen=True, slots=True)
class ChartMark:
    """A procedure: a vertical line at its date, a short label and the full one."""

    x: float
    on: dt.date
    kind: str
    short: str
    label: str


@dataclass(frozen=True, slots=True)
class LineChart:
    width: int
    height: int
    left: float
    right: float
    top: float
    bottom: float
    y_ticks: tuple[Tick, ...]
    x_ticks: tuple[Tick, ...]
    points: tuple[ChartPoint, ...]
    path: str  # SVG path data joining the points ("" with fewer than two)
    marks: tuple[ChartMark, ...]
    summary: str  # one sentence for screen readers


def _span(dates: Sequence[dt.date]) -> tuple[dt.date, int]:
    start, end = min(dates), max(dates)
    if start == end:
        return start - dt.timedelta(days=1), 2
    return start, (end - start).days


def pain_chart(points: Sequence[tuple[dt.date, float]],
               marks: Sequence[tuple[dt.date, str, str]], *, width: int = 480,
               height: int = 200) -> LineChart | None:
    """``points``: (date, pain 0-10); ``marks``: (date, kind, label) of procedures.
    None when there is nothing to draw."""
    if not points and not marks:
        return None
    left, right, top, bottom = 30.0, width - 14.0, 22.0, height - 24.0
    start, days = _span([d for d, _ in points] + [d for d, _, _ in marks])

    def x_of(day: dt.date) -> float:
        return round(left + (day - start).days / days * (right - left), 1)

    def y_of(value: float) -> float:
        value = min(max(value, 0.0), PAIN_MAX)
        return round(bottom - value / PAIN_MAX * (bottom - top), 1)

    placed = tuple(ChartPoint(x_of(d), y_of(v), d, v) for d, v in sorted(points))
    path = " ".join(f"{'M' if i == 0 else 'L'}{p.x} {p.y}" for i, p in enumerate(placed)) \
        if len(placed) > 1 else ""
    drawn = tuple(ChartMark(x_of(d), d, kind, PROCEDURE_SHORT.get(kind, "P"), label)
                  for d, kind, label in sorted(marks, key=lambda m: m[0]))
    y_ticks = tuple(Tick(y_of(v), str(v)) for v in (0, 2, 4, 6, 8, 10))
    end = start + dt.timedelta(days=days)
    middle = start + dt.timedelta(days=days // 2)
    x_ticks = tuple(Tick(x_of(d), d.isoformat()) for d in (start, middle, end)) if days > 20 \
        else tuple(Tick(x_of(d), d.isoformat()) for d in (start, end))
    said = ", ".join(f"{p.on.isoformat()}: {p.value:g}" for p in placed) or "no pain scores"
    done = ", ".join(f"{m.label.lower()} on {m.on.isoformat()}" for m in drawn)
    summary = f"Pain (0-10) over time: {said}." + (f" Procedures: {done}." if done else "")
    return LineChart(width, height, left, right, top, bottom, y_ticks, x_ticks, placed, path,
                     drawn, summary)


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    value: float | None
    text_x: float  # where the value is written (just right of the bar)


@dataclass(frozen=True, slots=True)
class BarRow:
    label: str
    label_y: float
    before: Bar
    after: Bar
    note: str  # e.g. "n = 3 patients, 4 paired procedures"


@dataclass(frozen=True, slots=True)
class BarChart:
    width: int
    height: int
    left: float
    right: float
    rows: tuple[BarRow, ...]
    x_ticks: tuple[Tick, ...]
    axis_y: float
    summary: str


def before_after_chart(rows: Sequence[tuple[str, float | None, float | None, str]], *,
                       width: int = 480) -> BarChart | None:
    """Horizontal bars of mean pain before and after, one group per treatment:
    ``rows`` are (label, mean before, mean after, note). None when there are no rows."""
    if not rows:
        return None
    left, right = 8.0, width - 44.0
    label_h, bar_h, gap = 16.0, 13.0, 12.0
    row_h = label_h + 2 * bar_h + 2 + gap
    top = 6.0

    def bar(y: float, value: float | None) -> Bar:
        w = 0.0 if value is None else round(min(max(value, 0), PAIN_MAX) / PAIN_MAX
                                            * (right - left), 1)
        return Bar(left, y, w, bar_h, value, round(left + w + 4, 1))

    out = []
    for i, (label, before, after, note) in enumerate(rows):
        y0 = top + i * row_h
        out.append(BarRow(label, y0 + 12, bar(y0 + label_h, before),
                          bar(y0 + label_h + bar_h + 2, after), note))
    axis_y = top + len(rows) * row_h
    ticks = tuple(Tick(round(left + v / PAIN_MAX * (right - left), 1), str(v))
                  for v in (0, 2, 4, 6, 8, 10))

    def shown(v: float | None) -> str:
        return "no pairs" if v is None else f"{v:.1f}"

    summary = "Mean pain (0-10) before and after: " + "; ".join(
        f"{r[0]}: {shown(r[1])} before, {shown(r[2])} after" for r in rows) + "."
    return BarChart(width, int(axis_y + 22), left, right, tuple(out), ticks, axis_y, summary)
