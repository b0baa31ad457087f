"""The output tools: what Claude calls to show a chart, a table or a metric tile.

Their pydantic inputs are the JSON Schema the model sees, so field descriptions are instructions.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from finstream.filings.model import Source
from finstream.formatting import format_value
from finstream.tools.base import Tool, ToolContext, ToolInputError, ToolOutcome
from finstream.tools.charts import ChartInput, build_figure
from finstream.verify.artifacts import (
    UnknownFact,
    dump,
    model_note,
    verify_chart,
    verify_metric,
    verify_table,
)
from finstream.verify.context import index_for

ColumnFormat = Literal["text", "number", "integer", "currency", "percent"]


class Column(BaseModel):
    name: str = Field(description="Column header.", max_length=120)
    format: ColumnFormat = Field(
        "text", description="currency: dollars; percent: a value of 12.5 means 12.5%."
    )


class TableInput(BaseModel):
    title: str = Field(description="Table title; name the company or companies.", max_length=200)
    columns: list[Column] = Field(min_length=1, max_length=30)
    rows: list[list[str | float | int | None]] = Field(
        description="Rows of cells, each as long as columns.", max_length=500
    )
    unit_note: str | None = Field(None, description="e.g. 'USD millions'.", max_length=120)
    sources: list[Source] = Field(default_factory=list)
    fact_ids: list[list[str | None]] | None = Field(
        None,
        description="Optional: a fact_id per cell (null for text cells), shaped like rows; those cells are "
        "filled from the filing (scaled by unit_note), so they cannot be mistyped.",
        max_length=500,
    )

    @model_validator(mode="after")
    def _rectangular(self) -> TableInput:
        for i, row in enumerate(self.rows):
            if len(row) != len(self.columns):
                raise ValueError(f"row {i} has {len(row)} cells but there are {len(self.columns)} columns")
        if self.fact_ids is not None and [len(r) for r in self.fact_ids] != [len(r) for r in self.rows]:
            raise ValueError("fact_ids must have the shape of rows")
        return self


class MetricInput(BaseModel):
    label: str = Field(description="What is measured, e.g. 'Revenue FY2024'.", max_length=160)
    company: str | None = Field(
        None, max_length=200, description="Whose figure it is, e.g. 'Apple Inc.'; shown on the tile."
    )
    value: float | None = Field(
        None, description="The value in base units (e.g. dollars, not millions). May be left out with fact_id."
    )
    fact_id: str | None = Field(
        None, description="Optional: the fact_id of a get_financial_data point; the value is filled from it.",
        max_length=40,
    )
    unit: str = Field("USD", description="USD, USD/shares, %, shares, ratio.", max_length=30)
    delta: float | None = Field(None, description="Change against the comparison period.")
    delta_unit: Literal["percent", "absolute"] = Field(
        "percent", description="Whether delta is a percentage change or in the value's unit."
    )
    delta_color: Literal["normal", "inverse", "off"] = Field(
        "normal", description="inverse for costs, where an increase is bad."
    )
    period: str | None = Field(None, description="Period label, e.g. FY2024.", max_length=40)
    sources: list[Source] = Field(default_factory=list)

    @model_validator(mode="after")
    def _has_value(self) -> MetricInput:
        if self.value is None and self.fact_id is None:
            raise ValueError("give value or fact_id")
        return self


def _sources(items: list[Source]) -> list[dict]:
    return [s.model_dump(exclude_none=True) for s in items]


def named(title: str, company: str | None) -> str:
    """A title or label that names its company (once)."""
    if company and company.strip().lower() not in title.lower():
        return f"{company.strip()} · {title}"
    return title


def _verified(check, spec, ctx: ToolContext):
    """Fill values given as fact ids and check every number (see finstream.verify.artifacts)."""
    index = index_for(ctx)
    try:
        spec, checks = check(spec, index)
    except UnknownFact as exc:
        raise ToolInputError(str(exc)) from None
    # With no filing facts and no data results there is nothing to check against: no marks.
    return spec, (checks if index.has_facts() else None)


def _told(result: dict, checks) -> dict:
    """Tell the model which numbers did not verify, so it can correct them."""
    notes = model_note(checks) if checks else []
    if notes:
        result["unverified"] = notes
    return result


def _with_checks(data: dict, checks) -> dict:
    if checks is not None:
        data["verification"] = dump(checks)
    return data


def create_chart(spec: ChartInput, ctx: ToolContext) -> ToolOutcome:
    spec, checks = _verified(verify_chart, spec, ctx)
    spec = spec.model_copy(update={"title": named(spec.title, spec.company)})
    figure = build_figure(spec)
    sources = _sources(spec.sources)
    for s in spec.series:
        sources.extend(src.model_dump(exclude_none=True) for src in (s.sources or []) if src)
    data = {"figure": figure, "spec": spec.model_dump(mode="json"), "sources": _dedupe(sources)}
    _with_checks(data, checks)
    return ToolOutcome(_told({"shown": "chart", "title": spec.title}, checks), "chart", data)


def create_table(spec: TableInput, ctx: ToolContext) -> ToolOutcome:
    spec, checks = _verified(verify_table, spec, ctx)
    data = {
        "title": spec.title,
        "columns": [c.model_dump() for c in spec.columns],
        "rows": spec.rows,
        "unit_note": spec.unit_note,
        "sources": _sources(spec.sources),
    }
    result = {"shown": "table", "title": spec.title, "rows": len(spec.rows)}
    return ToolOutcome(_told(result, checks), "table", _with_checks(data, checks))


def create_metric(spec: MetricInput, ctx: ToolContext) -> ToolOutcome:
    spec, checks = _verified(verify_metric, spec, ctx)
    delta_text = None
    if spec.delta is not None:
        delta_text = (
            f"{spec.delta:+.1f}%" if spec.delta_unit == "percent" else format_value(spec.delta, spec.unit)
        )
    data = {
        "label": named(spec.label, spec.company),
        "company": spec.company,
        "value": spec.value,
        "unit": spec.unit,
        "display": format_value(spec.value, spec.unit),
        "delta": spec.delta,
        "delta_unit": spec.delta_unit,
        "delta_display": delta_text,
        "delta_color": spec.delta_color,
        "period": spec.period,
        "sources": _sources(spec.sources),
    }
    result = _told({"shown": "metric", "label": data["label"]}, checks)
    return ToolOutcome(result, "metric", _with_checks(data, checks))


def _dedupe(items: list[dict]) -> list[dict]:
    seen, out = set(), []
    for item in items:
        key = tuple(sorted((k, str(v)) for k, v in item.items()))
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out


OUTPUT_TOOLS: list[Tool[Any]] = [
    Tool(
        "create_chart",
        "Show a chart beside the answer. Use numbers from the data tools, never from memory, "
        "and pass their sources.",
        ChartInput,
        create_chart,
        progress="Drawing a chart",
        role="output",
        inline=False,  # checking its numbers reads the filings (see finstream.verify)
    ),
    Tool(
        "create_table",
        "Show a table beside the answer (e.g. a statement or a comparison across periods).",
        TableInput,
        create_table,
        progress="Building a table",
        role="output",
        inline=False,  # checking its numbers reads the filings (see finstream.verify)
    ),
    Tool(
        "create_metric",
        "Show one headline number as a metric tile, with its change against a comparison period.",
        MetricInput,
        create_metric,
        progress="Adding a metric tile",
        role="output",
        inline=False,  # checking its numbers reads the filings (see finstream.verify)
    ),
]
