"""The current Claude API's rules, as the replay server's strict mode enforces them.

Each rule is one documented behaviour of the API as of December 2026 (Anthropic's "Model
deprecations", "Models overview", "What's new in Claude Sonnet 5.5", "Thinking in tool and
multi-turn workflows", "Preserved thinking", "Adaptive thinking", "Prompt caching" and "Effort"
pages), checked on the request before any reply is chosen, so code under test meets the same
refusals the real API gives:

- a retired model id answers 404 ``not_found_error``; so does an id the catalogue lacks;
- on the 5.5 generation: a conversation ending with the assistant (prefill; sending back a
  pause_turn's server-tool content to resume it is not prefill), a forced
  ``tool_choice``, ``thinking.type`` "enabled" (or ``budget_tokens``) or "disabled", and any of
  ``temperature``/``top_p``/``top_k`` answer 400 ``invalid_request_error``;
- a tool round (the last message holds tool results) whose assistant turn does not carry the
  thinking blocks that response had, unmodified and in order, answers 400;
- every thinking block sent back must carry the signature this server gave it: the signature
  binds the model, the thinking text and everything before the block (system, tools, earlier
  messages: the prefix check); a changed text or a changed prefix answers 400;
- thinking text is returned only when the request asks for ``display: "summarized"``; otherwise
  thinking blocks stream empty, with their signature;
- usage reports cache writes and reads when the request has ``cache_control`` (top level, or on
  tools, system or message blocks), with a cache keyed by model and the exact prefix, so a second
  request over the same prefix reads what the first one wrote (minimum cacheable prefix: 512
  tokens on the 5.5 generation, 1,024 before);
- ``GET /v1/models`` lists the catalogue's callable models;
- search results ("Search results" page): a ``search_result`` block may only stand in a user
  message's content or in a ``tool_result``'s content; it needs ``source`` and ``title`` (strings)
  and ``content``, a non-empty list of text blocks with text; ``citations`` is ``{"enabled": bool}``
  (default off), and citations are all or nothing: search results of one request with different
  settings answer 400; unknown fields answer 400 ("Extra inputs are not permitted");
- a text block sent back with ``citations`` must carry well-formed citation objects (a
  ``search_result_location`` has source, title, cited_text, search_result_index,
  start_block_index < end_block_index).

A scripted reply may stream ``citations_delta`` events naming only ``search_result_index`` and
the block range: the server fills ``source``, ``title`` and ``cited_text`` from that search result
of the request, as the API does (``cited_text`` is the cited blocks' text joined), and drops the
citation when the request has no such result or its citations are off (a model can only cite what
it was given, with citations enabled).

Replies are rewritten as they go out: message_start gets the requested model and the computed
usage, thinking blocks get their signatures (and lose their text unless it was asked for).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass, replace
from typing import Any

GEN_55 = frozenset({
    "claude-sonnet-5-5", "claude-opus-5-5", "claude-haiku-5-5", "claude-fable-5-1",
    "claude-fable-5-2", "claude-mythos-5-1", "claude-mythos-5-2",
})
# id, display name, lifecycle, release date (the Models API's shape).
CATALOGUE = (
    ("claude-sonnet-5-5", "Claude Sonnet 5.5", "active", "2026-09-28T00:00:00Z"),
    ("claude-opus-5-5", "Claude Opus 5.5", "active", "2026-09-28T00:00:00Z"),
    ("claude-haiku-5-5", "Claude Haiku 5.5", "active", "2026-10-07T00:00:00Z"),
    ("claude-fable-5-2", "Claude Fable 5.2", "active", "2026-11-10T00:00:00Z"),
    ("claude-fable-5-1", "Claude Fable 5.1", "active", "2026-08-20T00:00:00Z"),
    ("claude-sonnet-5", "Claude Sonnet 5", "active", "2026-06-30T00:00:00Z"),
    ("claude-opus-5", "Claude Opus 5", "active", "2026-07-24T00:00:00Z"),
    ("claude-haiku-4-5", "Claude Haiku 4.5", "active", "2025-10-15T00:00:00Z"),
)
CALLABLE = frozenset(m[0] for m in CATALOGUE)
RETIRED = frozenset({
    "claude-sonnet-4-5", "claude-sonnet-4-5-20250929", "claude-sonnet-4", "claude-sonnet-4-0",
    "claude-sonnet-4-20250514", "claude-opus-4", "claude-opus-4-0", "claude-opus-4-20250514",
    "claude-opus-4-1", "claude-opus-4-1-20250805", "claude-3-7-sonnet-20250219",
    "claude-3-5-haiku-20241022", "claude-3-opus-20240229",
})
THINKING = ("thinking", "redacted_thinking")
SEARCH_RESULT_FIELDS = frozenset({"type", "source", "title", "content", "citations", "cache_control"})
TEXT_FIELDS = frozenset({"type", "text", "cache_control", "citations"})
# Required fields of each citation object a text block may carry back (the SDK's *Param types).
CITATION_FIELDS = {
    "search_result_location": ("cited_text", "source", "title", "search_result_index",
                               "start_block_index", "end_block_index"),
    "char_location": ("cited_text", "document_index", "start_char_index", "end_char_index"),
    "page_location": ("cited_text", "document_index", "start_page_number", "end_page_number"),
    "content_block_location": ("cited_text", "document_index", "start_block_index", "end_block_index"),
    "web_search_result_location": ("cited_text", "encrypted_index", "url"),
}
SAMPLING = ("temperature", "top_p", "top_k")
CHARS_PER_TOKEN = 4


class Rejection(Exception):
    def __init__(self, status: int, error_type: str, message: str) -> None:
        super().__init__(message)
        self.status, self.error_type, self.message = status, error_type, message


# --- canonical content (what the prefix check and the cache compare) --------------------------


def _clean(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items() if k != "cache_control" and v is not None}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def blocks_of(content: Any) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    return [b for b in (content or []) if isinstance(b, dict)]


def canon(value: Any) -> bytes:
    return json.dumps(_clean(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _system_blocks(body: dict[str, Any]) -> list[dict[str, Any]]:
    system = body.get("system")
    return blocks_of(system) if system else []


def prefix_hash(body: dict[str, Any], messages: list[dict[str, Any]], i: int, j: int) -> str:
    """Hash of everything before block ``j`` of message ``i``: system, tools, earlier messages."""
    h = hashlib.sha256()
    h.update(canon([b.get("text", "") for b in _system_blocks(body)]))
    h.update(canon(body.get("tools") or []))
    for m in messages[:i]:
        h.update(canon({"role": m.get("role"), "content": blocks_of(m.get("content"))}))
    h.update(canon(blocks_of(messages[i].get("content"))[:j]))
    return h.hexdigest()[:32]


# --- search results and citations ------------------------------------------------------------


def _bad(where: str, message: str) -> Rejection:
    return Rejection(400, "invalid_request_error", f"{where}: {message}")


def search_results(messages: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """Every search_result block of a request with its path, in the order the API counts them
    (``search_result_index``): across messages, top-level blocks and tool results' content."""
    out = []
    for i, m in enumerate(messages):
        for j, block in enumerate(blocks_of(m.get("content"))):
            where = f"messages.{i}.content.{j}"
            if block.get("type") == "search_result":
                out.append((where, block))
            elif block.get("type") == "tool_result" and isinstance(block.get("content"), list):
                for k, inner in enumerate(block["content"]):
                    if isinstance(inner, dict) and inner.get("type") == "search_result":
                        out.append((f"{where}.content.{k}", inner))
    return out


