"""Who may use the app when it is reachable from outside this machine.

On loopback (the default, `make run`) the page is open to this machine's user. Bound to any other
address, every page but a share link's dashboard asks for FINSTREAM_APP_TOKEN, and the app refuses
to serve at all when that token is not set. A share link carries its own unguessable token.
"""

from __future__ import annotations

import ipaddress

import streamlit as st

from finstream.service.access import token_matches, token_problem
from finstream.settings import get_settings

_PASSED = "_finstream_access_ok"


def is_loopback(address: str | None) -> bool:
    """True for 127.0.0.0/8, ::1 and localhost; an empty address means every interface."""
    if not address:
        return False
    if address == "localhost":
        return True
    try:
        return ipaddress.ip_address(address.strip("[]")).is_loopback
    except ValueError:
        return False


def require_access() -> None:
    """Stop the script unless this session may use the app."""
    address = st.get_option("server.address")
    if is_loopback(address) or st.session_state.get(_PASSED):
        return
    secret = get_settings().app_token
    expected = secret.get_secret_value() if secret is not None else None
    problem = token_problem(expected)  # the API's rule for its token (finstream/service/access.py)
    if expected is None or problem is not None:
        # A blank token would let an empty form in, a padded one nobody can type: no token at all.
        why = "with an access token padded with whitespace" if problem == "padded" else "without an access token"
        st.error(
            f"finstream is listening on {address or 'every interface'} {why}. "
            "Set FINSTREAM_APP_TOKEN (not blank, no surrounding spaces), or bind to 127.0.0.1 (make run does)."
        )
        st.stop()
    supplied = st.query_params.get("token")
    if supplied is not None:
        del st.query_params["token"]  # keep it out of the address bar, history and shared URLs
        if token_matches(expected, supplied):
            st.session_state[_PASSED] = True
            return
        st.error("That access token is not valid.")
    with st.form("access"):
        st.subheader("finstream")
        entered = st.text_input("Access token", type="password")
        if st.form_submit_button("Open"):
            if token_matches(expected, entered):
                st.session_state[_PASSED] = True
                st.rerun()
            st.error("That access token is not valid.")
    st.stop()
