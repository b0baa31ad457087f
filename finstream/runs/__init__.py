"""A run and everything it owns: the manager, tailing, live state, options, process ownership,
the log writer and the sync bridge for Streamlit."""

from finstream.runs.bridge import Runtime, get_runtime
from finstream.runs.manager import RunBusyError, RunManager
from finstream.runs.state import RunOptions

__all__ = ["RunBusyError", "RunManager", "RunOptions", "Runtime", "get_runtime"]
