"""One artifact type from event to store to page: a chart, table or metric tile a tool produced.

The ``chart_ready``/``table_ready``/``metric_ready`` events carry one (``event.artifact``), the
store records and returns it (``Store.list_artifacts``), and the page, the API and the downloads
read it. ``data`` is the tool's payload exactly as the protocol sends it (see finstream/events.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

ArtifactKind = Literal["chart", "table", "metric"]
KINDS: tuple[ArtifactKind, ...] = ("chart", "table", "metric")


@dataclass(frozen=True)
class Artifact:
    kind: ArtifactKind
    index: int  # 0-based within its message and kind (the event's chart_index/table_index/...)
    data: dict[str, Any] = field(default_factory=dict)
    message_id: str = ""
    seq: int = 0  # the event that produced it

    @property
    def key(self) -> str:
        """A stable element key: the same artifact keeps it across reruns and pages."""
        return f"{self.message_id}-{self.kind}-{self.index}"

    @property
    def title(self) -> str:
        if self.kind == "chart":
            return str((self.data.get("spec") or {}).get("title") or f"Chart {self.index + 1}")
        if self.kind == "table":
            return str(self.data.get("title") or f"Table {self.index + 1}")
        return str(self.data.get("label") or f"Metric {self.index + 1}")

    @property
    def verification(self) -> list[dict[str, Any]] | None:
        """Its numbers, checked (NumberCheck dicts); None when there was nothing to check against."""
        checks = self.data.get("verification")
        return list(checks) if isinstance(checks, list) else None

    @property
    def sources(self) -> list[dict[str, Any]]:
        return [s for s in self.data.get("sources") or [] if isinstance(s, dict)]
