"""The chart spec (the create_chart tool's input) and its Plotly figure, built server-side so every
surface shows the same chart."""

from __future__ import annotations

import json
import math
from typing import Any, Literal

import plotly.graph_objects as go
from pydantic import BaseModel, Field, model_validator

from finstream.filings.model import Source
from finstream.formatting import format_value, tick_label
from finstream.tools.plain_figure import plain_figure

ChartType = Literal["line", "bar", "grouped_bar", "stacked_bar", "area", "pie", "scatter", "waterfall"]
Number = float | None


class Series(BaseModel):
    name: str = Field(description="Legend name, e.g. 'Revenue'.", max_length=120)
    values: list[Number] | None = Field(
        None, description="One value per x label (null for a gap). May be left out when fact_ids are given.",
        max_length=500,
    )
    sources: list[Source | None] | None = Field(
        None, description="Optional: the source of each value, aligned with values."
    )
    fact_ids: list[str | None] | None = Field(
        None,
        description="Optional: the fact_id of each value (from get_financial_data points), aligned with x. "
        "Values given by fact id are filled from the filing, so they cannot be mistyped.",
        max_length=500,
    )


class ChartInput(BaseModel):
    title: str = Field(description="Chart title; name the company (e.g. 'Apple Inc.: revenue by period').",
                       max_length=200)
    company: str | None = Field(
        None, max_length=200,
        description="The company the chart is about (omit when its series are companies); shown in the title.",
    )
    chart_type: ChartType = Field("line", description="Kind of chart.")
    x: list[str] = Field(
        description="Category labels or periods (e.g. FY2022, FY2023), in display order.",
        min_length=1,
        max_length=500,
    )
    series: list[Series] = Field(description="One or more data series.", min_length=1, max_length=20)
    y_label: str | None = Field(None, description="Y axis label, e.g. 'USD'.", max_length=80)
    unit: str | None = Field(None, description="Unit of the values: USD, %, shares, ...", max_length=30)
    sources: list[Source] = Field(
        default_factory=list, description="Filings, concepts and periods the numbers come from."
    )

    @model_validator(mode="after")
    def _aligned(self) -> ChartInput:
        for s in self.series:
            if s.values is None and s.fact_ids is None:
                raise ValueError(f"series {s.name!r} needs values or fact_ids")
            for what, items in (("values", s.values), ("fact_ids", s.fact_ids)):
                if items is not None and len(items) != len(self.x):
                    raise ValueError(
                        f"series {s.name!r} has {len(items)} {what} but x has {len(self.x)} labels"
                    )
            if s.sources is not None and len(s.sources) != len(self.x):
                raise ValueError(f"series {s.name!r}: sources must align with values")
        if self.chart_type == "pie" and len(self.series) != 1:
            raise ValueError("a pie chart takes exactly one series")
        return self


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

    The figure is theme-neutral: no template and no series colours, so each surface styles it
    (the page with Streamlit's light or dark theme, a download with its own template).
    """
    fig = go.Figure(layout={"template": "none"})  # the smallest template: dropped below
    kind = spec.chart_type
    unit = spec.unit
    for s in spec.series:
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
                    hovertemplate=template,
                    **common,
                )
            )
        elif kind in ("bar", "grouped_bar", "stacked_bar"):
            fig.add_trace(go.Bar(x=spec.x, y=s.values, hovertemplate=template, **common))
        elif kind == "pie":
            fig.add_trace(go.Pie(labels=spec.x, values=s.values, name=s.name, customdata=common["customdata"],
                                 hovertemplate="%{label}: %{customdata[0][0]} (%{percent})<extra></extra>"))
        elif kind == "waterfall":
            measures = ["relative"] * len(_values(s))
            fig.add_trace(go.Waterfall(x=spec.x, y=s.values, measure=measures, hovertemplate=template, **common))
    y_title = spec.y_label or spec.unit or ""
    layout: dict[str, Any] = {
        "title": {"text": spec.title},
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
    figure = json.loads(fig.to_json())
    # No template: the figure is the same in every process (Streamlit sets Plotly's default
    # template once imported) and carries no theme.
    figure.get("layout", {}).pop("template", None)
    return plain_figure(figure)
