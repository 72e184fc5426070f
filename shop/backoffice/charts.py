"""Geometry for small server-rendered SVG bar charts: the template draws, this module measures.

No JavaScript: each bar carries a <title>, which browsers show as a tooltip.
"""

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

WIDTH = 960
HEIGHT = 170
# Room for the y-axis labels on the left and the date labels below.
PLOT_LEFT = 64
PLOT_RIGHT = 12
PLOT_TOP = 12
PLOT_BOTTOM = 28
BAR_GAP = 0.25  # share of each day's slot left empty between bars
TICKS = 4  # intervals on the y axis


@dataclass(frozen=True)
class Bar:
    # The day's whole column (the tooltip's hover area) and the bar inside it.
    slot_x: float
    slot_width: float
    x: float
    y: float
    width: float
    height: float
    tooltip: str


@dataclass(frozen=True)
class Tick:
    position: float
    label: str


@dataclass(frozen=True)
class BarChart:
    name: str  # a CSS class and id prefix
    title: str
    description: str
    width: int
    height: int
    plot_left: float
    plot_right: float
    plot_top: float
    plot_bottom: float
    bars: list[Bar]
    y_ticks: list[Tick]
    x_ticks: list[Tick]
    empty: bool
    empty_message: str

    @property
    def plot_width(self) -> float:
        return self.plot_right - self.plot_left

    @property
    def plot_height(self) -> float:
        return self.plot_bottom - self.plot_top

    @property
    def center_x(self) -> float:
        return (self.plot_left + self.plot_right) / 2

    @property
    def center_y(self) -> float:
        return (self.plot_top + self.plot_bottom) / 2


def nice_step(span: float, intervals: int = TICKS, *, whole: bool) -> float:
    """A round tick step (1, 2, 2.5 or 5 times a power of ten) covering `span` in `intervals`."""
    raw = span / intervals
    if raw <= 0:
        return 1
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        step = factor * magnitude
        if step >= raw and (not whole or step == int(step)):
            return step
    return 10 * magnitude


def bar_chart(
    *,
    name: str,
    title: str,
    description: str,
    values: Sequence[int | Decimal],
    tooltips: Sequence[str],
    x_labels: Sequence[str],
    format_tick: Callable[[float], str],
    empty_message: str = "Nothing in this period.",
    whole: bool = False,
    label_every: int = 5,
) -> BarChart:
    """One bar per value, left to right; the last one is always labelled on the x axis.

    `whole`: the values are counts, so y ticks are whole numbers.
    """
    plot_left, plot_right = PLOT_LEFT, WIDTH - PLOT_RIGHT
    plot_top, plot_bottom = PLOT_TOP, HEIGHT - PLOT_BOTTOM
    plot_height = plot_bottom - plot_top
    peak = float(max(values, default=0))
    step = nice_step(peak, whole=whole) if peak > 0 else 1
    top = step * max(1, math.ceil(peak / step))
    slot = (plot_right - plot_left) / max(1, len(values))
    bar_width = slot * (1 - BAR_GAP)

    bars = []
    for index, (value, tooltip) in enumerate(zip(values, tooltips, strict=True)):
        height = plot_height * float(value) / top
        slot_x = plot_left + index * slot
        bars.append(
            Bar(
                slot_x=round(slot_x, 2),
                slot_width=round(slot, 2),
                x=round(slot_x + (slot - bar_width) / 2, 2),
                y=round(plot_bottom - height, 2),
                width=round(bar_width, 2),
                height=round(height, 2),
                tooltip=tooltip,
            )
        )
    intervals = round(top / step)
    y_ticks = [
        Tick(position=round(plot_bottom - plot_height * i / intervals, 2), label=format_tick(step * i))
        for i in range(intervals + 1)
    ]
    last = len(x_labels) - 1
    x_ticks = [
        Tick(position=round(plot_left + (index + 0.5) * slot, 2), label=label)
        for index, label in enumerate(x_labels)
        # Every few days counting back from the last, so today always has its label.
        if (last - index) % label_every == 0
    ]
    return BarChart(
        name=name,
        title=title,
        description=description,
        width=WIDTH,
        height=HEIGHT,
        plot_left=plot_left,
        plot_right=plot_right,
        plot_top=plot_top,
        plot_bottom=plot_bottom,
        bars=bars,
        y_ticks=y_ticks,
        x_ticks=x_ticks,
        empty=peak == 0,
        empty_message=empty_message,
    )
