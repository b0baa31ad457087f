"""Chart specs to Plotly figures, built server-side so every surface shows the same chart."""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

import plotly.graph_objects as go

from finstream.formatting import format_value, tick_label
from finstream.tools.plain_figure import plain_figure

if TYPE_CHECKING:
    from finstream.tools.outputs import ChartInput, Series

PALETTE = ["#1f4e79", "#2e86c1", "#f39c12", "#27ae60", "#8e44ad", "#c0392b", "#16a085", "#7f8c8d"]


def _hover(series: Any) -> list[str]:
    """Per-point source text, so a hover tells where each number came from."""
    out = []
    for src in series.sources or [None] * len(series.values):
        if src is None:
            out.append("")
            continue
        bits = [src.document]
        bits += [b for b in (src.concept, src.period, src.section) if b]
        if src.page:
            bits.append(f"page {src.page}")
        out.append("Source: " + " · ".join(bits))
    return out


def _nice_step(span: float, ticks: int = 5) -> float:
    raw = span / max(ticks, 1)
    power = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    for m in (1, 2, 2.5, 5, 10):
        if raw <= m * power:
            return m * power
    return 10 * power


def _axis(values: list[float], unit: str | None, from_zero: bool) -> dict[str, Any]:
    """A y axis with money-formatted ticks ($100B, not 100G) over a range that starts at zero
    when asked (bars), else fits the data (lines), with a flag saying which."""
    if not values:
        return {}
    low, high = min(values), max(values)
    if from_zero:
        low, high = min(low, 0.0), max(high, 0.0)
    else:
        pad = (high - low) * 0.08 or abs(high) * 0.05 or 1.0
        low, high = low - pad, high + pad
        if min(values) >= 0 and low < 0:
            low = 0.0
    step = _nice_step(high - low or abs(high) or 1.0)
    start = math.floor(low / step) * step
    ticks: list[float] = []
    tick = start
    while tick <= high + step * 0.5 and len(ticks) < 12:
        ticks.append(round(tick, 10))
        tick += step
    axis = {
        "tickvals": ticks,
        "ticktext": [tick_label(t, unit) for t in ticks],
        "range": [min(start, low) if from_zero else ticks[0], max(ticks[-1], high)],
        "zeroline": True,
    }
    return axis


def _values(s: Series) -> list[float | None]:
    """A series' values: filled from its fact ids before any figure is built."""
    if s.values is None:
        raise ValueError(f"series {s.name!r} has no values")
    return s.values


def build_figure(spec: ChartInput) -> dict[str, Any]:
    """Return the Plotly figure as a JSON-ready dict.

    Hovers print each value formatted for its unit ($391.0B, 46.2%) with its source; bar-like
    charts start their axis at zero; a line chart whose axis does not start at zero says so in
    its axis title.
    """
    fig = go.Figure()
    kind = spec.chart_type
    unit = spec.unit
    for i, s in enumerate(spec.series):
        color = PALETTE[i % len(PALETTE)]
        hover = _hover(s)
        shown = [format_value(v, unit) if v is not None else "n/a" for v in _values(s)]
        common = {"name": s.name, "customdata": [[t, h] for t, h in zip(shown, hover, strict=True)]}
        template = "%{x}: %{customdata[0]}<br>%{customdata[1]}<extra>%{fullData.name}</extra>"
        if kind in ("line", "area", "scatter"):
            fig.add_trace(
                go.Scatter(
                    x=spec.x,
                    y=s.values,
                    mode="markers" if kind == "scatter" else "lines+markers",
                    fill="tozeroy" if kind == "area" else None,
                    line={"color": color},
                    hovertemplate=template,
                    **common,
                )
            )
        elif kind in ("bar", "grouped_bar", "stacked_bar"):
            fig.add_trace(go.Bar(x=spec.x, y=s.values, marker_color=color, hovertemplate=template, **common))
        elif kind == "pie":
            fig.add_trace(go.Pie(labels=spec.x, values=s.values, name=s.name, customdata=common["customdata"],
                                 hovertemplate="%{label}: %{customdata[0][0]} (%{percent})<extra></extra>"))
        elif kind == "waterfall":
            measures = ["relative"] * len(_values(s))
            fig.add_trace(go.Waterfall(x=spec.x, y=s.values, measure=measures, hovertemplate=template, **common))
    y_title = spec.y_label or spec.unit or ""
    layout: dict[str, Any] = {
        "title": {"text": spec.title},
        "template": "plotly_white",
        "margin": {"l": 60, "r": 20, "t": 60, "b": 40},
        "legend": {"orientation": "h", "y": -0.15},
        "xaxis": {"type": "category"},
        "separators": ".,",
    }
    if kind != "pie":
        values = [v for s in spec.series for v in _values(s) if v is not None]
        if kind == "stacked_bar":
            stacks: list[float] = [sum(v for s in spec.series if (v := _values(s)[i]) is not None and v > 0)
                      for i in range(len(spec.x))]
            dips: list[float] = [sum(v for s in spec.series if (v := _values(s)[i]) is not None and v < 0)
                    for i in range(len(spec.x))]
            values = stacks + dips
        elif kind == "waterfall":  # relative steps: the bars reach the running totals
            values = []
            for s in spec.series:
                total = 0.0
                for v in _values(s):
                    total += v or 0.0
                    values.append(total)
        from_zero = kind not in ("line", "scatter")
        axis = _axis(values, unit, from_zero)
        if not from_zero and axis and axis["range"][0] > 0:
            y_title = (y_title + " " if y_title else "") + "(not from zero)"
        layout["yaxis"] = {"title": {"text": y_title}, **axis}
    if kind == "stacked_bar":
        layout["barmode"] = "stack"
    elif kind in ("bar", "grouped_bar"):
        layout["barmode"] = "group"
    fig.update_layout(**layout)
    # to_json handles numpy/NaN; round-trip to plain JSON types for the event log. Text made
    # literal here, so no surface (API clients included) draws links or markup from it.
    return plain_figure(json.loads(fig.to_json()))
