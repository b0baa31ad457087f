from __future__ import annotations

import pytest

from tests.store.dbs import drop_schema, open_test_store


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    """The same conformance tests on a SQLite file and on the real PostgreSQL."""
    st, schema = open_test_store(request.param, tmp_path)
    yield st
    st.close()
    if schema:
        drop_schema(schema)
