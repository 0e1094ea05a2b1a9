"""The consoles' charts: Plotly figures built here in Python, embedded as an HTML fragment.

Each builder returns :class:`Chart`, whose ``html`` is an empty ``<div>`` carrying the figure as JSON
in ``data-figure`` (and Plotly's options in ``data-config``); ``js/charts.js`` draws every such div
with ``Plotly.newPlot``. No inline script: the Content-Security-Policy allows none, which is why
Plotly's own ``fig.to_html`` (a ``<script>`` per chart) is not used. The page loads Plotly itself
once, from the offline bundle the server ships (``plotly_url()``, no CDN), with its stylesheet
(``console/base.html`` does both when a page sets ``charts = true``).

Speed: a figure is built in one ``go.Figure(data, layout)`` call from a finished layout dict. Every
``update_layout`` / ``update_xaxes`` call validates the figure again and costs milliseconds, which
turned a 1 ms chart into 10–15 ms; and no Plotly template is used (the default one alone is about 7 KB
of JSON per chart). Money arrives in integer fen and is plotted in yuan (a chart needs numbers; the
hover text shows the exact amount, formatted from the integer). Every chart also has its numbers in a
table on the same page, so nothing is only in the picture.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from zhongcao.web.templating import YUAN, format_number, format_share, money

FONT = 'system-ui, -apple-system, "PingFang SC", "Noto Sans CJK SC", "Microsoft YaHei", sans-serif'
INK, MUTED, GRID = "#1d2129", "#4e5563", "#e6e8ec"
BRAND, BLUE, GREEN, AMBER, PURPLE, GREY = "#d61f4c", "#1a56db", "#137a3f", "#b26a00", "#6d28d9", "#8a909c"
PALETTE = (BRAND, BLUE, GREEN, AMBER, PURPLE, "#0e7490", GREY)
CONFIG = {"displayModeBar": False, "responsive": True}
NO_GRID = "rgba(0,0,0,0)"
_ids = itertools.count(1)


@dataclass(frozen=True)
class Chart:
    html: Markup
    label: str  # what the chart shows, for the figure's accessible name

    def __html__(self) -> str:
        return self.html


def _go() -> Any:
    import plotly.graph_objects as go  # a fifth of a second to import: the first chart pays it

    return go


def _axis(**extra: Any) -> dict[str, Any]:
    return {
        "gridcolor": GRID,
        "linecolor": GRID,
        "zeroline": False,
        "automargin": True,
        "color": MUTED,
        **extra,
    }


def _layout(
    height: int,
    *,
    legend: bool = True,
    xaxis: dict[str, Any] | None = None,
    yaxis: dict[str, Any] | None = None,
    dates: bool = False,
    **extra: Any,
) -> dict[str, Any]:
    x = _axis(**(xaxis or {}))
    if dates:  # ISO days in; shown as month-day (the period is printed above every chart)
        x.update(type="date", tickformat="%m-%d", hoverformat="%Y-%m-%d")
    return {
        "template": "none",
        "height": height,
        "font": {"family": FONT, "size": 13, "color": INK},
        "margin": {"l": 8, "r": 8, "t": 8, "b": 8},
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        "colorway": list(PALETTE),
        "showlegend": legend,
        "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
        "hoverlabel": {"font": {"family": FONT}},
        "xaxis": x,
        "yaxis": _axis(**{"rangemode": "tozero", **(yaxis or {})}),
        **extra,
    }


def _render(data: list[Any], layout: dict[str, Any], label: str) -> Chart:
    fig = _go().Figure(data=data, layout=layout)
    html = Markup(
        '<div id="chart-{}" class="plotly-graph-div" data-figure="{}" data-config="{}"></div>'
    ).format(next(_ids), fig.to_json(), json.dumps(CONFIG))
    return Chart(html, label)


def _yuan(fen: int) -> float:
    return fen / 100


MONEY_AXIS = {"tickprefix": YUAN, "separatethousands": True}


# --- builders --------------------------------------------------------------------------------------


def trend(
    days: Sequence[str],
    current: Sequence[int],
    previous: Sequence[int],
    *,
    label: str,
    current_name: str,
    previous_name: str,
    is_money: bool,
) -> Chart:
    """A daily series of the period against the period before, laid over the same days (``days``:
    the period's ISO dates; the period before is drawn against the day it lines up with)."""
    go = _go()

    def texts(values: Sequence[int]) -> list[str]:
        return [money(v) if is_money else format_number(v) for v in values]

    def scale(values: Sequence[int]) -> list[float]:
        return [_yuan(v) for v in values] if is_money else list(values)

    data = [
        go.Scatter(
            x=list(days),
            y=scale(previous),
            name=previous_name,
            mode="lines",
            line={"color": GREY, "width": 2, "dash": "dot"},
            customdata=texts(previous),
            hovertemplate="%{customdata}<extra>" + previous_name + "</extra>",
        ),
        go.Scatter(
            x=list(days),
            y=scale(current),
            name=current_name,
            mode="lines+markers",
            line={"color": BRAND, "width": 3},
            marker={"size": 5},
            customdata=texts(current),
            hovertemplate="%{customdata}<extra>" + current_name + "</extra>",
        ),
    ]
    yaxis = dict(MONEY_AXIS) if is_money else {}
    if not is_money and max([*current, *previous, 0]) <= 10:
        yaxis["dtick"] = 1  # a few orders a day: whole numbers on the axis
    return _render(data, _layout(300, dates=True, yaxis=yaxis, hovermode="x unified"), label)


def funnel(stages: Sequence[tuple[str, int]], *, label: str, color: str = BRAND) -> Chart:
    """A funnel: each stage's count, and its share of the first stage."""
    go = _go()
    data = [
        go.Funnel(
            y=[name for name, _ in stages],
            x=[value for _, value in stages],
            texttemplate="%{value:,}<br>%{percentInitial:.2%}",
            marker={"color": [color] * len(stages)},
            connector={"fillcolor": "#f3d3dc" if color == BRAND else "#dbe4fb"},
            hovertemplate="%{y}: %{x:,}<extra></extra>",
        )
    ]
    layout = _layout(60 + 56 * len(stages), legend=False, yaxis={"gridcolor": NO_GRID})
    return _render(data, layout, label)


def split(rows: Sequence[tuple[str, int]], *, label: str, is_money: bool = True) -> Chart:
    """Shares of a whole (GMV by channel, by FACT carrier) as a donut (empty parts left out)."""
    go = _go()
    # A part keeps its colour whichever others are empty (the same colours as the page's other charts).
    parts = [(name, value, PALETTE[i % len(PALETTE)]) for i, (name, value) in enumerate(rows) if value > 0]
    data = [
        go.Pie(
            labels=[name for name, _, _ in parts],
            values=[_yuan(v) if is_money else v for _, v, _ in parts],
            customdata=[money(v) if is_money else format_number(v) for _, v, _ in parts],
            hole=0.55,
            sort=False,
            direction="clockwise",
            marker={"colors": [color for _, _, color in parts], "line": {"color": "#ffffff", "width": 2}},
            textinfo="percent",
            textposition="inside",
            insidetextorientation="horizontal",
            hovertemplate="%{label}: %{customdata} (%{percent})<extra></extra>",
        )
    ]
    # Slivers too thin for their label show none (the table beside the chart has every share).
    layout = _layout(280, uniformtext={"minsize": 11, "mode": "hide"})
    layout["legend"] = {"orientation": "v", "y": 0.5, "yanchor": "middle", "x": 1.02}
    return _render(data, layout, label)


def bars(
    rows: Sequence[tuple[str, float]],
    *,
    label: str,
    horizontal: bool = False,
    color: str = BRAND,
    percent: bool = False,
    value_texts: Sequence[str] | None = None,
    height: int | None = None,
    colors: Sequence[str] | None = None,
    value_max: float | None = None,
) -> Chart:
    """One bar per row (RFM segments, score bands, indicator percentiles, NPS drivers);
    ``value_max`` fixes the value axis's end (percentiles: 100)."""
    go = _go()
    names, values = [r[0] for r in rows], [r[1] for r in rows]
    if value_texts is not None:
        texts = list(value_texts)
    else:
        texts = [format_share(v) if percent else format_number(v) for v in values]
    data = [
        go.Bar(
            x=values if horizontal else names,
            y=names if horizontal else values,
            orientation="h" if horizontal else "v",
            marker={"color": list(colors) if colors else color},
            text=texts,
            textposition="outside" if horizontal else "auto",
            cliponaxis=False,
            hovertemplate="%{" + ("y" if horizontal else "x") + "}: %{text}<extra></extra>",
        )
    ]
    top = max([float(v) for v in values] + [0.0])
    value_axis: dict[str, Any] = {"tickformat": ".0%"} if percent else {}
    if horizontal:
        # Room on the right for the values printed after each bar.
        end = value_max if value_max is not None else top
        value_axis["range"] = [0, end * 1.12 if end > 0 else 1]
        layout = _layout(
            height or 60 + 36 * len(rows),
            legend=False,
            xaxis=value_axis,
            yaxis={"autorange": "reversed", "gridcolor": NO_GRID},
        )
    else:
        if not percent and top <= 10 and all(float(v).is_integer() for v in values):
            value_axis["dtick"] = 1  # counts of a few: no 0.2 steps
        layout = _layout(height or 300, legend=False, yaxis=value_axis)
    return _render(data, layout, label)


def money_series(
    days: Sequence[str], series: Sequence[tuple[str, Sequence[int]]], *, label: str, stacked: bool = True
) -> Chart:
    """Daily amounts: parts of a whole stacked (GMV by field), or side by side as lines."""
    go = _go()
    data = [
        go.Scatter(
            x=list(days),
            y=[_yuan(v) for v in values],
            name=name,
            mode="lines" if stacked else "lines+markers",
            stackgroup="gmv" if stacked else None,
            line={"width": 1.5 if stacked else 2.5, "color": color},
            customdata=[money(v) for v in values],
            hovertemplate="%{customdata}<extra>" + name + "</extra>",
        )
        for (name, values), color in zip(series, PALETTE, strict=False)
    ]
    layout = _layout(320, dates=True, yaxis=dict(MONEY_AXIS), hovermode="x unified")
    layout["legend"]["traceorder"] = "normal"
    return _render(data, layout, label)


def band_line(
    xs: Sequence[str],
    values: Sequence[float | None],
    lows: Sequence[float | None],
    highs: Sequence[float | None],
    *,
    label: str,
    name: str,
    band_name: str,
    y_range: tuple[float, float] | None = None,
) -> Chart:
    """A line with its confidence band (the weekly NPS and its 95% interval)."""
    go = _go()
    data = [
        go.Scatter(
            x=list(xs) + list(xs)[::-1],
            y=list(highs) + list(lows)[::-1],
            fill="toself",
            fillcolor="rgba(214,31,76,0.12)",
            line={"width": 0},
            name=band_name,
            hoverinfo="skip",
        ),
        go.Scatter(
            x=list(xs),
            y=list(values),
            name=name,
            mode="lines+markers",
            line={"color": BRAND, "width": 3},
            connectgaps=False,
            hovertemplate="%{y:.1f}<extra>" + name + "</extra>",
        ),
    ]
    yaxis: dict[str, Any] = {"rangemode": "normal", "zeroline": True, "zerolinecolor": GRID}
    if y_range is not None:
        yaxis["range"] = list(y_range)
    return _render(data, _layout(300, dates=True, yaxis=yaxis), label)


def line(
    xs: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | None]]],
    *,
    label: str,
    y_range: tuple[float, float] | None = None,
) -> Chart:
    """Plain lines over time (a shop's experience score, night by night)."""
    go = _go()
    data = [
        go.Scatter(
            x=list(xs), y=list(values), name=name, mode="lines+markers", line={"color": color, "width": 2}
        )
        for (name, values), color in zip(series, PALETTE, strict=False)
    ]
    yaxis: dict[str, Any] = {"rangemode": "normal"}
    if y_range is not None:
        yaxis["range"] = list(y_range)
    return _render(data, _layout(260, legend=len(series) > 1, dates=True, yaxis=yaxis), label)


