"""Suite-wide: under pytest-xdist (``make test``), the longest files are handed out first."""

from __future__ import annotations

import pytest

# The files that take minutes (browsers, subprocess topologies, Arelle, the 300k-fact parse),
# longest first, from `--durations` of a whole run. With `--no-loadscope-reorder` (make test),
# pytest-xdist's loadfile hands files to the workers in collection order, so these go first and
# the short ones fill in around them. Left to xdist's own order (files with the most tests first)
# they ran side by side at the end while the other workers sat idle.
LONG_FILES = (
    "tests/ui/test_ui_browser_stream.py",
    "tests/security/test_bounded_parsing.py",
    "tests/ui/test_ui_browser_pages.py",
    "tests/ui/test_ui_browser_session.py",
    "tests/filings/test_arelle_agreement.py",
    "tests/scaleout/test_through_lb.py",
    "tests/ui/test_ui_browser_reasoning.py",
    "tests/filings/test_corpus_reference.py",
    "tests/security/test_inert_pages.py",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not config.getoption("numprocesses", None) and not hasattr(config, "workerinput"):
        return  # one process: the order files are collected in
    rank = {name: i for i, name in enumerate(LONG_FILES)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::", 1)[0], len(rank)))
