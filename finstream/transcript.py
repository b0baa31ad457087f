"""The conversation as Claude saw it: stored API messages in, the next request's messages out.

Current models bind each thinking block to the model and to everything before it (system, tools,
earlier messages: Anthropic's "prefix check"), and a tool round must carry its thinking blocks
unmodified. So finstream keeps an append-only transcript per conversation (store: api_messages):
every message it sent or received, content blocks exactly as they were. A later question, a
continuation after a restart and another replica rebuild the request from it; nothing is rebuilt
from the page's text. Pure functions, no I/O.

Rules, applied the same way on every request so the prefix stays what it was:

- Consecutive messages of one role are merged (content lists concatenated).
- Thinking blocks of earlier messages produced under another system prompt (the filings list
  changed) or another model are left out: they would fail the prefix check. Leaving out every
  earlier block is allowed; only the current tool round must keep its own.
- Context budget (``fit_context``): when the estimate exceeds the model's window, the content of
  the oldest tool results is replaced by a short note, oldest first, until it fits; the last
  message's own tool results are never trimmed. Trimming changes the prefix, so it also leaves out
  every earlier thinking block. It runs only at the start of a turn whose last message is the
  user's question or a continue prompt, never in the middle of a tool loop.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Iterable
from typing import Any

THINKING_TYPES = ("thinking", "redacted_thinking")
CHARS_PER_TOKEN = 3  # a deliberately low estimate, so the budget errs on the safe side
TRIMMED = "[Tool result trimmed to fit the model's context window ({n} characters).]"


def system_key(system: str) -> str:
    """A short fingerprint of the system prompt, stored with each response's blocks."""
    return hashlib.sha256(system.encode()).hexdigest()[:16]


def blocks(content: Any) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}] if content else []
    return list(content or [])


def merge(messages: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Consecutive same-role messages joined into one (the API wants roles to alternate)."""
    out: list[dict[str, Any]] = []
    for m in messages:
        if out and out[-1]["role"] == m["role"]:
            out[-1] = {"role": m["role"], "content": blocks(out[-1]["content"]) + blocks(m["content"])}
        else:
            out.append({"role": m["role"], "content": m["content"]})
    return out


def without_thinking(message: dict[str, Any]) -> dict[str, Any]:
    content = message["content"]
    if isinstance(content, str) or message["role"] != "assistant":
        return message
    kept = [b for b in content if b.get("type") not in THINKING_TYPES]
    return {"role": message["role"], "content": kept}


def prepare(rows: Iterable[Any], *, system: str, model: str | None) -> list[dict[str, Any]]:
    """The request messages from stored rows (each with ``role``, ``content``, ``meta``)."""
    key = system_key(system)
    out = []
    for row in rows:
        message = {"role": row.role, "content": row.content}
        meta = row.meta or {}
        if row.role == "assistant" and (
            meta.get("system") not in (None, key) or (model and meta.get("model") not in (None, model))
        ):
            message = without_thinking(message)
        if message["content"]:  # an assistant message of thinking alone has nothing left to say
            out.append(message)
    return merge(out)


def estimate_tokens(value: Any) -> int:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return len(text) // CHARS_PER_TOKEN + 1


def _ends_in_tool_results(messages: list[dict[str, Any]]) -> bool:
    last = messages[-1] if messages else None
    return bool(
        last and last["role"] == "user" and isinstance(last["content"], list)
        and any(b.get("type") == "tool_result" for b in last["content"])
    )


def fit_context(
    messages: list[dict[str, Any]], budget: int, *, fixed: int = 0
) -> tuple[list[dict[str, Any]], int]:
    """``messages`` within ``budget`` tokens (``fixed``: system + tools), and how many tool
    results were trimmed. See the module docstring for the policy."""
    total = fixed + sum(estimate_tokens(m["content"]) for m in messages)
    if total <= budget or len(messages) < 2 or _ends_in_tool_results(messages):
        return messages, 0
    out = copy.deepcopy(messages)
    trimmed = 0
    for message in out[:-1]:
        if message["role"] != "user" or isinstance(message["content"], str):
            continue
        for block in message["content"]:
            if block.get("type") != "tool_result":
                continue
            body = block.get("content")
            before = estimate_tokens(body) if body else 0
            note = TRIMMED.format(n=len(body) if isinstance(body, str) else len(json.dumps(body)))
            if before <= estimate_tokens(note):
                continue
            block["content"] = note
            total -= before - estimate_tokens(note)
            trimmed += 1
            if total <= budget:
                break
        if total <= budget:
            break
    if trimmed:
        out = [without_thinking(m) for m in out[:-1]] + [out[-1]]
        out = [m for m in out if m["content"]]
    return merge(out), trimmed
