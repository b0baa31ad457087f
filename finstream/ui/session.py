"""Which conversation this browser tab is on, kept in both session state and the URL.

Session state survives reruns and page switches; the ``?c=`` query parameter survives a browser
reload (which starts a new session), so a reload mid-stream finds the conversation and its run.
"""

from __future__ import annotations

import streamlit as st

from finstream.ui import backend

KEY = "conversation_id"
PARAM = "c"


def current_conversation(*, create: bool = True) -> str | None:
    """The tab's conversation id: the URL's if it names one that exists, else the session's, else
    the most recent one, else a new conversation preloaded with the sample filing."""
    wanted = st.query_params.get(PARAM)
    if wanted and wanted != st.session_state.get(KEY) and backend.get_conversation(wanted):
        st.session_state[KEY] = wanted
    conversation_id = st.session_state.get(KEY)
    if conversation_id and backend.get_conversation(conversation_id) is None:
        conversation_id = None  # deleted elsewhere
    if not conversation_id:
        recent = backend.list_conversations(limit=1)
        if recent:
            conversation_id = recent[0].id
        elif create:
            conversation_id = new_conversation()
        else:
            return None
    select(conversation_id)
    return conversation_id


def select(conversation_id: str) -> None:
    st.session_state[KEY] = conversation_id
    if st.query_params.get(PARAM) != conversation_id:
        st.query_params[PARAM] = conversation_id


def new_conversation() -> str:
    """A fresh conversation with the sample filing in it, so the first question works at once."""
    conversation = backend.create_conversation("")
    backend.preload_samples(conversation.id)
    st.session_state[KEY] = conversation.id
    return conversation.id


def live_views() -> dict:
    """Per-session cache of messages being streamed: what this tab already showed of each, so a
    rerun redraws it at once and tails only what came after (the seq it reached)."""
    return st.session_state.setdefault("_live_views", {})