def _check_search_result(where: str, block: dict[str, Any]) -> None:
    extra = sorted(set(block) - SEARCH_RESULT_FIELDS)
    if extra:
        raise _bad(f"{where}.{extra[0]}", "Extra inputs are not permitted")
    for name in ("source", "title"):
        if not isinstance(block.get(name), str):
            raise _bad(f"{where}.{name}", "Field required" if name not in block else "Input should be a valid string")
    content = block.get("content")
    if not isinstance(content, list) or not content:
        raise _bad(f"{where}.content", "search_result content must be a non-empty list of text blocks")
    for k, inner in enumerate(content):
        if not isinstance(inner, dict) or inner.get("type") != "text":
            raise _bad(f"{where}.content.{k}", "search_result content may only hold text blocks")
        extra = sorted(set(inner) - TEXT_FIELDS)
        if extra:
            raise _bad(f"{where}.content.{k}.{extra[0]}", "Extra inputs are not permitted")
        if not isinstance(inner.get("text"), str) or not inner["text"].strip():
            raise _bad(f"{where}.content.{k}.text", "text content blocks must be non-empty")
    citations = block.get("citations")
    if citations is not None:
        if not isinstance(citations, dict) or set(citations) - {"enabled"}:
            raise _bad(f"{where}.citations", "Extra inputs are not permitted")
        if not isinstance(citations.get("enabled", False), bool):
            raise _bad(f"{where}.citations.enabled", "Input should be a valid boolean")


