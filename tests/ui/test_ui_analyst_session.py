"""The analyst's session through AppTest, on the real demo analyst and real filings: two
companies compared with their names everywhere, a risk question quoted with sources, feedback
stored, an answer regenerated with the earlier version kept, a question edited and asked again,
a failed upload removed, and the tool steps of past answers shown from the event log."""

from __future__ import annotations

from pathlib import Path

from tests.support.filings import FILINGS_DIR as FILINGS
from tests.support.uploads import upload

ROOT = Path(__file__).resolve().parents[2]
APPLE = FILINGS / "aapl-10-k-2024-11-01.html"
CRM = FILINGS / "corpus" / "crm-10-k-2025-01-31.html"


def session(demo_runtime, *files: Path, bad: bool = False):  # noqa: ANN001, ANN201
    from streamlit.testing.v1 import AppTest

    conv = demo_runtime.store.create_conversation("")
    for path in files:
        upload(demo_runtime, conv.id, path.name, path.read_bytes())
    if bad:
        upload(demo_runtime, conv.id, "uber_2021.pdf", b"%PDF-1.4 not really")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
    at.query_params["c"] = conv.id
    at.run()
    assert not at.exception
    return conv, at


def ask(at, question: str):  # noqa: ANN001, ANN201
    at.chat_input(key="prompt").set_value(question).run()
    assert not at.exception
    return at


def page_text(at) -> str:  # noqa: ANN001
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption] + [i.value for i in at.info]
    return "\n".join(parts).replace("\\", "")


def test_two_companies_side_by_side_with_names_on_chart_tiles_and_columns(demo_runtime):
    _conv, at = session(demo_runtime, APPLE, CRM)
    ask(at, "Compare Apple and Salesforce revenue")
    chart = at.get("plotly_chart")[0].proto
    assert "Apple Inc." in chart.spec and "Salesforce, Inc." in chart.spec
    assert "1.305e+11" not in chart.spec and "$391.0B" in chart.spec  # hovers print money
    labels = [m.label.replace("\\", "") for m in at.metric]
    assert any(lb.startswith("Apple Inc.") for lb in labels) and any(lb.startswith("Salesforce") for lb in labels)
    frame = at.dataframe[0].value
    assert list(frame.columns) == ["Period", "Apple Inc. Revenue", "Salesforce, Inc. Revenue"]
    # Tool steps of the answer, read back from the event log once it is history.
    at.run()
    steps = [s.label for s in at.status]
    assert any("tool call" in s for s in steps)
    assert "Reading reported figures" not in steps


def test_risk_factors_answer_quotes_its_sections(demo_runtime):
    _conv, at = session(demo_runtime, APPLE)
    ask(at, "What are the main risk factors?")
    answer = "\n".join(md.value for md in at.chat_message[-1].markdown)
    assert "Part I, Item 1A. Risk Factors" in answer and answer.count('> "') >= 3
    assert not at.get("plotly_chart")


def test_failed_file_is_named_and_can_be_removed(demo_runtime):
    conv, at = session(demo_runtime, APPLE, bad=True)
    ask(at, "What does uber_2021.pdf say about drivers?")
    answer = "\n".join(md.value for md in at.chat_message[-1].markdown)
    assert "uber_2021.pdf" in answer and "could not be read" in answer
    remove = next(b for b in at.button if b.key and b.key.startswith("remove-doc-"))
    remove.click().run()
    assert [d.filename for d in demo_runtime.store.list_documents(conv.id)] == [APPLE.name]


def test_several_uploads_show_progress_per_file_and_failures_are_removable_on_documents(demo_runtime):
    conv, at = session(demo_runtime)
    prompt = at.chat_input(key="prompt")
    prompt.upload(APPLE.name, APPLE.read_bytes(), "text/html")
    prompt.upload(CRM.name, CRM.read_bytes(), "text/html")
    prompt.upload("broken.pdf", b"%PDF-1.4 broken", "application/pdf")
    prompt.set_value("").run()  # files only: no answer starts, so the upload box stays in view
    assert not at.exception
    assert "2 of 3 files read" in [s.label for s in at.status]
    lines = page_text(at)
    assert f"{APPLE.name} — ready" in lines and f"{CRM.name} — ready" in lines
    assert "broken.pdf — could not be read" in lines
    at.switch_page("pages/documents.py").run()
    broken = next(d for d in demo_runtime.store.list_documents(conv.id) if not d.ok)
    at.button(key=f"doc-remove-{broken.id}").click().run()
    assert not at.exception
    assert all(d.ok for d in demo_runtime.store.list_documents(conv.id))


