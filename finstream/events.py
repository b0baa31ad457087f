"""The finstream event protocol: every event a run emits, as one discriminated union.

This module is the stream's documentation. Each event carries ``seq`` (strictly increasing per
conversation, the SSE ``id:``) and ``message_id``. Types may be added; none may be removed or renamed.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from finstream.artifacts import Artifact
from finstream.verify.model import NumberCheck


class _Event(BaseModel):
    model_config = ConfigDict(extra="forbid")

    seq: int = Field(0, description="Position in the conversation's event log; strictly increasing.")
    message_id: str = Field(description="The assistant message this event belongs to.")


class Usage(BaseModel):
    model_config = ConfigDict(extra="forbid")

    input_tokens: int = Field(
        0, description="Input tokens read uncached over all rounds of the turn (cache reads and "
        "writes are counted apart, as the API reports them)."
    )
    output_tokens: int = Field(
        0, description="Tokens written by the model over all rounds of the turn (thinking included)."
    )
    cache_creation_input_tokens: int = Field(
        0, description="Input tokens written to the prompt cache over all rounds."
    )
    cache_read_input_tokens: int = Field(
        0, description="Input tokens read from the prompt cache over all rounds."
    )
    cost_usd: float | None = Field(
        None, description="Estimated cost in USD from finstream/providers/pricing.py; null when "
        "the model has no price there (or for the offline demo analyst)."
    )
    model: str | None = Field(None, description="The model that answered (its last round).")


class MessageStart(_Event):
    """A run began producing an assistant message."""

    type: Literal["message_start"] = Field("message_start", description="The event type (the union's discriminator).")
    conversation_id: str = Field(description="The conversation the message belongs to.")


class TextDelta(_Event):
    """A piece of the answer's text, sent as soon as it arrives."""

    type: Literal["text_delta"] = Field("text_delta", description="The event type (the union's discriminator).")
    text: str = Field(description="The new text.")
    accumulated_text: str | None = Field(
        None,
        description="All text of the message so far. Null when the consumer turned it off "
        "(it makes the stream grow with the square of the answer's length).",
    )


class ThinkingDelta(_Event):
    """A piece of the model's reasoning, or of the short notes it writes between tool calls, as
    it streams. Never part of the answer text (text_delta); clients may turn it off."""

    type: Literal["thinking_delta"] = Field("thinking_delta", description="The event type (the union's discriminator).")
    text: str = Field(description="The new reasoning text (a summary, as the API returns it).")


class ToolStart(_Event):
    """A tool call opened; its input is still being generated."""

    type: Literal["tool_start"] = Field("tool_start", description="The event type (the union's discriminator).")
    tool_id: str = Field(description="The tool call's id (Anthropic's tool_use id).")
    tool_name: str = Field(description="The tool's name.")


class ToolComplete(_Event):
    """A tool call's input was parsed and validated, and the tool ran (or failed)."""

    type: Literal["tool_complete"] = Field("tool_complete", description="The event type (the union's discriminator).")
    tool_id: str = Field(description="The tool call's id.")
    tool_name: str = Field("", description="The tool's name.")
    input: dict[str, Any] | None = Field(None, description="The validated input, when it parsed.")
    result: Any = Field(None, description="What the tool returned to the model, when it succeeded.")
    error: str | None = Field(None, description="Why the call failed; the model is told the same.")


class ArtifactEvent(_Event):
    """A chart, table or metric tool succeeded: the event carries one artifact (``artifact``)."""

    @property
    def artifact(self) -> Artifact:
        raise NotImplementedError


class ChartReady(ArtifactEvent):
    """A chart tool succeeded."""

    type: Literal["chart_ready"] = Field("chart_ready", description="The event type (the union's discriminator).")
    chart_data: dict[str, Any] = Field(
        description="{'figure': Plotly figure JSON (theme-neutral: no template, no series colours), "
        "'spec': the tool input, 'sources': [...], "
        "'verification': [NumberCheck] (optional; one per point, see the verification event)}"
    )
    chart_index: int = Field(description="0-based index of this chart within the message.")

    @property
    def artifact(self) -> Artifact:
        return Artifact("chart", self.chart_index, self.chart_data, self.message_id, self.seq)


class TableReady(ArtifactEvent):
    """A table tool succeeded."""

    type: Literal["table_ready"] = Field("table_ready", description="The event type (the union's discriminator).")
    table_data: dict[str, Any] = Field(
        description="{'title', 'columns': [{'name','format'}], 'rows': [[...]], 'sources': [...], "
        "'verification': [NumberCheck] (optional; one per numeric cell)}"
    )
    table_index: int = Field(description="0-based index of this table within the message.")

    @property
    def artifact(self) -> Artifact:
        return Artifact("table", self.table_index, self.table_data, self.message_id, self.seq)


class MetricReady(ArtifactEvent):
    """A metric tool succeeded."""

    type: Literal["metric_ready"] = Field("metric_ready", description="The event type (the union's discriminator).")
    metric_data: dict[str, Any] = Field(
        description="{'label','value','unit','delta','delta_color','sources', "
        "'verification': [NumberCheck] (optional; the value and the delta)}"
    )
    metric_index: int = Field(description="0-based index of this metric within the message.")

    @property
    def artifact(self) -> Artifact:
        return Artifact("metric", self.metric_index, self.metric_data, self.message_id, self.seq)


