"""What every page of the app shares: the demo banner and the settings panel."""

from __future__ import annotations

import streamlit as st

from finstream.settings import get_settings


def demo_banner() -> None:
    if get_settings().use_claude:
        return
    st.info(
        "**Demo analyst** — offline answers computed from the filings' own figures, with the same "
        "chart, table and metric tools Claude uses. Set ANTHROPIC_API_KEY for Claude.",
        icon=":material/science:",
    )


def settings_panel() -> None:
    """Model and limits in the sidebar. They come from the environment (see README), so an
    operator sets them once for every user; the panel shows what this server runs with."""
    s = get_settings()
    with st.sidebar.expander("Settings", icon=":material/tune:"):
        provider = "Claude" if s.use_claude else "Demo analyst (offline)"
        st.text_input("Analyst", provider, disabled=True, key="settings-provider")
        st.text_input("Model (FINSTREAM_MODEL)", s.model if s.use_claude else "demo", disabled=True,
                      key="settings-model")
        st.number_input("Max output tokens (FINSTREAM_MAX_TOKENS)", value=s.max_tokens, disabled=True,
                        key="settings-max-tokens")
        st.number_input("Max tool rounds (FINSTREAM_MAX_TOOL_ROUNDS)", value=s.max_tool_rounds,
                        disabled=True, key="settings-rounds")
        st.number_input("Upload limit, MB (FINSTREAM_MAX_UPLOAD_MB)", value=s.max_upload_mb,
                        disabled=True, key="settings-upload")
        st.caption("Set these in the environment or a .env file and restart the app.")

