"""Bar charts drawn on the server as SVG geometry: no script, no CDN, no image request.

`bar_chart` turns a day series into rectangles and labels in a fixed viewBox; the
template writes them as an inline <svg> with a <title> per bar and a text table next
to it, so the numbers are there for screen readers and for copying.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

WIDTH = 560
HEIGHT = 160
TOP = 16  # room for the value over the tallest bar
BOTTOM = 22  # room for the day labels
LEFT = 4


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    value: int
    label: str  # "24 Nov"
    show_label: bool


@dataclass(frozen=True)
class BarChart:
    title: str
    bars: list[Bar]
    peak: int
    width: int = WIDTH
    height: int = HEIGHT
    baseline: float = HEIGHT - BOTTOM

    @property
    def total(self) -> int:
        return sum(bar.value for bar in self.bars)


def bar_chart(title: str, series: list[tuple[date, int]]) -> BarChart:
    peak = max((value for _, value in series), default=0)
    plot = HEIGHT - TOP - BOTTOM
    slot = (WIDTH - LEFT) / max(len(series), 1)
    bars = []
    for index, (day, value) in enumerate(series):
        height = plot * value / peak if peak else 0.0
        if value and height < 1:
            height = 1.0  # a day with anything at all stays visible
        bars.append(
            Bar(
                x=round(LEFT + index * slot + slot * 0.15, 1),
                y=round(HEIGHT - BOTTOM - height, 1),
                width=round(slot * 0.7, 1),
                height=round(height, 1),
                value=value,
                label=f"{day.day} {day:%b}",
                # every other day labelled, and always the last (today)
                show_label=(len(series) - 1 - index) % 2 == 0,
            )
        )
    return BarChart(title=title, bars=bars, peak=peak)
