"""A real finstream process for the crash and multi-process tests (not a test module).

It opens the runtime exactly as the app does (settings from the environment), starts one run with
the demo analyst, prints the ids as one JSON line, and waits to be killed.
"""

from __future__ import annotations

import json
import sys
import time

from finstream.runs.bridge import get_runtime


def main() -> None:
    runtime = get_runtime()
    conversation = runtime.store.create_conversation("child run")
    message_id = runtime.start(conversation.id, sys.argv[1] if len(sys.argv) > 1 else "Revenue?")
    print(json.dumps({"conversation_id": conversation.id, "message_id": message_id}), flush=True)
    time.sleep(600)


if __name__ == "__main__":
    main()
