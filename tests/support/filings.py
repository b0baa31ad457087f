"""Where the real SEC filings are: ../shared/filings beside the repo, or FINSTREAM_FILINGS_DIR."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FILINGS_DIR = Path(os.environ.get("FINSTREAM_FILINGS_DIR") or REPO / ".." / "shared" / "filings").resolve()
