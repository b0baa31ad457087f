"""Which Claude models exist today, what each one accepts, and what to say about the others.

Facts from Anthropic's "Models overview", "Model deprecations" and "What's new in Claude Sonnet
5.5" pages (December 2026). The 5.x generation thinks adaptively by default and rejects sampling
parameters, a forced ``tool_choice`` and manual ``thinking.type: "enabled"``; finstream never
sends any of those, to any model. With a key, the model list comes from the Models API
(``client.models.list()``), fetched once per process; this table is the fallback and the source of
each model's output limit.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

log = logging.getLogger(__name__)

DEFAULT_MODEL = "claude-sonnet-5-5"
EFFORTS = ("low", "medium", "high", "xhigh", "max")


@dataclass(frozen=True)
class ModelSpec:
    id: str
    name: str
    context_window: int
    max_output: int
    adaptive: bool = True  # adaptive thinking + output_config.effort (the 5.x generation)
    legacy: bool = False  # still callable, no longer the recommended one


# Current first (the settings panel's order), then legacy models that still answer.
MODELS: tuple[ModelSpec, ...] = (
    ModelSpec("claude-sonnet-5-5", "Claude Sonnet 5.5", 1_000_000, 128_000),
    ModelSpec("claude-opus-5-5", "Claude Opus 5.5", 1_000_000, 128_000),
    ModelSpec("claude-haiku-5-5", "Claude Haiku 5.5", 1_000_000, 128_000),
    ModelSpec("claude-fable-5-2", "Claude Fable 5.2", 1_000_000, 128_000),
    ModelSpec("claude-fable-5-1", "Claude Fable 5.1", 1_000_000, 128_000),
    ModelSpec("claude-sonnet-5", "Claude Sonnet 5", 1_000_000, 128_000, legacy=True),
    ModelSpec("claude-opus-5", "Claude Opus 5", 1_000_000, 128_000, legacy=True),
    ModelSpec("claude-haiku-4-5", "Claude Haiku 4.5", 200_000, 64_000, adaptive=False, legacy=True),
)
SPECS = {m.id: m for m in MODELS}
CURRENT = tuple(m.id for m in MODELS if not m.legacy)

# Retired ids (requests to them fail with 404) and the current model of the same line.
RETIRED: dict[str, tuple[str, str]] = {
    "claude-sonnet-4-5": ("2026-11-30", "claude-sonnet-5-5"),
    "claude-sonnet-4-5-20250929": ("2026-11-30", "claude-sonnet-5-5"),
    "claude-sonnet-4": ("2026-06-15", "claude-sonnet-5-5"),
    "claude-sonnet-4-0": ("2026-06-15", "claude-sonnet-5-5"),
    "claude-sonnet-4-20250514": ("2026-06-15", "claude-sonnet-5-5"),
    "claude-opus-4": ("2026-06-15", "claude-opus-5-5"),
    "claude-opus-4-0": ("2026-06-15", "claude-opus-5-5"),
    "claude-opus-4-20250514": ("2026-06-15", "claude-opus-5-5"),
    "claude-opus-4-1": ("2026", "claude-opus-5-5"),
    "claude-opus-4-1-20250805": ("2026", "claude-opus-5-5"),
    "claude-3-7-sonnet-latest": ("2026-02-19", "claude-sonnet-5-5"),
    "claude-3-7-sonnet-20250219": ("2026-02-19", "claude-sonnet-5-5"),
    "claude-3-5-sonnet-latest": ("2025-10-22", "claude-sonnet-5-5"),
    "claude-3-5-haiku-latest": ("2026-02-19", "claude-haiku-5-5"),
    "claude-3-5-haiku-20241022": ("2026-02-19", "claude-haiku-5-5"),
    "claude-3-opus-20240229": ("2026-01-05", "claude-opus-5-5"),
    "claude-3-haiku-20240307": ("2026", "claude-haiku-5-5"),
}


def spec(model: str) -> ModelSpec | None:
    return SPECS.get(model)


def replacement(model: str) -> str:
    """The current model of the same line (Opus, Haiku, Sonnet by default)."""
    if model in RETIRED:
        return RETIRED[model][1]
    for line in ("opus", "haiku", "fable"):
        if line in model:
            return next(m for m in CURRENT if line in m)
    return DEFAULT_MODEL


def is_adaptive(model: str) -> bool:
    """Whether the model takes ``thinking: adaptive`` and ``output_config.effort``. Unknown ids of
    the 5.x generation count as adaptive; anything else gets neither (safe for every model)."""
    known = SPECS.get(model)
    if known is not None:
        return known.adaptive
    return any(model.startswith(p) for p in ("claude-sonnet-5", "claude-opus-5", "claude-haiku-5",
                                               "claude-fable-5", "claude-mythos-5"))


def output_limit(model: str) -> int | None:
    known = SPECS.get(model)
    return known.max_output if known else None


def context_window(model: str) -> int:
    known = SPECS.get(model)
    return known.context_window if known else 200_000


def retired_message(model: str) -> str | None:
    """A sentence naming a retired model and its current replacement, or None."""
    if model not in RETIRED:
        return None
    when, instead = RETIRED[model]
    return (
        f"The model {model} was retired ({when}); requests to it fail. Use {instead} instead "
        "(set FINSTREAM_MODEL or choose it in the settings)."
    )


def unknown_message(model: str) -> str:
    return (
        f"Claude does not know the model {model!r}. Current models: {', '.join(CURRENT)}; "
        f"try {replacement(model)}."
    )


# --- the Models API, once per process -------------------------------------------------------------

_cache: dict[tuple[str | None, str], tuple[str, ...]] = {}
_lock = threading.Lock()


def available_models(api_key: str | None, base_url: str | None, *, timeout: float = 5.0) -> tuple[str, ...]:
    """Model ids the key can use, from ``client.models.list()`` (cached for the process), newest
    first; the built-in current list when there is no key or the call fails."""
    if not api_key:
        return CURRENT
    cache_key = (base_url, api_key[-8:])
    with _lock:
        if cache_key in _cache:
            return _cache[cache_key]
    try:
        import anthropic

        client = anthropic.Anthropic(api_key=api_key, base_url=base_url, max_retries=0, timeout=timeout)
        ids = tuple(
            m.id for m in client.models.list(limit=100)
            if getattr(m, "lifecycle", "active") != "retired" and m.id not in RETIRED
        )
        client.close()
    except Exception as exc:  # offline, a proxy without /v1/models, a bad key: the table answers
        log.info("models.list() failed (%s); using the built-in model list", type(exc).__name__)
        ids = ()
    result = ids or CURRENT
    with _lock:
        _cache[cache_key] = result
    return result


def clear_cache() -> None:
    with _lock:
        _cache.clear()
