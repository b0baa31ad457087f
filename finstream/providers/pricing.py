"""Estimated cost of a model call, from a per-model price table (USD per million tokens).

Update this table when Anthropic's "Pricing" page changes; nothing else holds prices. Columns:
base input, 5-minute cache write, 1-hour cache write, cache read, output. finstream writes the
cache with the default 5-minute TTL, so cache writes are priced at that rate. Cache writes cost
1.25x base input and reads about a tenth, as the Prompt caching page states; where Anthropic
publishes its own figure (Sonnet 5.5's cache reads at $0.10 since 2026-10-07), the table has it.
The cost is an estimate: batch, regional (inference_geo) and long-context tiers are not modelled.
"""

from __future__ import annotations

from typing import Any, NamedTuple


class Price(NamedTuple):
    input: float
    cache_write_5m: float
    cache_write_1h: float
    cache_read: float
    output: float


PRICES: dict[str, Price] = {
    "claude-sonnet-5-5": Price(2.00, 2.50, 4.00, 0.10, 10.00),
    "claude-opus-5-5": Price(4.00, 5.00, 8.00, 0.40, 20.00),
    "claude-haiku-5-5": Price(0.10, 0.125, 0.20, 0.01, 0.50),
    "claude-fable-5-2": Price(8.00, 10.00, 16.00, 0.20, 40.00),
    "claude-fable-5-1": Price(10.00, 12.50, 20.00, 0.25, 50.00),
    "claude-sonnet-5": Price(2.00, 2.50, 4.00, 0.20, 10.00),
    "claude-opus-5": Price(5.00, 6.25, 10.00, 0.50, 25.00),
    "claude-haiku-4-5": Price(1.00, 1.25, 2.00, 0.10, 5.00),
}
PER = 1_000_000


def price(model: str | None) -> Price | None:
    if not model:
        return None
    if model in PRICES:
        return PRICES[model]
    # Dated snapshots ("claude-haiku-4-5-20251001") share their alias's price.
    for name, p in PRICES.items():
        if model.startswith(name + "-") and model[len(name) + 1 :].isdigit():
            return p
    return None


def cost_usd(model: str | None, usage: dict[str, Any]) -> float | None:
    """USD for one call's usage (input_tokens excludes cached ones, as the API counts them);
    None when the model has no price here."""
    p = price(model)
    if p is None:
        return None
    return (
        int(usage.get("input_tokens") or 0) * p.input
        + int(usage.get("cache_creation_input_tokens") or 0) * p.cache_write_5m
        + int(usage.get("cache_read_input_tokens") or 0) * p.cache_read
        + int(usage.get("output_tokens") or 0) * p.output
    ) / PER
