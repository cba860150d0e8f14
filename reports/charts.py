"""The report's charts, a pie by platform and bars by month, drawn with matplotlib as deterministic SVG.

Text is drawn as paths (``svg.fonttype = "path"``) in DejaVu Sans, which matplotlib ships, so the
chart looks the same in a browser and in WeasyPrint and needs no font on the reader's machine.
matplotlib is imported inside the function: importing this module stays cheap.
"""

from __future__ import annotations

import io
import math
import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from matplotlib.typing import RcKeyType

# Okabe-Ito: distinguishable with the common colour-vision deficiencies, and in greyscale print.
PALETTE: Final = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#CC79A7",
    "#56B4E9",
    "#D55E00",
    "#F0E442",
    "#000000",
)
"""Slice colours, by the label's position in the input (so a platform keeps its colour when another
platform is left out of the pie)."""

FONT_FAMILY: Final = "DejaVu Sans"
SVG_HASH_SALT: Final = "sci-report"
LEGEND_LABEL_MAX_CHARS: Final = 32
MIN_SHARE_FOR_WEDGE_LABEL: Final = 0.06  # smaller slices get their share in the legend only
FIGURE_SIZE_IN: Final = (6.4, 2.6)
TREND_FIGURE_SIZE_IN: Final = (6.4, 2.8)
MAX_BAR_WIDTH: Final = 0.22  # of a month's slot, so one month with one platform is not a wall of colour


def slice_colour(index: int) -> str:
    """The colour of the ``index``-th label of a pie (the palette repeats after 8)."""
    return PALETTE[index % len(PALETTE)]


def pie_chart_svg(labels: Sequence[str], values: Sequence[float], *, title: str, unit: str = "") -> str:
    """A pie of ``values`` by ``labels`` as an SVG document; the same input gives the same bytes.

    ``unit`` (optional) follows each value in the legend and the note; the title should name it too.

    Values that are zero, negative or not finite cannot be a slice: they are left out and named in a
    note under the pie. With no positive value at all the chart is a placeholder that says so.
    """
    if len(labels) != len(values):
        raise ValueError(f"pie_chart_svg: {len(labels)} labels for {len(values)} values")

    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    shown = [
        (i, label, value)
        for i, (label, value) in enumerate(zip(labels, values, strict=True))
        if _is_slice(value)
    ]
    left_out = [(label, value) for label, value in zip(labels, values, strict=True) if not _is_slice(value)]

    rc: dict[RcKeyType, Any] = {
        "svg.fonttype": "path",  # glyphs as paths: identical in browsers and WeasyPrint, no font needed
        "svg.hashsalt": SVG_HASH_SALT,  # fixed ids, so the same input gives the same bytes
        "font.family": "sans-serif",
        "font.sans-serif": [FONT_FAMILY],
        "font.size": 9.0,
        "text.parse_math": False,  # a "$" in a platform name is text, not mathtext
    }
    with matplotlib.rc_context(rc):
        figure = Figure(figsize=FIGURE_SIZE_IN)
        FigureCanvasAgg(figure)  # no pyplot, no global backend switch: the figure draws with Agg
        figure.suptitle(title, fontsize=11, fontweight="bold")
        if shown:
            _draw_pie(figure, shown, unit=unit, bottom=0.16 if left_out else 0.04)
        else:
            figure.text(
                0.5,
                0.55,
                "No platform has a positive value to chart.",
                ha="center",
                va="center",
                fontsize=11,
                color="#555555",
            )
        if left_out:
            note = "Not shown (zero or negative): " + "; ".join(
                f"{_shorten(label)} ({_with_unit(value, unit)})" for label, value in left_out
            )
            figure.text(
                0.02,
                0.03,
                "\n".join(textwrap.wrap(note, width=110)),
                ha="left",
                va="bottom",
                fontsize=7.5,
                color="#333333",
            )
        buffer = io.StringIO()
        # bbox_inches="tight": a long legend or note widens the drawing instead of being cut off.
        figure.savefig(
            buffer,
            format="svg",
            bbox_inches="tight",
            pad_inches=0.08,
            metadata={"Date": None, "Creator": None},
        )
    return buffer.getvalue()