def artifact_ready(art: Artifact) -> ChartReady | TableReady | MetricReady:
    """The event that carries ``art`` (its seq and message_id included)."""
    if art.kind == "chart":
        return ChartReady(seq=art.seq, message_id=art.message_id, chart_index=art.index, chart_data=art.data)
    if art.kind == "table":
        return TableReady(seq=art.seq, message_id=art.message_id, table_index=art.index, table_data=art.data)
    return MetricReady(seq=art.seq, message_id=art.message_id, metric_index=art.index, metric_data=art.data)


class Status(_Event):
    """Progress a user may want to see (a retry after overload, a tool round)."""

    type: Literal["status"] = Field("status", description="The event type (the union's discriminator).")
    message: str = Field(description="Human-readable progress text.")


class MessageComplete(_Event):
    """The run ended, successfully or not. Always the last event of a message."""

    type: Literal["message_complete"] = Field("message_complete", description="The event type (the union's discriminator).")
    success: bool = Field(description="True when the answer is complete.")
    stop_reason: str | None = Field(
        None,
        description="end_turn, max_tokens, refusal, stopped, error, interrupted, max_rounds, ...",
    )
    usage: Usage = Field(default_factory=Usage, description="Token usage over the whole turn.")


class Error(_Event):
    """Something went wrong; always followed by message_complete(success=false)."""

    type: Literal["error"] = Field("error", description="The event type (the union's discriminator).")
    code: str = Field(description="Machine-readable code, e.g. overloaded, connection_lost, tool_error.")
    message: str = Field(description="Human-readable explanation; never contains keys or tokens.")
    retryable: bool = Field(False, description="True when retrying or continuing may succeed.")


# --- verification (issue 14): the numbers of an artifact or of the finished text, checked ---


class Verification(_Event):
    """The numbers of an artifact or of the answer's text were checked against the filings."""

    type: Literal["verification"] = Field("verification", description="The event type (the union's discriminator).")
    scope: Literal["text", "chart", "table", "metric"] = Field(
        description="What was checked: the answer's text (when it completed) or one artifact."
    )
    artifact_index: int | None = Field(
        None, description="For an artifact: its chart_index/table_index/metric_index within the message."
    )
    checks: list[NumberCheck] = Field(
        default_factory=list,
        description="One check per number: value, status (verified, derived, unverified), reason, the "
        "fact(s) behind it, and for text its [start, end) span in the message's text.",
    )


class Citation(_Event):
    """The model cited a passage of a filing (a search_filing result) for a part of its answer."""

    type: Literal["citation"] = Field("citation", description="The event type (the union's discriminator).")
    index: int = Field(description="0-based number of this citation within the message (footnote n+1).")
    filing: str = Field(description="File name of the cited filing.")
    section: str | None = Field(None, description="Section of the cited passage (10-K item, note, sheet).")
    page: int | None = Field(None, description="1-based page of the cited passage (PDF).")
    quoted_text: str = Field(description="The cited passage text, as the model received it.")
    text_offset: int = Field(
        description="Offset in the message's text where the text this citation supports begins."
    )
    source: str = Field("", description="The search result's source locator (finstream://filing/...).")


# --- end verification ---


Event = Annotated[
    Union[
        MessageStart,
        TextDelta,
        ThinkingDelta,
        ToolStart,
        ToolComplete,
        ChartReady,
        TableReady,
        MetricReady,
        Status,
        MessageComplete,
        Error,
        Verification,
        Citation,
    ],
    Field(discriminator="type"),
]
EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)

TERMINAL_TYPE = "message_complete"


def parse_event(data: dict[str, Any] | str | bytes) -> Event:
    """Validate a decoded (or JSON) event into its model."""
    if isinstance(data, (str, bytes)):
        return EVENT_ADAPTER.validate_json(data)
    return EVENT_ADAPTER.validate_python(data)


def event_to_dict(event: Event, *, accumulated: bool = True) -> dict[str, Any]:
    """The event as a JSON-ready dict; ``accumulated=False`` drops ``accumulated_text``."""
    data = event.model_dump(mode="json")
    if not accumulated and isinstance(event, TextDelta):
        data.pop("accumulated_text", None)
    return data


def wanted(event: Event, *, thinking: bool = True) -> bool:
    """Whether a consumer that chose ``thinking`` gets this event (thinking_delta is optional)."""
    return thinking or not isinstance(event, ThinkingDelta)


def event_to_json(event: Event, *, accumulated: bool = True) -> str:
    return json.dumps(event_to_dict(event, accumulated=accumulated), separators=(",", ":"))


def sse_frame(event: Event, *, accumulated: bool = True, retry_ms: int | None = None) -> str:
    """One SSE frame: ``id:`` is the seq, ``event:`` the type, ``data:`` the JSON on one line."""
    lines = [f"id: {event.seq}", f"event: {event.type}"]
    if retry_ms is not None:
        lines.append(f"retry: {int(retry_ms)}")
    lines.append(f"data: {event_to_json(event, accumulated=accumulated)}")
    return "\n".join(lines) + "\n\n"


def json_schema() -> dict[str, Any]:
    """JSON Schema of the event union (served at /api/protocol/schema)."""
    return EVENT_ADAPTER.json_schema()
