from __future__ import annotations

import pytest

from tests.support.db import opened_store


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    with opened_store(request.param, tmp_path) as st:
        yield st
