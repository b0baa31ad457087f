"""A question and its run options, accepted or refused with a message naming what is wrong.

The API refuses with these messages as 422/413 bodies; the analysis page shows the same words.
"""

from __future__ import annotations

from pydantic import ValidationError

from finstream.runs.options import RunOptions
from finstream.service.errors import Invalid, TooLarge

MAX_QUESTION_CHARS = 100_000  # a question longer than this is refused (ApiSettings.message_max_chars)


def check_question(message: object, max_chars: int = MAX_QUESTION_CHARS) -> str:
    """The question, unchanged, when it has text and fits the limit; else Invalid / TooLarge."""
    if not isinstance(message, str) or not message.strip():
        raise Invalid("message: empty; send the question as {\"message\": \"...\"}")
    if len(message) > max_chars:
        raise TooLarge(f"message: {len(message)} characters, the limit is {max_chars}")
    return message


def option_errors(exc: ValidationError, prefix: str = "options") -> str:
    """At most five of a validation's errors, each as ``options.<field>: <what is wrong>``."""
    parts = []
    for err in exc.errors()[:5]:
        loc = ".".join(str(p) for p in (prefix, *err.get("loc", ())))
        parts.append(f"{loc}: {err.get('msg', 'invalid')}")
    return "; ".join(parts)


def parse_options(raw: object) -> RunOptions | None:
    """A run's options (model, effort, max_tokens, max_rounds) from a client's object or the
    page's choices; None means the settings'. Invalid naming the field when a value is wrong."""
    if raw is None or isinstance(raw, RunOptions):
        return raw
    try:
        return RunOptions.model_validate(raw)
    except ValidationError as exc:
        raise Invalid(option_errors(exc)) from None