def _draw_pie(figure: Figure, shown: Sequence[tuple[int, str, float]], *, unit: str, bottom: float) -> None:
    axes = figure.add_axes((0.02, bottom, 0.42, 0.86 - bottom))
    values = [value for _, _, value in shown]
    colours = [slice_colour(i) for i, _, _ in shown]
    total = sum(values)
    wedges, _texts = axes.pie(
        values,
        colors=colours,
        startangle=90,
        counterclock=False,
        wedgeprops={"linewidth": 1.0, "edgecolor": "white"},
    )
    for wedge, value, colour in zip(wedges, values, colours, strict=True):
        share = value / total
        if share < MIN_SHARE_FOR_WEDGE_LABEL:
            continue
        angle = math.radians((wedge.theta1 + wedge.theta2) / 2)
        axes.text(
            0.62 * math.cos(angle),
            0.62 * math.sin(angle),
            f"{share:.0%}",
            ha="center",
            va="center",
            fontsize=9,
            fontweight="bold",
            color=_text_colour_on(colour),
        )
    axes.set_aspect("equal")
    figure.legend(
        wedges,
        [f"{_shorten(label)}: {_with_unit(value, unit)} ({value / total:.1%})" for _, label, value in shown],
        loc="center left",
        bbox_to_anchor=(0.46, 0.5),
        frameon=False,
        fontsize=9,
        handlelength=1.2,
    )


def _is_slice(value: float) -> bool:
    return math.isfinite(value) and value > 0


def _shorten(label: str) -> str:
    one_line = " ".join(label.split())
    if len(one_line) <= LEGEND_LABEL_MAX_CHARS:
        return one_line
    return one_line[: LEGEND_LABEL_MAX_CHARS - 1] + "\u2026"


def _plain_number(value: float) -> str:
    if not math.isfinite(value):
        return "not a number"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:,.3g}"


def _with_unit(value: float, unit: str) -> str:
    return f"{_plain_number(value)} {unit}" if unit else _plain_number(value)


def _text_colour_on(background: str) -> str:
    red, green, blue = (int(background[i : i + 2], 16) / 255 for i in (1, 3, 5))
    luminance = 0.2126 * red + 0.7152 * green + 0.0722 * blue
    return "#000000" if luminance > 0.45 else "#FFFFFF"


def bar_chart_svg(
    periods: Sequence[str],
    series: Sequence[tuple[int, str, Sequence[float]]],
    *,
    title: str,
    unit: str,
) -> str:
    """Grouped bars: one group per period, one bar per series ``(colour index, label, values)``.

    Bars keep the colour of their platform (``slice_colour(index)``). With one period the bars are
    narrow and centred, with the period named under them; non-finite values are drawn as 0 and named in
    a note. The same input gives the same bytes.
    """
    for _, label, values in series:
        if len(values) != len(periods):
            raise ValueError(f"bar_chart_svg: {label!r} has {len(values)} values for {len(periods)} periods")

    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    with matplotlib.rc_context(_rc()):
        figure = Figure(figsize=TREND_FIGURE_SIZE_IN)
        FigureCanvasAgg(figure)
        figure.suptitle(title, fontsize=11, fontweight="bold")
        if periods and series:
            _draw_bars(figure, periods, series, unit=unit)
        else:
            figure.text(0.5, 0.5, "No monthly figures to chart.", ha="center", va="center", color="#555555")
        return _svg(figure)


def _draw_bars(
    figure: Figure, periods: Sequence[str], series: Sequence[tuple[int, str, Sequence[float]]], *, unit: str
) -> None:
    axes = figure.add_axes((0.1, 0.14, 0.52, 0.72))
    width = min(0.8 / len(series), MAX_BAR_WIDTH)
    offset0 = -width * (len(series) - 1) / 2
    missing: list[str] = []
    for position, (index, label, values) in enumerate(series):
        heights = []
        for period, value in zip(periods, values, strict=True):
            if not math.isfinite(value):
                missing.append(f"{_shorten(label)} {period}")
            heights.append(value if math.isfinite(value) else 0.0)
        xs = [i + offset0 + position * width for i in range(len(periods))]
        axes.bar(xs, heights, width=width * 0.92, color=slice_colour(index), label=_shorten(label))
    axes.set_xticks(range(len(periods)), list(periods))
    axes.set_xlim(-0.5, len(periods) - 0.5)
    axes.set_ylabel(unit)
    axes.yaxis.grid(True, color="#dddddd", linewidth=0.6)
    axes.set_axisbelow(True)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    axes.axhline(0, color="#555555", linewidth=0.8)
    figure.legend(loc="center left", bbox_to_anchor=(0.64, 0.5), frameon=False, fontsize=9, handlelength=1.2)
    if missing:
        figure.text(0.02, 0.01, "No value: " + "; ".join(missing), fontsize=7.5, color="#333333")


def _rc() -> dict[RcKeyType, Any]:
    return {
        "svg.fonttype": "path",
        "svg.hashsalt": SVG_HASH_SALT,
        "font.family": "sans-serif",
        "font.sans-serif": [FONT_FAMILY],
        "font.size": 9.0,
        "text.parse_math": False,
    }


def _svg(figure: Figure) -> str:
    buffer = io.StringIO()
    figure.savefig(
        buffer, format="svg", bbox_inches="tight", pad_inches=0.08, metadata={"Date": None, "Creator": None}
    )
    return buffer.getvalue()
