"""Chart geometry for the dashboard: bars as plain numbers the template draws as SVG.

No chart library and no script (the Content-Security-Policy allows neither inline script nor
inline style): every size is an SVG attribute. Each chart is drawn beside a real table of the
same numbers, so the SVG is one image with a title and a description for screen readers.
"""
from __future__ import annotations

from dataclasses import dataclass, field

WIDTH = 640
LABEL_WIDTH = 230
BAR_HEIGHT = 22
GAP = 8
VALUE_ROOM = 60
COLUMN_AREA_HEIGHT = 180
AXIS_ROOM = 40


@dataclass
class Bar:
    label: str
    value: float
    x: float
    y: float
    width: float
    height: float
    show_label: bool = True


@dataclass
class Chart:
    title: str
    description: str
    width: int
    height: int
    bars: list[Bar] = field(default_factory=list)
    horizontal: bool = True


def _scale(values: list[float], room: float) -> float:
    top = max(values, default=0)
    return room / top if top > 0 else 0.0


def horizontal(title: str, description: str, points: list[tuple[str, float]]) -> Chart:
    """One bar per row, longest first as given, labels on the left, values at the bar's end."""
    per = _scale([v for _, v in points], WIDTH - LABEL_WIDTH - VALUE_ROOM)
    bars = [Bar(label, value, LABEL_WIDTH, n * (BAR_HEIGHT + GAP), value * per, BAR_HEIGHT)
            for n, (label, value) in enumerate(points)]
    height = max(len(points), 1) * (BAR_HEIGHT + GAP)
    return Chart(title, description, WIDTH, height, bars)


def columns(title: str, description: str, points: list[tuple[str, float]], *,
            label_every: int = 1) -> Chart:
    """Vertical bars left to right (a histogram or a weekly trend), every n-th label shown."""
    count = max(len(points), 1)
    slot = WIDTH / count
    per = _scale([v for _, v in points], COLUMN_AREA_HEIGHT)
    bars = []
    for n, (label, value) in enumerate(points):
        height = value * per
        bars.append(Bar(label, value, n * slot + slot * 0.1, COLUMN_AREA_HEIGHT - height,
                        slot * 0.8, height, show_label=n % label_every == 0))
    return Chart(title, description, WIDTH, COLUMN_AREA_HEIGHT + AXIS_ROOM, bars,
                 horizontal=False)