def test_feedback_is_stored_and_exported(demo_runtime):
    conv, at = session(demo_runtime, APPLE)
    ask(at, "What is the revenue trend?")
    at.run()
    assert at.feedback, "thumbs up/down under the answer"
    at.feedback[0].set_value(0).run()
    assert not at.exception
    answer = next(m for m in demo_runtime.store.list_messages(conv.id) if m.role == "assistant")
    stored = demo_runtime.store.list_feedback(conv.id)[answer.id]
    assert stored.rating == 0
    at.text_area(key=f"fb-comment-{answer.id}").set_value("Wrong period").run()
    at.button(key=f"fb-save-{answer.id}").click().run()
    stored = demo_runtime.store.list_feedback(conv.id)[answer.id]
    assert (stored.rating, stored.comment) == (0, "Wrong period")
    from finstream.ui import backend
    from finstream.ui.exports import conversation_markdown

    ex = backend.exchanges(conv.id)
    md = conversation_markdown("t", [("assistant", ex[0].answer)], {answer.id: ex[0].feedback}).decode()
    assert "_Feedback: thumbs down — Wrong period_" in md


def test_regenerate_keeps_the_earlier_version_reachable(demo_runtime):
    conv, at = session(demo_runtime, APPLE)
    ask(at, "What is the revenue trend?")
    at.run()
    first = [m for m in demo_runtime.store.list_messages(conv.id) if m.role == "assistant"][0]
    at.button(key=f"regen-{first.id}").click().run()
    for _ in range(20):  # the new version runs in the runtime's thread
        at.run()
        if not demo_runtime.runs.active_message(conv.id):
            break
    at.run()
    answers = [m for m in demo_runtime.store.list_messages(conv.id) if m.role == "assistant"]
    assert len(answers) == 2 and answers[0].text == first.text  # the first is kept as it was
    assert len(at.chat_message) == 2  # one exchange shown, at its place
    assert "Version 2 of 2" in page_text(at)
    at.button(key=f"ver-prev-{answers[1].id}").click().run()
    assert "Version 1 of 2" in page_text(at)


def test_edit_a_question_and_ask_again(demo_runtime):
    conv, at = session(demo_runtime, APPLE)
    ask(at, "What is the revenue trend?")
    at.run()
    question = demo_runtime.store.list_messages(conv.id)[0]
    at.text_area(key=f"edit-text-{question.id}").set_value("How much cash does Apple have?")
    at.button(key=f"edit-ask-{question.id}").click().run()
    for _ in range(20):
        at.run()
        if not demo_runtime.runs.active_message(conv.id):
            break
    at.run()
    users = [m for m in demo_runtime.store.list_messages(conv.id) if m.role == "user"]
    assert [u.text for u in users] == ["What is the revenue trend?", "How much cash does Apple have?"]
    assert users[1].replaces == users[0].id
    shown = [md.value for md in at.chat_message[0].markdown]
    assert any("How much cash" in v for v in shown)
    assert any("marketable securities" in m.label.lower() for m in at.metric)


def test_question_typed_while_streaming_is_queued_not_dropped(demo_runtime):
    conv, at = session(demo_runtime, APPLE)
    # A run in progress (started elsewhere); the page's question is queued beside the input.
    import threading

    gate = threading.Event()
    real = demo_runtime.runs.provider_factory

    class Slow:
        name = "slow"

        async def stream(self, request):  # noqa: ANN001, ANN202
            import asyncio

            while not gate.is_set():
                await asyncio.sleep(0.01)
            async for part in real().stream(request):
                yield part

    demo_runtime.runs.provider_factory = lambda: Slow()
    try:
        demo_runtime.start(conv.id, "What is the revenue trend?")
        at.chat_input(key="prompt").set_value("How much cash does Apple have?")
        gate.set()  # AppTest runs the script to its end: let the first answer finish meanwhile
        at.run()
    finally:
        demo_runtime.runs.provider_factory = real
    for _ in range(30):
        at.run()
        users = [m.text for m in demo_runtime.store.list_messages(conv.id) if m.role == "user"]
        if len(users) == 2 and not demo_runtime.runs.active_message(conv.id):
            break
    assert users == ["What is the revenue trend?", "How much cash does Apple have?"]


def test_documents_tables_show_blanks_not_nan_and_whole_numbers_without_decimals(demo_runtime):
    _conv, at = session(demo_runtime, APPLE)
    at.switch_page("pages/documents.py").run()
    assert not at.exception
    # Text cells as shown (numeric columns are formatted by their column config instead).
    cells = [str(v) for df in at.dataframe for col in df.value.columns if df.value[col].dtype == object
             for v in df.value[col]]
    assert cells, "the filing's tables are shown"
    bad = [c for c in cells if c in ("nan", "None", "NaN")]
    assert not bad, bad[:5]
    assert not any(c.endswith(".0") and c[:-2].replace(",", "").lstrip("-").isdigit() for c in cells)
