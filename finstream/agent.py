"""One assistant turn: stream from the provider, run tools as their input completes, loop while the
model asks for tools, and always end with exactly one message_complete.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from finstream import events as ev
from finstream import transcript
from finstream.assembler import (
    Assembler,
    NoticeOut,
    TextOut,
    ThinkingOut,
    ToolCall,
    ToolOpened,
    ToolReady,
    echo_raw,
)
from finstream.filings.model import Filing
from finstream.providers import models, pricing
from finstream.providers.base import CitationPart, Provider, ProviderError, ProviderRequest
from finstream.providers.citations import citation_fields
from finstream.tools import tool_names
from finstream.tools.base import Toolbox, ToolContext, ToolInputError
from finstream.verify.answer import can_check, check_answer
from finstream.verify.prompt import FIGURE_RULES

log = logging.getLogger(__name__)

# The instruction a continuation sends after the partial answer (the demo analyst recognises it).
CONTINUE_PROMPT = (
    "Your previous answer was cut off. Continue it exactly where it stopped, without repeating "
    "what you already wrote."
)

# The tools are named from their definitions (finstream/tools): each one's description says what it does.
SYSTEM_PROMPT = (
    "You are finstream, a careful financial analyst. Answer questions about the filings the user "
    f"uploaded. Get every number with the data tools ({', '.join(tool_names('data'))}) rather than "
    "from memory, and say which filing and period it is from. Show trends, comparisons and headline "
    f"figures with the output tools ({', '.join(tool_names('output'))}), always passing the sources "
    "the data tools returned. Be concise: lead with the answer, then the evidence."
)
SYSTEM_PROMPT += "\n\n" + FIGURE_RULES  # issue 14: filing text is data; every figure from a tool result

_ARTIFACT_EVENTS: dict[str, type[ev.ChartReady | ev.TableReady | ev.MetricReady]] = {
    "chart": ev.ChartReady,
    "table": ev.TableReady,
    "metric": ev.MetricReady,
}
# Stop reasons that end an answer before it is complete, though the stream itself was fine.
_CONTEXT_STOPS = {"model_context_window_exceeded"}

# Called with each model response's messages as the API has them (the assistant's blocks exactly
# as received, then the user's tool results) and their meta (model, system key, text_end).
Recorder = Callable[[list[dict[str, Any]], dict[str, Any]], Awaitable[None]]


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
    # Uploads that could not be read ({"filename", "error"}): tools and the prompt name them.
    failed: list[dict[str, str]] = field(default_factory=list)


def system_prompt(filings: list[Filing], failed: list[dict[str, str]] | None = None) -> str:
    unread = ""
    if failed:
        unread = "\n\nUploads that could not be read (say so if asked about them; never answer from " \
            "another company's filing):\n" + "\n".join(f"- {d['filename']}: {d['error']}" for d in failed)
    if not filings:
        return SYSTEM_PROMPT + "\n\nNo filings are uploaded yet; ask the user to upload one." + unread
    lines = [
        f"- {f.filename}: {f.company or 'unknown company'}, {f.form or f.format}"
        + (f", period ending {f.period_end}" if f.period_end else "")
        for f in filings
    ]
    return SYSTEM_PROMPT + "\n\nUploaded filings:\n" + "\n".join(lines) + unread


class _Emitter:
    """Stamps seq and message_id, and keeps the turn's running text and usage."""

    def __init__(self, turn: Turn) -> None:
        self.turn = turn
        self.seq = turn.seq_start
        self._text = [turn.prefix_text]  # the running text in pieces, joined when read
        self.counts = {"chart": 0, "table": 0, "metric": 0, **turn.artifact_counts}
        self.usage = ev.Usage()
        self.priced = True  # every round so far had a price
        self.thought = False  # some reasoning was shown
        self.in_thinking = False  # the last event was reasoning
        self.citations = 0  # citation events so far (their index)

    def make(self, cls: type, **fields: Any) -> ev.Event:
        event = cls(seq=self.seq, message_id=self.turn.message_id, **fields)
        self.seq += 1
        if cls is not ev.ThinkingDelta:
            self.in_thinking = False
        return event

    @property
    def text(self) -> str:
        # `self.text += delta` would copy the whole answer on every delta (an attribute's string
        # cannot grow in place): quadratic in the answer's length, a quarter of a long answer's CPU.
        if len(self._text) > 1:
            self._text[:] = ["".join(self._text)]
        return self._text[0]

    def text_delta(self, text: str) -> ev.Event:
        self._text.append(text)
        return self.make(ev.TextDelta, text=text)  # accumulated_text: only tailers build it

    def thinking_delta(self, text: str) -> ev.Event:
        # A new run of reasoning (after text or a tool) starts a new paragraph of the notes.
        if not self.in_thinking and self.thought:
            text = "\n\n" + text
        self.thought = self.in_thinking = True
        return self.make(ev.ThinkingDelta, text=text)

    def artifact(self, kind: str, data: dict[str, Any]) -> ev.Event:
        index = self.counts[kind]
        self.counts[kind] += 1
        return self.make(_ARTIFACT_EVENTS[kind], **{f"{kind}_data": data, f"{kind}_index": index})

    def add_usage(self, usage: dict[str, int], model: str | None) -> None:
        u = self.usage
        u.input_tokens += int(usage.get("input_tokens") or 0)
        u.output_tokens += int(usage.get("output_tokens") or 0)
        u.cache_creation_input_tokens += int(usage.get("cache_creation_input_tokens") or 0)
        u.cache_read_input_tokens += int(usage.get("cache_read_input_tokens") or 0)
        cost = pricing.cost_usd(model, usage)
        # One unpriced round makes the total unknown rather than wrong.
        self.priced = self.priced and cost is not None
        u.cost_usd = round((u.cost_usd or 0.0) + cost, 6) if self.priced and cost is not None else None
        u.model = model or u.model

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
    if error is None and outcome is not None and outcome.artifact_kind and outcome.artifact is not None:
        events.append(out.artifact(outcome.artifact_kind, outcome.artifact))
    block: dict[str, Any]
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
    effort: str | None = None,
    record: Recorder | None = None,
) -> AsyncIterator[ev.Event]:
    """Yield the turn's protocol events. Never raises except CancelledError (the caller's stop).

    ``record`` is told each complete model response (and the tool results sent back) as API
    messages, so the transcript can send them again exactly as they were.
    """
    out = _Emitter(turn)
    yield out.make(ev.MessageStart, conversation_id=turn.conversation_id)
    system = system_prompt(turn.filings, turn.failed)
    tools = toolbox.schemas()
    messages = list(turn.messages)
    chosen = model or getattr(provider, "model", None)
    if chosen:  # the context budget: the model's window less its output and the fixed prefix
        budget = models.context_window(chosen) - max_tokens
        fixed = transcript.estimate_tokens(system) + transcript.estimate_tokens(tools)
        messages, trimmed = transcript.fit_context(messages, budget, fixed=fixed)
        if trimmed:
            yield out.make(ev.Status, message=f"Trimmed {trimmed} older tool result(s) to fit the "
                           "model's context window.")
    ctx = ToolContext(filings=list(turn.filings), failed=list(turn.failed))
    request = ProviderRequest(
        system=system,
        messages=messages,
        tools=tools,
        max_tokens=max_tokens,
        model=model,
        effort=effort,
    )
    for round_no in range(max_rounds):
        asm = Assembler()
        # Text of a later round is a new paragraph, not glued to the last word of the previous one.
        gap = "\n\n" if round_no and out.text and not out.text[-1].isspace() else ""
        results: list[dict[str, Any]] = []
        try:
            async for part in provider.stream(request):
                if isinstance(part, CitationPart):
                    # It supports the text that follows: anchored where that text will begin.
                    fields = citation_fields(part.citation, offset=len(out.text) + len(gap),
                                             index=out.citations)
                    if fields is not None:
                        out.citations += 1
                        yield out.make(ev.Citation, **fields)
                    continue
                for action in asm.feed(part):
                    if isinstance(action, TextOut):
                        yield out.text_delta(gap + action.text)
                        gap = ""
                    elif isinstance(action, ThinkingOut):
                        yield out.thinking_delta(action.text)
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
            if exc.usage:
                out.add_usage(exc.usage, exc.model or chosen)
            for event in out.fail(exc.code, exc.message, exc.retryable, "error"):
                yield event
            return
        except Exception as exc:  # nothing escapes to a consumer
            log.exception("provider %s failed", getattr(provider, "name", "?"))
            for event in out.fail("internal", f"{type(exc).__name__}: {exc}", True, "error"):
                yield event
            return

        finish = asm.finish
        answered_by = (finish.model if finish else None) or chosen
        if finish is not None:
            out.add_usage(finish.usage, answered_by)
        stop = finish.stop_reason if finish else None
        if finish is None or stop is None:
            msg = "The model's stream ended before the answer was complete."
            for event in out.fail("incomplete_stream", msg, True, "incomplete"):
                yield event
            return
        if stop == "max_tokens":
            msg = "The answer reached the output limit; it can be continued."
            for event in out.fail("max_tokens", msg, True, "max_tokens"):
                yield event
            return
        if stop in _CONTEXT_STOPS:
            msg = ("The conversation reached the model's context window; the answer is incomplete "
                   "and can be continued (older tool results are then trimmed).")
            for event in out.fail("context_window", msg, True, stop):
                yield event
            return
        if stop == "refusal":
            for event in out.fail("refusal", "The model declined to answer this request.", False, "refusal"):
                yield event
            return
        # The assistant turn goes back exactly as received (thinking blocks and signatures
        # included); only providers that give no content blocks get theirs rebuilt from parts.
        content = finish.content if finish.content is not None else asm.assistant_content()
        meta = {"model": answered_by, "system": transcript.system_key(system)}
        if stop == "pause_turn":
            new = [{"role": "assistant", "content": content}]
        elif asm.tool_calls:
            new = [{"role": "assistant", "content": content}, {"role": "user", "content": results}]
        else:
            new = [{"role": "assistant", "content": content}] if content else []
        if record is not None and new:
            try:
                await record(new, {**meta, "text_end": len(out.text)})
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the transcript is what later requests are built from
                log.exception("recording the transcript failed")
                for event in out.fail("storage", f"Could not store the model's response ({type(exc).__name__}).",
                                      True, "error"):
                    yield event
                return
        if stop == "pause_turn" or asm.tool_calls:
            messages.extend(new)
            continue
        # The numbers of the finished text, against the facts (off the loop: it reads the filings).
        # An answer with no filings and no tool results has nothing to check against: its text
        # is not scanned (a scan of a long answer costs milliseconds) and no thread is used.
        checks = await asyncio.to_thread(check_answer, out.text, ctx) if can_check(ctx) else None
        if checks is not None:
            yield out.make(ev.Verification, scope="text", checks=checks)
        yield out.done(stop)
        return
    msg = f"Stopped after {max_rounds} rounds of tool calls without a final answer."
    for event in out.fail("max_rounds", msg, True, "max_rounds"):
        yield event