def heatmap(
    x: Sequence[str], y: Sequence[str], z: Sequence[Sequence[int]], *, label: str, x_name: str, y_name: str
) -> Chart:
    """Counts in a matrix (rows ``y``, columns ``x``) drawn as a grid of squares, darker and larger for
    more: an integrity case's evidence, accounts down the side and targets or minutes across. Squares
    on a scatter rather than a Plotly heatmap: the heatmap trace styles elements inline, which the
    Content-Security-Policy (no inline style) refuses."""
    go = _go()
    cells = [(xv, yv, n) for yv, row in zip(y, z, strict=True) for xv, n in zip(x, row, strict=True) if n]
    top = max((n for _, _, n in cells), default=1)
    height = max(220, min(640, 80 + 22 * len(y)))
    data = [
        go.Scatter(
            x=[c[0] for c in cells],
            y=[c[1] for c in cells],
            mode="markers",
            marker={
                "symbol": "square",
                "size": [8 + 10 * n / top for _, _, n in cells],
                "color": [n for _, _, n in cells],
                "colorscale": [[0.0, "#f7b6c6"], [1.0, BRAND]],
                "cmin": 0,
                "cmax": top,
                "line": {"width": 0},
            },
            customdata=[n for _, _, n in cells],
            hovertemplate=y_name + " %{y} · " + x_name + " %{x}: %{customdata}<extra></extra>",
        )
    ]
    layout = _layout(
        height,
        legend=False,
        xaxis={
            "type": "category",
            "title": {"text": x_name},
            "categoryarray": list(x),
            "categoryorder": "array",
        },
        yaxis={
            "type": "category",
            "title": {"text": y_name},
            "categoryarray": list(y),
            "categoryorder": "array",
            "autorange": "reversed",
            "rangemode": "normal",
        },
    )
    return _render(data, layout, label)
