"""A run and everything it owns, by composition: the manager (manager.py) holds the live runs
(state.py), a Tailer (tail.py), a log writer per run (writer.py) and the text guard (guard.py);
per-run options (options.py), process ownership (owner.py), the one map from a finished run to its
message status (status.py), and the sync bridge for Streamlit (bridge.py)."""

from finstream.runs.bridge import Runtime, get_runtime
from finstream.runs.manager import RunBusyError, RunManager
from finstream.runs.options import RunOptions
from finstream.runs.status import MessageStatus, ending, run_status
from finstream.runs.tail import Tailer

__all__ = [
    "MessageStatus", "RunBusyError", "RunManager", "RunOptions", "Runtime", "Tailer", "ending",
    "get_runtime", "run_status",
]
