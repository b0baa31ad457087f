"""Work the API does not do per request: FastAPI's native OpenTelemetry (newer FastAPI versions)
asks the global providers on every request whether anyone configured them; finstream configures
none (its operations are Prometheus and JSON logs), so the app turns it off and never asks."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.api.api_support import TOKEN, LiveServer


def test_requests_never_consult_opentelemetry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("opentelemetry")
    from opentelemetry import _logs, metrics, trace

    asked: list[str] = []
    for module, name in ((trace, "get_tracer_provider"), (metrics, "get_meter_provider"),
                         (_logs, "get_logger_provider")):
        real = getattr(module, name)
        monkeypatch.setattr(module, name, lambda real=real, name=name: asked.append(name) or real())
    with LiveServer(tmp_path / "api.db") as live:
        asked.clear()  # start-up may look once; requests must not
        headers = {"Authorization": f"Bearer {TOKEN}"}
        assert httpx.get(f"{live.url}/healthz").status_code == 200
        made = httpx.post(f"{live.url}/api/conversation", json={}, headers=headers)
        assert made.status_code == 201
        assert httpx.get(f"{live.url}/api/conversation/{made.json()['conversation_id']}",
                         headers=headers).status_code == 200
    assert asked == []
