"""The dashboard: every chart, table and metric of a conversation in a read-only grid.

Opened two ways: by the owner (the tab's conversation, with share-link controls), or by anyone
holding a share link (``?share=<token>``), who gets the grid and nothing else: no chat, no upload,
no other conversation. A revoked or unknown token is refused.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from finstream.artifacts import Artifact
from finstream.ui import backend
from finstream.ui.artifacts import md_escape, render_artifact
from finstream.ui.session import current_conversation


def render_grid(artifacts: list[Artifact], *, key_prefix: str = "dash-") -> None:
    """Metrics in a row, then charts two by two, then tables full width."""
    # The same figure asked about twice shows once (its latest tile).
    latest = {}
    for art in artifacts:
        if art.kind == "metric":
            latest[(art.data.get("label"), art.data.get("value"), art.data.get("period"))] = art
    metrics = sorted(latest.values(), key=lambda a: a.seq)
    charts = [a for a in artifacts if a.kind == "chart"]
    tables = [a for a in artifacts if a.kind == "table"]
    if not artifacts:
        st.info("No charts, tables or metrics yet.", icon=":material/dashboard:")
        return
    if metrics:
        with st.container(horizontal=True, gap="small"):
            for art in metrics:
                render_artifact(art, key_prefix=key_prefix, metric_width=280)
    per_row = 1 if len(charts) == 1 else 2
    for start in range(0, len(charts), per_row):
        cols = st.columns(per_row, gap="medium")
        for col, art in zip(cols, charts[start : start + per_row], strict=False):
            with col:
                render_artifact(art, key_prefix=key_prefix)
    for art in tables:
        render_artifact(art, key_prefix=key_prefix)


def conversation_artifacts(conversation_id: str) -> list[Artifact]:
    return backend.conversation_artifacts(conversation_id)


def render_shared(token: str) -> None:
    conversation = backend.resolve_share(token)
    if conversation is None:
        st.error(
            "This share link is not valid: it was revoked or never existed. Ask its owner for a "
            "new one.",
            icon=":material/link_off:",
        )
        st.stop()
    st.title(md_escape(conversation.title or "Shared analysis"), anchor=False)
    st.caption(":material/visibility: Read-only shared dashboard")
    render_grid(conversation_artifacts(conversation.id))


def _create_link(conversation_id: str) -> None:
    st.session_state["_new_share"] = backend.share_link(conversation_id).token


def share_url(token: str) -> str:
    base = (st.context.url or "").split("?", 1)[0]
    for suffix in ("/dashboard", "/analysis", "/documents", "/history"):
        base = base.removesuffix(suffix)
    return f"{base.rstrip('/')}/?share={token}"


def render_owner() -> None:
    conversation_id = current_conversation(create=False)
    if conversation_id is None:
        st.info("No conversation yet. Ask a question on the Analysis page first.")
        return
    conversation = backend.get_conversation(conversation_id)
    assert conversation is not None  # current_conversation() returns only one that exists
    with st.container(horizontal=True, vertical_alignment="center"):
        st.title(md_escape(conversation.title or "Dashboard"), anchor=False)
        st.button("Share read-only link", icon=":material/share:", key="share-create",
                  on_click=_create_link, args=(conversation_id,))
    token = st.session_state.pop("_new_share", None)
    if token:
        st.success("Anyone with this link can view this dashboard (read-only). Revoke it on the "
                   "History page.", icon=":material/link:")
        st.code(share_url(token), language=None)
    render_grid(conversation_artifacts(conversation_id))


def render() -> None:
    token: Any = st.query_params.get("share")
    if token:
        render_shared(str(token))
    else:
        render_owner()
