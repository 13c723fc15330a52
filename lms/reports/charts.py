"""Dashboard charts as inline SVG, drawn on the server the way the feedback results draw
theirs (``lms.feedback.charts``): no script, scaled to the width of a phone, one image to a
screen reader whose label says the same numbers are in the table beside it. Each bar carries
its number as text, so no reading depends on colour.

Labels (course, cohort and competency names) come from people, so they are escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH = 400
FONT = 16
BAR_HEIGHT = 18
BAR_SPACE = 280
LABEL_LIMIT = 44
KEY_LINE = 24  # one line of a chart's key
BLUE = "#005eb8"  # NHS blue
GREY = "#425563"  # NHS dark grey
TEXT = "#212b32"  # NHS black
TRACK = "#e8edee"  # NHS pale grey


@dataclass(frozen=True)
class ChartBar:
    """One bar: its label, the value that sets its length, and the text printed after it."""

    label: str
    value: float
    text: str


@dataclass(frozen=True)
class PairedBar:
    """Two values for one label, such as an ICS's share and the region's."""

    label: str
    first: float
    second: float


def _short(label: str) -> str:
    return label if len(label) <= LABEL_LIMIT else label[: LABEL_LIMIT - 1].rstrip() + "…"


def _length(value: float, largest: float) -> int:
    if not largest or value <= 0:
        return 0
    return max(2, round(BAR_SPACE * min(value, largest) / largest))


def _open(chart_id: str, title: str, height: int) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="lms-chart" width="100%" '
        f'viewBox="0 0 {WIDTH} {height}" role="img" aria-labelledby="{escape(chart_id)}" '
        f'focusable="false">',
        f'<title id="{escape(chart_id)}">{escape(title)}</title>',
    ]


def bar_chart(chart_id: str, title: str, bars: Sequence[ChartBar],
              maximum: float | None = None) -> Markup:
    """A horizontal bar chart: each label above its bar and its text after it. Bars are scaled
    to ``maximum`` (100 for percentages) or to the largest value."""
    row = 52
    height = row * len(bars) + 6
    largest = maximum if maximum is not None else max((b.value for b in bars), default=0)
    parts = _open(chart_id, title, height)
    for index, bar in enumerate(bars):
        top = index * row
        parts.append(
            f'<text x="0" y="{top + 17}" font-size="{FONT}" fill="{TEXT}">'
            f"{escape(_short(bar.label))}</text>"
            f'<rect x="0" y="{top + 25}" width="{BAR_SPACE}" height="{BAR_HEIGHT}" '
            f'fill="{TRACK}"></rect>'
            f'<rect x="0" y="{top + 25}" width="{_length(bar.value, largest)}" '
            f'height="{BAR_HEIGHT}" fill="{BLUE}"></rect>'
            f'<text x="{BAR_SPACE + 6}" y="{top + 40}" font-size="{FONT}" fill="{TEXT}">'
            f"{escape(bar.text)}</text>"
        )
    parts.append("</svg>")
    # Every piece of text went through ``escape``; the rest is numbers.
    return Markup("".join(parts))  # noqa: S704


def paired_bar_chart(chart_id: str, title: str, rows: Sequence[PairedBar],
                     names: tuple[str, str], suffix: str = "%",
                     maximum: float = 100) -> Markup:
    """Two bars per label (the first solid blue, the second dark grey and thinner), with a key
    at the top and each value printed after its bar with the series' name.

    The key gives each series a line of its own, so a long name (an ICS such as "Birmingham
    and Solihull") can never run into the other's swatch."""
    row = 70
    key = KEY_LINE * 2 + 6
    height = key + row * len(rows) + 6
    parts = _open(chart_id, title, height)
    for line, (name, colour, swatch) in enumerate(((names[0], BLUE, 16), (names[1], GREY, 8))):
        top = line * KEY_LINE
        parts.append(
            f'<rect x="0" y="{top + 6 + (16 - swatch) // 2}" width="16" height="{swatch}" '
            f'fill="{colour}"></rect>'
            f'<text x="22" y="{top + 20}" font-size="{FONT}" fill="{TEXT}">'
            f"{escape(_short(name))}</text>")
    for index, pair in enumerate(rows):
        top = key + index * row
        parts.append(
            f'<text x="0" y="{top + 17}" font-size="{FONT}" fill="{TEXT}">'
            f"{escape(_short(pair.label))}</text>"
            f'<rect x="0" y="{top + 24}" width="{BAR_SPACE}" height="{BAR_HEIGHT}" '
            f'fill="{TRACK}"></rect>'
            f'<rect x="0" y="{top + 24}" width="{_length(pair.first, maximum)}" '
            f'height="{BAR_HEIGHT}" fill="{BLUE}"></rect>'
            f'<text x="{BAR_SPACE + 6}" y="{top + 39}" font-size="{FONT - 2}" fill="{TEXT}">'
            f"{_number(pair.first)}{escape(suffix)}</text>"
            f'<rect x="0" y="{top + 46}" width="{_length(pair.second, maximum)}" height="10" '
            f'fill="{GREY}"></rect>'
            f'<text x="{BAR_SPACE + 6}" y="{top + 57}" font-size="{FONT - 2}" fill="{TEXT}">'
            f"{_number(pair.second)}{escape(suffix)}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"
