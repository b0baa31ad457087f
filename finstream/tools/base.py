"""How tools are declared, described to the model and run."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ValidationError

from finstream.filings.model import Filing


@dataclass
class ToolContext:
    """What a tool may read: the conversation's parsed filings."""

    filings: list[Filing] = field(default_factory=list)
    # Uploads that could not be read: {"filename", "error"}, so a tool can say why one is missing.
    failed: list[dict[str, str]] = field(default_factory=list)
    # This answer's tool results in order, (tool name, result): what output tools verify against.
    results: list[tuple[str, Any]] = field(default_factory=list)
    cache: dict[str, Any] = field(default_factory=dict)  # per-answer caches (the fact index)


@dataclass
class ToolOutcome:
    """A tool's result for the model, and the artifact to show, if any."""

    result: Any
    artifact_kind: Literal["chart", "table", "metric"] | None = None
    artifact: dict[str, Any] | None = None


class ToolInputError(Exception):
    """The input parsed but makes no sense (unknown concept, empty series...); told to the model."""


InputT = TypeVar("InputT", bound=BaseModel)


ToolRole = Literal["data", "output"]


@dataclass
class Tool(Generic[InputT]):
    """One tool, described once: the model reads its name, description and input schema; the
    system prompt lists it by ``role``; the page shows ``progress`` while it runs."""

    name: str
    description: str
    input_model: type[InputT]
    run: Callable[[InputT, ToolContext], ToolOutcome | Awaitable[ToolOutcome]]
    # Cheap tools run on the loop; the rest in a worker thread so big filings never block it.
    inline: bool = False
    progress: str = ""  # what a user sees while it runs, e.g. "Reading reported figures"
    role: ToolRole = "data"  # data tools read the filings; output tools show an artifact

    def schema(self) -> dict[str, Any]:
        """The tool as Anthropic's Messages API expects it."""
        return {
            "name": self.name,
            "description": self.description,
            "input_schema": self.input_model.model_json_schema(),
        }


class Toolbox:
    def __init__(self, tools: list[Tool[Any]]) -> None:
        self._tools = {t.name: t for t in tools}
        self._schemas = [t.schema() for t in tools]  # built once: pydantic schema generation is slow

    def names(self, role: ToolRole | None = None) -> list[str]:
        """The tools' names in order; with ``role``, only the data or the output tools."""
        return [name for name, tool in self._tools.items() if role is None or tool.role == role]

    def label(self, name: str) -> str:
        """What the page shows while the tool ``name`` runs (any name: a model may call one that
        does not exist)."""
        tool = self._tools.get(name)
        return (tool.progress if tool is not None else "") or f"Running {name}"

    def schemas(self) -> list[dict[str, Any]]:
        return self._schemas

    def validate(self, name: str, data: Any) -> BaseModel:
        """Raise ToolInputError with a message the model can act on."""
        tool = self._tools.get(name)
        if tool is None:
            raise ToolInputError(f"unknown tool {name!r}; available: {', '.join(self._tools)}")
        try:
            return tool.input_model.model_validate(data)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'input'}: {e['msg']}" for e in exc.errors()
            )
            raise ToolInputError(f"invalid input for {name}: {problems}") from None

    async def execute(self, name: str, model: BaseModel, ctx: ToolContext) -> ToolOutcome:
        tool = self._tools[name]
        if asyncio.iscoroutinefunction(tool.run):
            outcome = await tool.run(model, ctx)
        elif tool.inline:
            outcome = tool.run(model, ctx)
        else:
            outcome = await asyncio.to_thread(tool.run, model, ctx)
        ctx.results.append((name, outcome.result))  # later tools (and the text check) verify against it
        return outcome
