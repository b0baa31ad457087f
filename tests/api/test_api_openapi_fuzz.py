"""Schemathesis against the served OpenAPI description: generated requests (bounded) never get a
5xx, and the server keeps serving. WebSocket is not in OpenAPI; its bad frames have their own tests."""

from __future__ import annotations

import httpx
import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402

from tests.api.api_support import auth  # noqa: E402


def test_generated_requests_never_get_a_server_error(live):
    schema = schemathesis.openapi.from_url(f"{live.url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 9
    statuses: list[int] = []
    for operation in operations:
        # schemathesis' pytest plugin does not load under this pytest; drive hypothesis directly.
        @settings(max_examples=6, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def check(case) -> None:  # noqa: ANN001
            response = case.call_and_validate(base_url=live.url, headers=auth(),
                                              checks=[not_a_server_error], timeout=30)
            statuses.append(response.status_code)

        check()
    assert len(statuses) >= 3 * len(operations)
    assert all(code < 500 for code in statuses)
    assert httpx.get(f"{live.url}/healthz").status_code == 200