def cites_enabled(block: dict[str, Any]) -> bool:
    return bool((block.get("citations") or {}).get("enabled", False))


def check_search_results(messages: list[dict[str, Any]]) -> None:
    """Where search_result blocks may stand, their shape, the all-or-nothing citations rule,
    and the citations that text blocks carry back."""
    for i, m in enumerate(messages):
        for j, block in enumerate(blocks_of(m.get("content"))):
            if block.get("type") == "search_result" and m.get("role") != "user":
                raise _bad(f"messages.{i}.content.{j}",
                           "search_result blocks are only allowed in user messages and tool results")
            if block.get("type") == "text" and block.get("citations"):
                _check_citations(f"messages.{i}.content.{j}.citations", block["citations"])
    found = search_results(messages)
    for where, block in found:
        _check_search_result(where, block)
    settings = {cites_enabled(b) for _w, b in found}
    if len(settings) > 1:
        raise Rejection(400, "invalid_request_error",
                        "Citations must be enabled on all search results or on none of them; "
                        "this request mixes search results with citations enabled and disabled.")


def _check_citations(where: str, citations: Any) -> None:
    if not isinstance(citations, list):
        raise _bad(where, "Input should be a valid list")
    for k, c in enumerate(citations):
        kind = c.get("type") if isinstance(c, dict) else None
        if kind not in CITATION_FIELDS:
            raise _bad(f"{where}.{k}", f"unknown citation type {kind!r}")
        missing = [f for f in CITATION_FIELDS[kind] if f not in c]
        if missing:
            raise _bad(f"{where}.{k}.{missing[0]}", "Field required")
        if kind == "search_result_location" and not (
            isinstance(c["start_block_index"], int) and isinstance(c["end_block_index"], int)
            and 0 <= c["start_block_index"] < c["end_block_index"]
        ):
            raise _bad(f"{where}.{k}", "end_block_index must be greater than start_block_index")


def fill_citation(body: dict[str, Any], citation: dict[str, Any]) -> dict[str, Any] | None:
    """A scripted search_result_location completed from the request, as the API writes it; None
    when the request has no such search result, or its citations are off."""
    found = search_results(body.get("messages") or [])
    n = citation.get("search_result_index")
    if not isinstance(n, int) or not 0 <= n < len(found):
        return None
    block = found[n][1]
    if not cites_enabled(block):
        return None
    content = block["content"]
    start = int(citation.get("start_block_index", 0))
    end = int(citation.get("end_block_index", start + 1))
    if not 0 <= start < end <= len(content):
        return None
    return {"type": "search_result_location", "cited_text": "".join(b["text"] for b in content[start:end]),
            "search_result_index": n, "source": block["source"], "title": block.get("title"),
            "start_block_index": start, "end_block_index": end}


@dataclass
class _Issued:
    content: list[dict[str, Any]]


