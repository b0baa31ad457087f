"""The API server tunes the garbage collector at start-up by default (api/server.py tune_gc:
gc.freeze, a higher young threshold), and ``FINSTREAM_GC_TUNE=0`` keeps CPython's defaults. Run in
a fresh interpreter each: freezing this test session's heap would outlive the test."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

PROBE = """
import gc, json
from finstream.api.server import GC_YOUNG_THRESHOLD, tune_gc
before = gc.get_threshold()[0]
tune_gc()
print(json.dumps({"frozen": gc.get_freeze_count(), "young": gc.get_threshold()[0], "before": before,
                  "wanted": GC_YOUNG_THRESHOLD}))
"""


def _probe(value: str | None) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "FINSTREAM_GC_TUNE"}
    if value is not None:
        env["FINSTREAM_GC_TUNE"] = value
    done = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True,
                          timeout=120, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("value", [None, "1", "yes"])
def test_the_server_tunes_the_gc_by_default(value):
    got = _probe(value)
    assert got["frozen"] > 1000  # the start-up heap (modules, the app's machinery) is frozen
    assert got["young"] == got["wanted"] != got["before"]


@pytest.mark.parametrize("value", ["0", "off", " False "])
def test_finstream_gc_tune_0_keeps_cpythons_defaults(value):
    got = _probe(value)
    assert got["frozen"] == 0 and got["young"] == got["before"]
