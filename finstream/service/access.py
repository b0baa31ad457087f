"""Token checks shared by the API's bearer token and the Streamlit app's access token.

One rule for a configured token (set, not blank, not padded with whitespace: a blank one would
let an empty form or header in, a padded one is a token nobody can send) and one comparison
(constant time; nothing presented never matches).
"""

from __future__ import annotations

import hmac


def token_problem(token: str | None) -> str | None:
    """Why a configured token is unusable ("unset", "blank", "padded"), or None when it is fine."""
    if token is None:
        return "unset"
    if not token.strip():
        return "blank"
    if token != token.strip():
        return "padded"
    return None


def token_matches(expected: str, presented: str | None) -> bool:
    """True when ``presented`` is ``expected``, compared in constant time; empty never matches."""
    if not presented or not expected:
        return False
    return hmac.compare_digest(expected.encode("utf-8"), presented.encode("utf-8"))