class StrictRules:
    """Request checks, reply rewriting and the prompt cache of one replay server."""

    def __init__(self, key: bytes = b"anthropic-replay-signing-key") -> None:
        self.key = key
        self.issued: dict[str, _Issued] = {}  # tool_use id -> the response that carried it
        self.cache: set[str] = set()  # prefix hashes written to the cache
        self.log: list[dict[str, int]] = []  # usage of each answered request
        self.issued_last: list[dict[str, Any]] = []

    # --- signatures ------------------------------------------------------------------------------

    def sign(self, model: str, prefix: str, text: str) -> str:
        claim = {"m": model, "p": prefix, "h": hashlib.sha256(text.encode()).hexdigest()[:32]}
        raw = canon(claim)
        mac = hmac.new(self.key, raw, hashlib.sha256).hexdigest()[:32]
        return base64.b64encode(raw + b"." + mac.encode()).decode()

    def _claim(self, signature: str) -> dict[str, Any] | None:
        try:
            raw, mac = base64.b64decode(signature.encode(), validate=True).rsplit(b".", 1)
        except (ValueError, TypeError):
            return None
        good = hmac.new(self.key, raw, hashlib.sha256).hexdigest()[:32].encode()
        if not hmac.compare_digest(mac, good):
            return None
        return json.loads(raw)

    # --- the checks ------------------------------------------------------------------------------

    def check(self, body: Any) -> None:
        """Raise Rejection when the request breaks a rule of the current API."""
        if not isinstance(body, dict):
            raise Rejection(400, "invalid_request_error", "The request body is not a JSON object.")
        model = body.get("model")
        if model in RETIRED or model not in CALLABLE:
            raise Rejection(404, "not_found_error", f"model: {model}")
        messages = body.get("messages") or []
        if not messages:
            raise Rejection(400, "invalid_request_error", "messages: at least one message is required")
        if model in GEN_55:
            self._check_generation(body, messages)
        self._check_tool_round(messages)
        self._check_signatures(body, messages, model)
        check_search_results(messages)

    def _check_generation(self, body: dict[str, Any], messages: list[dict[str, Any]]) -> None:
        model = body["model"]
        last = messages[-1]
        paused = any(b.get("type") == "server_tool_use" for b in blocks_of(last.get("content")))
        if last.get("role") == "assistant" and not paused:  # resuming a pause_turn is not prefill
            raise Rejection(400, "invalid_request_error",
                            f"This model ({model}) does not support assistant message prefill. "
                            "The conversation must end with a user message.")
        choice = body.get("tool_choice") or {}
        if isinstance(choice, dict) and choice.get("type") in ("any", "tool"):
            raise Rejection(400, "invalid_request_error",
                            f"tool_choice: forced tool use ({choice.get('type')}) is not supported "
                            f"on {model}; use auto or none.")
        thinking = body.get("thinking") or {}
        if thinking.get("type") == "enabled" or "budget_tokens" in thinking:
            raise Rejection(400, "invalid_request_error",
                            f"thinking.type.enabled and budget_tokens are not supported on {model}; "
                            "use thinking.type adaptive with output_config.effort.")
        if thinking.get("type") == "disabled":
            raise Rejection(400, "invalid_request_error",
                            f"thinking.type.disabled is not supported on {model}; use between_tools.")
        effort = (body.get("output_config") or {}).get("effort")
        if thinking.get("type") == "between_tools" and effort in ("xhigh", "max"):
            raise Rejection(400, "invalid_request_error",
                            f"thinking.type.between_tools does not support effort {effort}.")
        for name in SAMPLING:
            if name in body:
                raise Rejection(400, "invalid_request_error",
                                f"{name}: sampling parameters are not supported on {model}.")

    def _check_tool_round(self, messages: list[dict[str, Any]]) -> None:
        last = messages[-1]
        results = [b for b in blocks_of(last.get("content")) if b.get("type") == "tool_result"]
        if last.get("role") != "user" or not results or len(messages) < 2:
            return
        i = len(messages) - 2
        turn = messages[i]
        sent = blocks_of(turn.get("content")) if turn.get("role") == "assistant" else []
        ids = [b.get("id") for b in sent if b.get("type") == "tool_use"]
        issued = next((self.issued[t] for t in ids if t in self.issued), None)
        if issued is None:
            return  # a response this server did not give: nothing to compare with
        want = [_clean(b) for b in issued.content if b.get("type") in THINKING]
        have = [_clean(b) for b in sent if b.get("type") in THINKING]
        if want != have:
            raise Rejection(400, "invalid_request_error",
                            f"messages.{i}.content: the assistant turn of a tool-use round must include "
                            f"its thinking blocks exactly as they were returned ({len(want)} expected, "
                            f"{len(have)} sent or changed); pass them back unmodified.")

    def _check_signatures(self, body: dict[str, Any], messages: list[dict[str, Any]], model: str) -> None:
        for i, m in enumerate(messages):
            if m.get("role") != "assistant":
                continue
            for j, block in enumerate(blocks_of(m.get("content"))):
                kind = block.get("type")
                if kind not in THINKING:
                    continue
                where = f"messages.{i}.content.{j}"
                claim = self._claim(block.get("signature") or block.get("data") or "")
                text = block.get("thinking", "") if kind == "thinking" else "redacted"
                if claim is None or claim["h"] != hashlib.sha256(text.encode()).hexdigest()[:32]:
                    raise Rejection(400, "invalid_request_error",
                                    f"{where}: Invalid `signature` in `{kind}` block.")
                if claim["m"] != model:
                    continue  # another model's block: the API drops it without an error
                if claim["p"] != prefix_hash(body, messages, i, j):
                    raise Rejection(400, "invalid_request_error",
                                    f"{where}: Invalid `signature` in `{kind}` block. The block is bound "
                                    "to a different conversation. Remove the block, or set "
                                    "`thinking.block_binding.prefix_mismatch_behavior` to \"drop_block\".")

    # --- the prompt cache --------------------------------------------------------------------------

    def usage(self, body: dict[str, Any]) -> dict[str, int]:
        """input / cache-write / cache-read tokens for the request, updating the cache."""
        model = body["model"]
        seq: list[tuple[bytes, bool]] = [(canon(t), "cache_control" in t) for t in body.get("tools") or []]
        seq += [(canon(b), "cache_control" in b) for b in _system_blocks(body)]
        messages = body.get("messages") or []
        for m in messages:
            for b in blocks_of(m.get("content")):
                seq.append((canon({"role": m.get("role"), **b}), "cache_control" in b))
        if body.get("cache_control") and seq:
            seq[-1] = (seq[-1][0], True)  # automatic caching: a breakpoint on the last block
        h = hashlib.sha256(model.encode())
        hashes, tokens, total = [], [], 0
        for data, _bp in seq:
            h.update(data)
            total += len(data) // CHARS_PER_TOKEN + 1
            hashes.append(h.hexdigest())
            tokens.append(total)
        breakpoints = [k for k, (_d, bp) in enumerate(seq) if bp]
        if not breakpoints:
            return {"input_tokens": total, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}
        last = breakpoints[-1]
        read = max((tokens[k] for k in range(last + 1) if hashes[k] in self.cache), default=0)
        minimum = 512 if model in GEN_55 else 1024
        written = 0
        for k in breakpoints:
            if tokens[k] >= minimum and hashes[k] not in self.cache:
                self.cache.add(hashes[k])
                written = tokens[k]
        write = max(0, written - read) if written else 0
        usage = {"input_tokens": total - read - write, "cache_creation_input_tokens": write,
                 "cache_read_input_tokens": read}
        self.log.append(usage)
        return usage

    # --- replies ---------------------------------------------------------------------------------

    def rewrite(self, body: dict[str, Any], chunks: tuple[Any, ...]) -> tuple[Any, ...]:
        """The reply's chunks with the requested model, the usage, signed thinking blocks (and
        thinking text only under display "summarized")."""
        model = body["model"]
        thinking = body.get("thinking") or {}
        show = thinking.get("display") == "summarized" or (
            model not in GEN_55 and thinking.get("type") in ("enabled", "adaptive") and "display" not in thinking
        )
        messages = list(body.get("messages") or [])
        state = _Response(messages=messages)
        out = []
        if not any(b"thinking" in c.data or b"citations_delta" in c.data for c in chunks):
            # No thinking to sign: only message_start changes (a fast path for long replies).
            for chunk in chunks:
                at = chunk.data.find(b"event: message_start")
                if at < 0:
                    out.append(chunk)
                    continue
                end = chunk.data.find(b"\n\n", at)
                end = len(chunk.data) if end < 0 else end
                frame = self._frame(chunk.data[at:end], body, model, show, state)
                out.append(replace(chunk, data=chunk.data[:at] + frame + chunk.data[end:]))
            self.issued_last = []
            return tuple(out)
        for chunk in chunks:
            frames = chunk.data.split(b"\n\n")
            rewritten = [self._frame(f, body, model, show, state) for f in frames[:-1]]
            data = b"".join(f + b"\n\n" for f in rewritten if f is not None) + frames[-1]
            out.append(replace(chunk, data=data))
        for block in state.content:
            if block.get("type") == "tool_use":
                self.issued[block["id"]] = _Issued(state.content)
        self.issued_last = state.content  # the content of the last response written
        return tuple(out)

    def _frame(self, frame: bytes, body: dict[str, Any], model: str, show: bool, state: _Response) -> bytes | None:
        lines = frame.split(b"\n")
        data_at = next((k for k, line in enumerate(lines) if line.startswith(b"data: ")), None)
        if data_at is None:
            return frame
        try:
            data = json.loads(lines[data_at][6:])
        except ValueError:
            return frame
        kind = data.get("type")
        if kind == "message_start":
            data["message"]["model"] = model
            data["message"]["usage"] = {**self.usage(body), "output_tokens": 1}
        elif kind == "content_block_start":
            block = dict(data["content_block"])
            index = data["index"]
            if block.get("type") == "redacted_thinking":
                block["data"] = self.sign(model, state.prefix(body, index), "redacted")
                data["content_block"] = block
            elif block.get("type") == "thinking":
                block["thinking"], block["signature"] = "", ""
                data["content_block"] = block
            state.start(index, block)
        elif kind == "content_block_delta":
            delta = data["delta"]
            index = data["index"]
            dtype = delta.get("type")
            if dtype == "thinking_delta":
                if not show:
                    return None
                state.add(index, "thinking", delta.get("thinking", ""))
            elif dtype == "signature_delta":
                text = state.text(index)
                delta["signature"] = self.sign(model, state.prefix(body, index), text)
                state.blocks[index]["signature"] = delta["signature"]
            elif dtype == "text_delta":
                state.add(index, "text", delta.get("text", ""))
            elif dtype == "citations_delta":
                citation = fill_citation(body, delta.get("citation") or {})
                if citation is None:
                    return None  # nothing citable by that index: the model cannot cite it
                delta["citation"] = citation
                state.blocks[index].setdefault("citations", []).append(citation)
            elif dtype == "input_json_delta":
                state.add(index, "json", delta.get("partial_json", ""))
        elif kind == "content_block_stop":
            state.stop(data["index"])
        else:
            return frame
        lines[data_at] = b"data: " + json.dumps(data, separators=(",", ":")).encode()
        return b"\n".join(lines)

    def models_page(self) -> dict[str, Any]:
        data = [
            {"type": "model", "id": mid, "display_name": name, "created_at": created, "lifecycle": life,
             "max_input_tokens": 200_000 if mid == "claude-haiku-4-5" else 1_000_000,
             "max_tokens": 64_000 if mid == "claude-haiku-4-5" else 128_000}
            for mid, name, life, created in CATALOGUE
        ]
        return {"data": data, "has_more": False, "first_id": data[0]["id"], "last_id": data[-1]["id"]}


