"""Chart geometry (render/charts.py): pain maps onto the y axis (10 at the top), dates onto x in
order, procedures become marks, and nothing to draw is None."""

from __future__ import annotations

import datetime as dt

from backmice.render.charts import before_after_chart, pain_chart

D = dt.date(2024, 1, 1)


def test_pain_chart_places_points_and_procedures():
    c = pain_chart([(D, 8), (D + dt.timedelta(days=30), 2), (D + dt.timedelta(days=60), 0)],
                   [(D + dt.timedelta(days=10), "diagnostic_injection", "Injection")])
    assert [p.x for p in c.points] == sorted(p.x for p in c.points)
    assert c.points[0].x == c.left and c.points[-1].x == c.right
    assert c.points[-1].y == c.bottom and c.top < c.points[0].y < c.bottom
    assert c.path.startswith(f"M{c.points[0].x} {c.points[0].y} L")
    (mark,) = c.marks
    assert mark.short == "DI" and c.left < mark.x < c.points[1].x
    assert [t.label for t in c.y_ticks] == ["0", "2", "4", "6", "8", "10"]
    assert c.x_ticks[0].label == "2024-01-01" and len(c.x_ticks) == 3
    assert "2024-01-31: 2" in c.summary and "injection on 2024-01-11" in c.summary


def test_pain_chart_edge_cases():
    assert pain_chart([], []) is None
    one = pain_chart([(D, 11)], [])  # one day: still a span; out-of-range pain is clamped
    assert one.path == "" and one.points[0].y == one.top
    assert one.left < one.points[0].x < one.right


def test_before_after_chart_rows():
    assert before_after_chart([]) is None
    c = before_after_chart([("Excision", 8.0, 2.0, "n"), ("Dry needling", None, None, "n")])
    first, second = c.rows
    assert first.before.width == 4 * first.after.width > 0
    assert second.before.width == 0 and second.before.value is None
    assert first.after.y > first.before.y and second.label_y > first.after.y
    assert c.height > c.axis_y and "no pairs" in c.summary
