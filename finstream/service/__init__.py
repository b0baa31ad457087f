"""The rules both surfaces follow, below both: the Streamlit gateway (finstream/ui/backend.py)
and the HTTP API (finstream/api/backend.py) call these, so a question, an upload, a token or a
conversation is judged the same way whichever door it came through.

    access.py         token checks: a usable token, compared in constant time
    questions.py      a question and its run options: accepted, or refused with the message
    uploads.py        an upload: size, parse, store (the filing or why it failed), sample preload
    conversations.py  a conversation or an answer that must exist; the active message; delete
    answers.py        start, continue, ask again, stop and rate an answer
    errors.py         ServiceError: what was refused and why, in words a user can act on

Everything async runs on the loop that owns the store and the runs (the server's, or the
Streamlit runtime's own); nothing here knows HTTP or Streamlit.
"""
