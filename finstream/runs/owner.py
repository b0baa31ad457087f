"""Who owns a run: this process's instance name and id, and whether another owner is dead."""

from __future__ import annotations

import os
import socket
import uuid


def instance_name() -> str:
    """This replica's name: FINSTREAM_INSTANCE_NAME, else the host name (a container's id)."""
    return (os.environ.get("FINSTREAM_INSTANCE_NAME") or socket.gethostname()).replace(":", "_")


def instance_id() -> str:
    return f"{instance_name()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def owner_is_dead(owner: str, me: str) -> bool:
    """True when ``owner`` ("host:pid:token") is a process on this host that no longer runs, or
    an earlier life of this very pid (containers restart as pid 1 on the same host name)."""
    try:
        host, pid, token = owner.rsplit(":", 2)
        my_host, my_pid, my_token = me.rsplit(":", 2)
        if host != my_host:
            return False
        if pid == my_pid:
            return token != my_token
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except (ValueError, PermissionError, OSError):
        return False
    return False
