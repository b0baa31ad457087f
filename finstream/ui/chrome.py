"""What every page of the app shares: the demo banner and the settings panel.

The panel's model and limits are per conversation: the choice lives in session state (a browser
tab's), keyed by conversation, and ``run_options`` hands it to each run the page starts. The
environment (FINSTREAM_MODEL, _MAX_TOKENS, _MAX_TOOL_ROUNDS) gives the defaults.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from finstream.providers import models
from finstream.runs.options import RunOptions
from finstream.settings import get_settings
from finstream.ui import backend

# Offered besides the configured model when the Models API cannot be asked (any other name can be
# typed in the box); with a key the list is the key's, from client.models.list(), once per process.
CLAUDE_MODELS = list(models.CURRENT)
EFFORT_DEFAULT = "Default"
CHOICES = "_run_options"  # session state: {conversation_id: {"model", "max_tokens", "max_rounds", "effort"}}
_LIMITS = {name: RunOptions.model_fields[name].metadata for name in ("max_tokens", "max_rounds")}


def demo_banner() -> None:
    if get_settings().use_claude:
        return
    st.info(
        "**Demo analyst** — offline answers computed from the filings' own figures, with the same "
        "chart, table and metric tools Claude uses. Set ANTHROPIC_API_KEY for Claude.",
        icon=":material/science:",
    )


def _bound(name: str, kind: str) -> int:
    """The ge/le bound RunOptions puts on a field, so the widgets and the API agree."""
    return next(getattr(m, kind) for m in _LIMITS[name] if hasattr(m, kind))


def _within(name: str, value: int) -> int:
    return min(max(value, _bound(name, "ge")), _bound(name, "le"))


def _choices(conversation_id: str) -> dict[str, Any]:
    return st.session_state.setdefault(CHOICES, {}).setdefault(conversation_id, {})


def _remember(conversation_id: str, field: str, key: str) -> None:
    _choices(conversation_id)[field] = st.session_state.get(key)


def _remember_effort(conversation_id: str, key: str) -> None:
    value = st.session_state.get(key)
    _choices(conversation_id)["effort"] = None if value == EFFORT_DEFAULT else value


def run_options(conversation_id: str) -> RunOptions | None:
    """This conversation's choices for the next run (None: the server's settings). The model
    counts only with Claude: the demo analyst has no models."""
    chosen = dict(_choices(conversation_id))
    if not get_settings().use_claude:
        chosen.pop("model", None)
        chosen.pop("effort", None)
    chosen = {k: v for k, v in chosen.items() if v not in (None, "")}
    if not chosen:
        return None
    try:
        return backend.parse_options(chosen)  # the API's rule for a client's options
    except backend.Refused:  # the widgets bound the values; a stale choice falls back to defaults
        return None


def settings_panel(conversation_id: str | None = None) -> None:
    """Model and limits in the sidebar, for this conversation's next answers."""
    s = get_settings()
    conversation_id = conversation_id or st.session_state.get("conversation_id") or "-"
    chosen = _choices(conversation_id)
    cid = conversation_id
    with st.sidebar.expander("Settings", icon=":material/tune:"):
        provider = "Claude" if s.use_claude else "Demo analyst (offline)"
        st.text_input("Analyst", provider, disabled=True, key="settings-provider")
        if s.use_claude:
            key_text = s.anthropic_api_key.get_secret_value() if s.anthropic_api_key else None
            offered = models.available_models(key_text, s.anthropic_base_url)
            names = list(dict.fromkeys([s.model, *offered]))
            current = chosen.get("model") or s.model
            if current not in names:
                names.append(current)
            key = f"settings-model-{cid}"
            st.selectbox("Model", names, index=names.index(current), key=key,
                         accept_new_options=True, on_change=_remember, args=(cid, "model", key),
                         help=f"Default: {s.model} (FINSTREAM_MODEL). Type another name to use it.")
            levels = [EFFORT_DEFAULT, *models.EFFORTS]
            effort = chosen.get("effort") or EFFORT_DEFAULT
            key = f"settings-effort-{cid}"
            st.selectbox("Effort", levels, index=levels.index(effort) if effort in levels else 0,
                         key=key, on_change=_remember_effort, args=(cid, key),
                         help=f"How deeply Claude thinks before and between tool calls (low … max). "
                         f"Default: {s.effort or 'the model’s own'} (FINSTREAM_EFFORT). Higher "
                         "effort is slower and uses more output tokens.")
        else:
            st.text_input("Model", "demo", disabled=True, key="settings-model",
                          help="The demo analyst has no model to choose; set ANTHROPIC_API_KEY "
                          "to answer with Claude.")
            st.caption("Model choice applies to Claude only; the demo analyst ignores it.")
        key = f"settings-max-tokens-{cid}"
        st.number_input("Max output tokens", min_value=_bound("max_tokens", "ge"),
                        max_value=_bound("max_tokens", "le"), step=256,
                        value=_within("max_tokens", chosen.get("max_tokens") or s.max_tokens), key=key,
                        on_change=_remember, args=(cid, "max_tokens", key),
                        help=f"Per model call. Default {s.max_tokens} (FINSTREAM_MAX_TOKENS).")
        key = f"settings-rounds-{cid}"
        st.number_input("Max tool rounds", min_value=_bound("max_rounds", "ge"),
                        max_value=_bound("max_rounds", "le"), step=1,
                        value=_within("max_rounds", chosen.get("max_rounds") or s.max_tool_rounds), key=key,
                        on_change=_remember, args=(cid, "max_rounds", key),
                        help=f"Model calls per answer. Default {s.max_tool_rounds} "
                        "(FINSTREAM_MAX_TOOL_ROUNDS).")
        st.number_input("Upload limit, MB (FINSTREAM_MAX_UPLOAD_MB)", value=s.max_upload_mb,
                        disabled=True, key="settings-upload")
        st.caption("Model and limits apply to this conversation's next answers in this tab; "
                   "defaults come from the environment.")
        st.caption(":material/contrast: Light or dark theme: the ⋮ menu at the top right → System, "
                   "Light or Dark (kept by this browser).")
