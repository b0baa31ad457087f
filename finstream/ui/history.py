"""The history page: past conversations; open, rename, delete, share and revoke links."""

from __future__ import annotations

import streamlit as st

from finstream.ui import backend
from finstream.ui.artifacts import md_escape
from finstream.ui.dashboard import share_url
from finstream.ui.session import KEY, live_views, select


def _open(conversation_id: str) -> None:
    select(conversation_id)
    st.session_state["_goto_analysis"] = True


def _rename(conversation_id: str) -> None:
    title = (st.session_state.get(f"rename-{conversation_id}") or "").strip()
    if title:
        backend.rename_conversation(conversation_id, title)


def _delete(conversation_id: str) -> None:
    try:
        backend.delete_conversation(conversation_id)
    except backend.Refused as exc:  # an answer streams on another replica: not deleted
        st.session_state["_history_error"] = exc.message
        return
    if st.session_state.get(KEY) == conversation_id:
        st.session_state.pop(KEY, None)
        st.query_params.pop("c", None)
    live_views().clear()
    st.session_state["_history_notice"] = "Conversation deleted."


def _share(conversation_id: str) -> None:
    backend.share_link(conversation_id)


def _revoke(token: str) -> None:
    backend.revoke_share(token)
    st.session_state["_history_notice"] = "Link revoked: it no longer opens the dashboard."


def render() -> None:
    if st.session_state.pop("_goto_analysis", False):
        st.switch_page("pages/analysis.py")
    st.title("History", anchor=False)
    notice = st.session_state.pop("_history_notice", None)
    if notice:
        st.success(notice, icon=":material/check:")
    refusal = st.session_state.pop("_history_error", None)
    if refusal:
        st.error(md_escape(refusal), icon=":material/error:")
    conversations = backend.list_conversations()
    if not conversations:
        st.info("No conversations yet.")
        return
    current = st.session_state.get(KEY) or st.query_params.get("c")
    for conv in conversations:
        title = conv.title or "Untitled analysis"
        with st.container(border=True):
            with st.container(horizontal=True, vertical_alignment="center"):
                marker = ":material/radio_button_checked: " if conv.id == current else ""
                st.markdown(f"{marker}**{md_escape(title)}**  \n"
                            f":gray[{conv.updated_at:%Y-%m-%d %H:%M} UTC]")
                st.button("Open", key=f"open-{conv.id}", icon=":material/open_in_new:",
                          on_click=_open, args=(conv.id,))
                # Keyed by conversation: an unkeyed popover is identified by its place in the list,
                # so after a delete or a rename the open one would reopen on another conversation.
                with st.popover("Rename", icon=":material/edit:", key=f"rename-pop-{conv.id}"):
                    st.text_input("New title", value=title, key=f"rename-{conv.id}", max_chars=backend.TITLE_MAX_CHARS)
                    st.button("Save", key=f"rename-save-{conv.id}", on_click=_rename, args=(conv.id,))
                st.button("Share", key=f"share-{conv.id}", icon=":material/share:",
                          on_click=_share, args=(conv.id,))
                with st.popover("Delete", icon=":material/delete:", key=f"delete-pop-{conv.id}"):
                    st.warning("Delete this conversation with its documents, answers and links?")
                    st.button("Delete for good", key=f"delete-{conv.id}", type="primary",
                              on_click=_delete, args=(conv.id,))
            links = [link for link in backend.list_shares(conv.id) if not link.revoked]
            for link in links:
                with st.container(horizontal=True, vertical_alignment="center"):
                    st.code(share_url(link.token), language=None)
                    st.button("Revoke", key=f"revoke-{link.token[:16]}", icon=":material/link_off:",
                              on_click=_revoke, args=(link.token,))
