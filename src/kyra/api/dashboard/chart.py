"""The failures/recoveries chart as inline SVG, rendered on the server (no chart library,
no CDN: the page works offline and under a strict Content-Security-Policy)."""

from __future__ import annotations

from dataclasses import dataclass

from kyra.api.figures import DayCount

WIDTH, HEIGHT = 640, 180
PAD_LEFT, PAD_BOTTOM, PAD_TOP = 28, 22, 10


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    value: int
    kind: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: list[Bar]
    labels: list[tuple[float, str]]
    ticks: list[tuple[float, int]]
    baseline: float


def build_chart(days: list[DayCount]) -> Chart:
    """Grouped bars per day: failures (red) and recoveries (green), with a y scale."""
    top = max([1, *(max(d.failures, d.recoveries) for d in days)])
    plot_h = HEIGHT - PAD_BOTTOM - PAD_TOP
    slot = (WIDTH - PAD_LEFT) / max(len(days), 1)
    bar_w = max(2.0, slot * 0.34)
    baseline = HEIGHT - PAD_BOTTOM
    bars: list[Bar] = []
    labels: list[tuple[float, str]] = []
    for i, day in enumerate(days):
        x0 = PAD_LEFT + i * slot + slot * 0.14
        for j, (value, kind) in enumerate(
            ((day.failures, "failures"), (day.recoveries, "recoveries"))
        ):
            h = plot_h * value / top
            bars.append(
                Bar(
                    round(x0 + j * bar_w, 1),
                    round(baseline - h, 1),
                    round(bar_w - 1, 1),
                    round(h, 1),
                    value,
                    kind,
                )
            )
        if i % max(1, len(days) // 7) == 0 or i == len(days) - 1:
            labels.append((round(PAD_LEFT + i * slot + slot / 2, 1), day.day.strftime("%d/%m")))
    steps = sorted({0, top // 2, top})
    ticks = [(round(baseline - plot_h * v / top, 1), v) for v in steps]
    return Chart(WIDTH, HEIGHT, bars, labels, ticks, baseline)
