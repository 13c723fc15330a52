"""Charts as inline SVG, drawn on the server: no script, readable on a phone, and announced
to screen readers as one image whose label points to the table of the same numbers that the
page shows beside it.

Every piece of text in a chart (question wording, option labels) comes from people, so it is
escaped.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

from lms.feedback.results import Bar

WIDTH = 400
ROW = 52
FONT = 16  # about 14px once a phone scales the chart to its width
BAR_HEIGHT = 18
BAR_SPACE = 280  # leaves room for "1,234 (100%)" after the longest bar
LABEL_LIMIT = 44
BLUE = "#005eb8"  # NHS blue
TEXT = "#212b32"  # NHS black
TRACK = "#e8edee"  # NHS pale grey


def _short(label: str) -> str:
    return label if len(label) <= LABEL_LIMIT else label[: LABEL_LIMIT - 1].rstrip() + "…"


def bar_chart(chart_id: str, title: str, bars: Sequence[Bar]) -> Markup:
    """A horizontal bar chart: each answer's label above its bar, and its count and share at
    the end. ``title`` names the chart for screen readers; the page must show a table of the
    same numbers beside it."""
    height = ROW * len(bars) + 6
    largest = max((bar.count for bar in bars), default=0)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="lms-chart" width="100%" '
        f'viewBox="0 0 {WIDTH} {height}" role="img" aria-labelledby="{escape(chart_id)}" '
        f'focusable="false">',
        f'<title id="{escape(chart_id)}">{escape(title)}</title>',
    ]
    for index, bar in enumerate(bars):
        top = index * ROW
        length = round(BAR_SPACE * bar.count / largest) if largest else 0
        if bar.count and length < 2:
            length = 2
        parts.append(
            f'<text x="0" y="{top + 17}" font-size="{FONT}" fill="{TEXT}">'
            f"{escape(_short(bar.label))}</text>"
            f'<rect x="0" y="{top + 25}" width="{BAR_SPACE}" height="{BAR_HEIGHT}" '
            f'fill="{TRACK}"></rect>'
            f'<rect x="0" y="{top + 25}" width="{length}" height="{BAR_HEIGHT}" '
            f'fill="{BLUE}"></rect>'
            f'<text x="{BAR_SPACE + 6}" y="{top + 40}" font-size="{FONT}" fill="{TEXT}">'
            f"{bar.count:,} ({bar.percent}%)</text>"
        )
    parts.append("</svg>")
    # Every piece of text above went through ``escape``; the rest is numbers.
    return Markup("".join(parts))  # noqa: S704