@dataclass
class _Response:
    """The content of the response being written, block by block (for the prefix of each block)."""

    messages: list[dict[str, Any]]

    def __post_init__(self) -> None:
        self.blocks: dict[int, dict[str, Any]] = {}
        self.pieces: dict[int, list[str]] = {}
        self.content: list[dict[str, Any]] = []

    def start(self, index: int, block: dict[str, Any]) -> None:
        self.blocks[index] = dict(block)
        self.pieces[index] = []

    def add(self, index: int, _kind: str, text: str) -> None:
        self.pieces.setdefault(index, []).append(text)

    def text(self, index: int) -> str:
        return "".join(self.pieces.get(index, []))

    def stop(self, index: int) -> None:
        block = self.blocks.get(index)
        if block is None:
            return
        joined = self.text(index)
        kind = block.get("type")
        if kind == "thinking":
            block["thinking"] = joined
        elif kind == "text":
            block["text"] = block.get("text", "") + joined
        elif kind in ("tool_use", "server_tool_use"):
            try:
                block["input"] = json.loads(joined) if joined.strip() else {}
            except ValueError:
                block["input"] = {}
        self.content.append(block)

    def prefix(self, body: dict[str, Any], index: int) -> str:
        done = [b for b in self.content]  # blocks closed before this one, in order
        messages = [*self.messages, {"role": "assistant", "content": done}]
        return prefix_hash(body, messages, len(self.messages), len(done))
