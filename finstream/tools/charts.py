"""Chart specs to Plotly figures, built server-side so every surface shows the same chart."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import plotly.graph_objects as go

from finstream.tools.plain_figure import plain_figure

if TYPE_CHECKING:
    from finstream.tools.outputs import ChartInput

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


def build_figure(spec: ChartInput) -> dict[str, Any]:
    """Return the Plotly figure as a JSON-ready dict."""
    fig = go.Figure()
    kind = spec.chart_type
    for i, s in enumerate(spec.series):
        color = PALETTE[i % len(PALETTE)]
        hover = _hover(s)
        common = {"name": s.name, "customdata": hover}
        template = "%{x}: %{y:,.4~g}<br>%{customdata}<extra>%{fullData.name}</extra>"
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
            fig.add_trace(go.Pie(labels=spec.x, values=s.values, name=s.name, customdata=hover))
        elif kind == "waterfall":
            measures = ["relative"] * len(s.values)
            fig.add_trace(go.Waterfall(x=spec.x, y=s.values, measure=measures, **common))
    layout: dict[str, Any] = {
        "title": {"text": spec.title},
        "template": "plotly_white",
        "margin": {"l": 50, "r": 20, "t": 60, "b": 40},
        "legend": {"orientation": "h", "y": -0.15},
        "yaxis": {"title": {"text": spec.y_label or spec.unit or ""}},
    }
    if kind == "stacked_bar":
        layout["barmode"] = "stack"
    elif kind in ("bar", "grouped_bar"):
        layout["barmode"] = "group"
    fig.update_layout(**layout)
    # to_json handles numpy/NaN; round-trip to plain JSON types for the event log. Text made
    # literal here, so no surface (API clients included) draws links or markup from it.
    return plain_figure(json.loads(fig.to_json()))
