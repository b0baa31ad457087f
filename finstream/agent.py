"""One assistant turn: stream from the provider, run tools as their input completes, loop while the
model asks for tools, and always end with exactly one message_complete.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from finstream import events as ev
from finstream.assembler import (
    Assembler,
    NoticeOut,
    TextOut,
    ToolCall,
    ToolOpened,
    ToolReady,
    echo_raw,
)
from finstream.filings.model import Filing
from finstream.providers.base import Provider, ProviderError, ProviderRequest
from finstream.tools.base import Toolbox, ToolContext, ToolInputError
from finstream.verify.answer import check_answer
from finstream.verify.prompt import FIGURE_RULES

log = logging.getLogger(__name__)

# The instruction a continuation sends after the partial answer (the demo analyst recognises it).
CONTINUE_PROMPT = (
    "Your previous answer was cut off. Continue it exactly where it stopped, without repeating "
    "what you already wrote."
)

SYSTEM_PROMPT = """You are finstream, a careful financial analyst. Answer questions about the \
filings the user uploaded. Get every number with the data tools (list_filings, search_filing, \
get_financial_data, get_table) rather than from memory, and say which filing and period it is from. \
Show trends with create_chart, comparisons with create_table and headline figures with \
create_metric, always passing the sources the data tools returned. Be concise: lead with the \
answer, then the evidence."""
SYSTEM_PROMPT += "\n\n" + FIGURE_RULES  # issue 14: filing text is data; every figure from a tool result

_ARTIFACT_EVENTS = {"chart": ev.ChartReady, "table": ev.TableReady, "metric": ev.MetricReady}


@dataclass
class Turn:
    conversation_id: str
    message_id: str
    messages: list[dict[str, Any]]
    filings: list[Filing] = field(default_factory=list)
    seq_start: int = 1
    prefix_text: str = ""
    # Continuations keep numbering artifacts after those the message already has.
    artifact_counts: dict[str, int] = field(default_factory=dict)


def system_prompt(filings: list[Filing]) -> str:
    if not filings:
        return SYSTEM_PROMPT + "\n\nNo filings are uploaded yet; ask the user to upload one."
    lines = [
        f"- {f.filename}: {f.company or 'unknown company'}, {f.form or f.format}"
        + (f", period ending {f.period_end}" if f.period_end else "")
        for f in filings
    ]
    return SYSTEM_PROMPT + "\n\nUploaded filings:\n" + "\n".join(lines)


class _Emitter:
    """Stamps seq and message_id, and keeps the turn's running text and usage."""

    def __init__(self, turn: Turn) -> None:
        self.turn = turn
        self.seq = turn.seq_start
        self.text = turn.prefix_text
        self.counts = {"chart": 0, "table": 0, "metric": 0, **turn.artifact_counts}
        self.usage = ev.Usage()

    def make(self, cls: type, **fields: Any) -> ev.Event:
        event = cls(seq=self.seq, message_id=self.turn.message_id, **fields)
        self.seq += 1
        return event

    def text_delta(self, text: str) -> ev.Event:
        self.text += text
        return self.make(ev.TextDelta, text=text, accumulated_text=self.text)

    def artifact(self, kind: str, data: dict[str, Any]) -> ev.Event:
        index = self.counts[kind]
        self.counts[kind] += 1
        return self.make(_ARTIFACT_EVENTS[kind], **{f"{kind}_data": data, f"{kind}_index": index})

    def add_usage(self, usage: dict[str, int]) -> None:
        self.usage.input_tokens += int(usage.get("input_tokens") or 0)
        self.usage.output_tokens += int(usage.get("output_tokens") or 0)

    def fail(self, code: str, message: str, retryable: bool, stop_reason: str) -> list[ev.Event]:
        return [
            self.make(ev.Error, code=code, message=message, retryable=retryable),
            self.make(ev.MessageComplete, success=False, stop_reason=stop_reason, usage=self.usage),
        ]

    def done(self, stop_reason: str | None) -> ev.Event:
        return self.make(ev.MessageComplete, success=True, stop_reason=stop_reason, usage=self.usage)


async def _run_tool(
    call: ToolCall, toolbox: Toolbox, ctx: ToolContext, out: _Emitter
) -> tuple[list[ev.Event], dict[str, Any]]:
    """Validate and run one complete tool call; return its events and the tool_result block."""
    error = call.error
    result: Any = None
    outcome = None
    if error is None:
        try:
            model_input = toolbox.validate(call.name, call.input)
            outcome = await toolbox.execute(call.name, model_input, ctx)
        except ToolInputError as exc:
            error = str(exc)
        except Exception as exc:  # a tool bug must not end the run; the model is told
            log.exception("tool %s failed", call.name)
            error = f"{call.name} failed: {type(exc).__name__}: {exc}"
        else:
            result = outcome.result
    events = [
        out.make(
            ev.ToolComplete,
            tool_id=call.tool_id,
            tool_name=call.name,
            input=call.input if error is None else None,
            result=result,
            error=error,
        )
    ]
    if error is None and outcome.artifact_kind and outcome.artifact is not None:
        events.append(out.artifact(outcome.artifact_kind, outcome.artifact))
    if error is None:
        block = {"type": "tool_result", "tool_use_id": call.tool_id, "content": json.dumps(result, default=str)}
    else:
        content = f"Error: {error}. You sent: {echo_raw(call.raw_json)}"
        block = {"type": "tool_result", "tool_use_id": call.tool_id, "content": content, "is_error": True}
    return events, block


async def run_turn(
    provider: Provider,
    toolbox: Toolbox,
    turn: Turn,
    *,
    max_tokens: int = 4096,
    max_rounds: int = 8,
    model: str | None = None,
) -> AsyncIterator[ev.Event]:
    """Yield the turn's protocol events. Never raises except CancelledError (the caller's stop)."""
    out = _Emitter(turn)
    yield out.make(ev.MessageStart, conversation_id=turn.conversation_id)
    messages = list(turn.messages)
    ctx = ToolContext(filings=list(turn.filings))
    request = ProviderRequest(
        system=system_prompt(turn.filings),
        messages=messages,
        tools=toolbox.schemas(),
        max_tokens=max_tokens,
        model=model,
        context=turn.filings,
    )
    for round_no in range(max_rounds):
        asm = Assembler()
        # Text of a later round is a new paragraph, not glued to the last word of the previous one.
        gap = "\n\n" if round_no and out.text and not out.text[-1].isspace() else ""
        results: list[dict[str, Any]] = []
        try:
            async for part in provider.stream(request):
                for action in asm.feed(part):
                    if isinstance(action, TextOut):
                        yield out.text_delta(gap + action.text)
                        gap = ""
                    elif isinstance(action, ToolOpened):
                        yield out.make(ev.ToolStart, tool_id=action.tool_id, tool_name=action.name)
                    elif isinstance(action, ToolReady):
                        tool_events, block = await _run_tool(action.call, toolbox, ctx, out)
                        results.append(block)
                        for event in tool_events:
                            yield event
                    elif isinstance(action, NoticeOut):
                        yield out.make(ev.Status, message=action.message)
        except asyncio.CancelledError:
            raise
        except ProviderError as exc:
            for event in out.fail(exc.code, exc.message, exc.retryable, "error"):
                yield event
            return
        except Exception as exc:  # nothing escapes to a consumer
            log.exception("provider %s failed", getattr(provider, "name", "?"))
            for event in out.fail("internal", f"{type(exc).__name__}: {exc}", True, "error"):
                yield event
            return

        finish = asm.finish
        if finish is not None:
            out.add_usage(finish.usage)
        stop = finish.stop_reason if finish else None
        if stop is None:
            msg = "The model's stream ended before the answer was complete."
            for event in out.fail("incomplete_stream", msg, True, "incomplete"):
                yield event
            return
        if stop == "max_tokens":
            msg = "The answer reached the output limit; it can be continued."
            for event in out.fail("max_tokens", msg, True, "max_tokens"):
                yield event
            return
        if stop == "refusal":
            for event in out.fail("refusal", "The model declined to answer this request.", False, "refusal"):
                yield event
            return
        if stop == "pause_turn":
            messages.append({"role": "assistant", "content": finish.content or asm.assistant_content()})
            continue
        if asm.tool_calls:
            messages.append({"role": "assistant", "content": asm.assistant_content()})
            messages.append({"role": "user", "content": results})
            continue
        # The numbers of the finished text, against the facts (off the loop: it reads the filings).
        checks = await asyncio.to_thread(check_answer, out.text, ctx)
        if checks is not None:
            yield out.make(ev.Verification, scope="text", checks=checks)
        yield out.done(stop)
        return
    msg = f"Stopped after {max_rounds} rounds of tool calls without a final answer."
    for event in out.fail("max_rounds", msg, True, "max_rounds"):
        yield event
