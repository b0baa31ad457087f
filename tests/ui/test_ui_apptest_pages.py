"""Every page through Streamlit's AppTest, on a real runtime (SQLite, RunManager, agent loop,
tools) driven by the scripted provider. AppTest sees the final state of each script run; the
streaming itself is checked in a real browser (test_ui_browser_stream.py)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from finstream.filings.model import Fact, Filing, Section, Source, Table
from finstream.providers.base import ProviderError, TextPart
from finstream.providers.scripted import text_step, tool_step
from finstream.ui.inert import md_inert
from tests.support.filings import FILINGS_DIR as FILINGS

SRC = [{"document": "aapl-20240928.htm", "concept": "us-gaap:Revenues", "period": "FY2024"}]
QUESTION = "What is the revenue trend?"


def artifact_step(text: str = "Let me pull the figures.\n\n") -> list:
    return tool_step(
        (
            "create_metric",
            {
                "label": "Revenue FY2024",
                "value": 391035000000,
                "unit": "USD",
                "delta": 2.02,
                "sources": SRC,
            },
        ),
        (
            "create_metric",
            {
                "label": "Operating expenses FY2024",
                "value": 57467000000,
                "unit": "USD",
                "delta": 4.9,
                "sources": SRC,
            },
        ),
        (
            "create_chart",
            {
                "title": "Revenue by fiscal year",
                "chart_type": "line",
                "x": ["FY2023", "FY2024"],
                "series": [{"name": "Revenue", "values": [383285e6, 391035e6]}],
                "unit": "USD",
                "sources": SRC,
            },
        ),
        (
            "create_table",
            {
                "title": "Figures by period",
                "columns": [
                    {"name": "Period", "format": "text"},
                    {"name": "Revenue", "format": "currency"},
                    {"name": "Net margin", "format": "percent"},
                ],
                "rows": [["FY2023", 383285.0, 25.3], ["FY2024", 391035.0, 24.0]],
                "unit_note": "USD millions",
                "sources": SRC,
            },
        ),
        text=text,
    )


ANSWER = "Revenue rose 2.0% to $391.0B in FY2024, after a dip in FY2023."


def opened(app_test, conv):
    """An AppTest of the analysis page on ``conv``, run once."""
    at = app_test()
    at.query_params["c"] = conv.id
    at.run()
    return at


def ask(app_test, rt, provider, question: str = QUESTION):  # noqa: ANN001, ANN201
    conv = rt.store.create_conversation("")
    at = opened(app_test, conv)
    assert not at.exception
    at.chat_input(key="prompt").set_value(question).run()
    return conv, at


def all_text(at) -> str:  # noqa: ANN001
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    parts += (
        [e.value for e in at.error] + [w.value for w in at.warning] + [i.value for i in at.info]
    )
    return "\n".join(parts)


def test_question_streams_text_with_chart_table_and_metrics_in_the_panel(ui_runtime, app_test):
    rt, provider = ui_runtime
    provider.add(artifact_step(), text_step(ANSWER))
    conv, at = ask(app_test, rt, provider)
    assert not at.exception
    messages = at.chat_message
    assert [m.name for m in messages] == ["user", "assistant"]
    answer = "\n".join(md.value for md in messages[1].markdown)
    # the page renders answer text inert (a "$" escaped so no math; see ui/inert.py)
    assert "Let me pull the figures." in answer and md_inert(ANSWER) in answer
    metrics = {m.label: m for m in at.metric}
    assert metrics["Revenue FY2024"].value == "$391.0B"
    assert metrics["Revenue FY2024"].delta == "+2.0%"
    assert len(at.get("plotly_chart")) == 1
    assert len(at.dataframe) == 1
    frame = at.dataframe[0].value
    assert list(frame.columns) == ["Period", "Revenue", "Net margin"]
    assert frame["Revenue"].tolist() == [383285.0, 391035.0]
    # Every artifact names its source; downloads are there and do not rerun the page.
    assert "aapl\\-20240928\\.htm" in all_text(at) or "aapl-20240928.htm" in all_text(at)
    labels = [b.label for b in at.get("download_button")]
    assert {"Chart (HTML)", "CSV", "Excel", "Markdown"} <= set(labels)
    assert "1 chart, 1 table, 2 metrics in the panel" in all_text(at)
    stored = rt.store.list_messages(conv.id)
    assert [m.status for m in stored] == ["complete", "complete"]
    assert rt.store.get_conversation(conv.id).title == QUESTION
    provider.assert_consumed()


def test_costs_use_inverse_delta_colour(ui_runtime, app_test):
    rt, provider = ui_runtime
    provider.add(artifact_step(), text_step(ANSWER))
    _conv, at = ask(app_test, rt, provider)
    metrics = {m.label: m for m in at.metric}
    # Revenue up: green (normal); expenses up: red (inverse).
    assert metrics["Revenue FY2024"].color == 1
    assert metrics["Operating expenses FY2024"].proto.color != metrics["Revenue FY2024"].proto.color


def test_history_rerenders_with_artifacts_and_stable_keys(ui_runtime, app_test):
    rt, provider = ui_runtime
    provider.add(
        artifact_step(), text_step(ANSWER), artifact_step("Again.\n\n"), text_step("Same again.")
    )
    conv, at = ask(app_test, rt, provider)
    at.chat_input(key="prompt").set_value("And again?").run()
    assert not at.exception
    # A fresh session (a reload) on the same conversation draws the whole history from the store.
    again = app_test()
    again.query_params["c"] = conv.id
    again.run()
    assert not again.exception
    assert [m.name for m in again.chat_message] == ["user", "assistant", "user", "assistant"]
    assert len(again.get("plotly_chart")) == 2
    assert len(again.metric) == 4
    assert len(again.dataframe) == 2
    # Element ids come from stable keys: the same in every session and every rerun.
    message_ids = [m.id for m in rt.store.list_messages(conv.id) if m.role == "assistant"]
    ids = [c.proto.id for c in again.get("plotly_chart")]
    assert all(any(f"{mid}-chart-0" in i for i in ids) for mid in message_ids)
    again.run()  # a rerun (any widget click) keeps them, without duplicate-key errors
    assert not again.exception
    assert [c.proto.id for c in again.get("plotly_chart")] == ids


def test_error_mid_stream_shows_error_and_retry_and_continue(ui_runtime, app_test):
    rt, provider = ui_runtime
    provider.add(
        [
            TextPart("Revenue was "),
            TextPart("$391.0B "),
            ProviderError(
                "overloaded", "Claude is overloaded right now; try again.", retryable=True
            ),
        ],
        text_step(ANSWER),
    )
    conv, at = ask(app_test, rt, provider)
    assert not at.exception
    errors = " ".join(e.value for e in at.error)
    assert "overloaded" in errors and "try again" in errors
    buttons = {b.label: b for b in at.button}
    assert "Continue" in buttons and "Retry" in buttons
    answer = rt.store.list_messages(conv.id)[-1]
    assert answer.status == "incomplete" and answer.text == "Revenue was $391.0B "
    buttons["Retry"].click().run()
    assert not at.exception
    messages = rt.store.list_messages(conv.id)
    assert [m.role for m in messages] == ["user", "assistant", "user", "assistant"]
    assert messages[-1].status == "complete" and messages[-1].text == ANSWER
    provider.assert_consumed()


def test_incomplete_answer_can_be_continued(ui_runtime, app_test):
    rt, provider = ui_runtime
    provider.add(
        text_step("Revenue rose 2.0% to", stop_reason="max_tokens"), text_step(" $391.0B.")
    )
    conv, at = ask(app_test, rt, provider)
    assert "output limit" in " ".join(e.value for e in at.error)
    at.button(key=next(b.key for b in at.button if b.label == "Continue")).click().run()
    assert not at.exception
    messages = rt.store.list_messages(conv.id)
    assert len(messages) == 2
    assert messages[-1].status == "complete"
    assert messages[-1].text == "Revenue rose 2.0% to $391.0B."
    answer = "\n".join(md.value for md in at.chat_message[-1].markdown)
    assert md_inert("Revenue rose 2.0% to $391.0B.") in answer


def test_demo_banner_and_settings_panel(ui_runtime, app_test):
    rt, _provider = ui_runtime
    at = app_test()
    at.run()
    assert not at.exception
    assert any("Demo analyst" in i.value for i in at.info)
    assert at.text_input(key="settings-provider").value == "Demo analyst (offline)"
    # A new visitor gets a conversation at once, kept in the URL for reloads.
    assert at.query_params["c"]
    cid = at.query_params["c"]
    assert rt.store.get_conversation(cid if isinstance(cid, str) else cid[0]) is not None
    assert len(at.pills) == 1  # suggested questions on an empty conversation


def test_suggested_question_starts_a_run(ui_runtime, app_test):
    rt, provider = ui_runtime
    provider.add(text_step(ANSWER))
    conv = rt.store.create_conversation("")
    at = opened(app_test, conv)
    at.pills[0].set_value(at.pills[0].options[0]).run()
    assert not at.exception
    messages = rt.store.list_messages(conv.id)
    assert messages[0].text == "What is the revenue trend?" and messages[1].text == ANSWER


def _filing() -> Filing:
    src = Source(document="aapl-20240928.htm", concept="us-gaap:Revenues", period="FY2024")
    return Filing(
        filename="aapl-20240928.htm",
        format="ixbrl",
        company="Apple Inc.",
        form="10-K",
        fiscal_period="FY2024",
        period_end=date(2024, 9, 28),
        cik="0000320193",
        sections=[Section(title="Item 7. MD&A", text="Net sales increased 2% <b>in 2024</b>.")],
        tables=[
            Table(
                title="Net sales by category",
                columns=["Category", "2024"],
                rows=[["iPhone", 201183], ["Services", 96169]],
            )
        ],
        facts=[
            Fact(
                concept="us-gaap:Revenues",
                label="Revenue",
                value=391035000000.0,
                period_start=date(2023, 10, 1),
                period_end=date(2024, 9, 28),
                source=src,
            )
        ],
    )


def test_documents_page_lists_parsed_filings_and_errors(ui_runtime, app_test):
    rt, _provider = ui_runtime
    conv = rt.store.create_conversation("Apple")
    rt.store.add_document(conv.id, "aapl-20240928.htm", b"<html/>", filing=_filing())
    rt.store.add_document(
        conv.id, "broken.pdf", b"%PDF", error="broken.pdf: encrypted PDF, cannot read text"
    )
    at = opened(app_test, conv)
    at.switch_page("pages/documents.py").run()
    assert not at.exception
    assert "1 of 2 files read" in all_text(at)
    assert any("encrypted PDF" in e.value for e in at.error)
    assert "**Company:** Apple Inc\\." in all_text(at) and "**Form:** 10\\-K" in all_text(at)
    key_figures = at.dataframe[0].value
    assert key_figures["Metric"].tolist() == ["Revenue"] and key_figures["Value"].tolist() == ["$391.0B"]
    facts = at.dataframe[1].value
    assert facts["Concept"].tolist() == ["us-gaap:Revenues"] and facts["Value"].tolist() == [
        "$391.0B"
    ]
    # Filing text is shown as plain text, never as Markdown/HTML.
    assert any("<b>in 2024</b>" in t.value for t in at.text)


def _answered_conversation(rt, provider):  # noqa: ANN001, ANN202
    provider.add(artifact_step(), text_step(ANSWER))
    conv = rt.store.create_conversation("Apple revenue")
    mid = rt.start(conv.id, QUESTION)
    rt.call(rt.runs.wait(mid))
    return conv


def test_share_link_opens_the_dashboard_read_only(ui_runtime, app_test):
    rt, provider = ui_runtime
    conv = _answered_conversation(rt, provider)
    token = rt.store.create_share_link(conv.id).token
    at = app_test()
    at.query_params["share"] = token
    at.run()
    assert not at.exception
    assert at.title[0].value == "Apple revenue"
    assert len(at.metric) == 2 and len(at.get("plotly_chart")) == 1 and len(at.dataframe) == 1
    # A viewer gets no chat, no upload, no buttons that change anything.
    assert len(at.chat_input) == 0 and len(at.file_uploader) == 0
    assert [b.label for b in at.button] == []
    assert "Read-only" in all_text(at)


def test_revoked_or_unknown_share_link_is_refused(ui_runtime, app_test):
    rt, provider = ui_runtime
    conv = _answered_conversation(rt, provider)
    token = rt.store.create_share_link(conv.id).token
    rt.store.revoke_share_link(token)
    for bad in (token, "not-a-token"):
        at = app_test()
        at.query_params["share"] = bad
        at.run()
        assert not at.exception
        assert "not valid" in at.error[0].value
        assert len(at.metric) == 0 and len(at.get("plotly_chart")) == 0 and len(at.chat_input) == 0


def test_owner_dashboard_creates_a_share_link(ui_runtime, app_test):
    rt, provider = ui_runtime
    conv = _answered_conversation(rt, provider)
    at = opened(app_test, conv)
    at.switch_page("pages/dashboard.py").run()
    assert not at.exception and len(at.get("plotly_chart")) == 1
    at.button(key="share-create").click().run()
    links = rt.store.list_share_links(conv.id)
    assert len(links) == 1
    assert any(links[0].token in c.value for c in at.code)


def test_history_page_opens_renames_shares_revokes_and_deletes(ui_runtime, app_test):
    rt, provider = ui_runtime
    conv = _answered_conversation(rt, provider)
    other = rt.store.create_conversation("Other")
    at = app_test()
    at.query_params["c"] = other.id
    at.run()
    at.switch_page("pages/history.py").run()
    assert not at.exception
    at.text_input(key=f"rename-{conv.id}").set_value("Apple FY2024")
    at.button(key=f"rename-save-{conv.id}").click().run()
    assert rt.store.get_conversation(conv.id).title == "Apple FY2024"
    at.button(key=f"share-{conv.id}").click().run()
    (link,) = rt.store.list_share_links(conv.id)
    at.button(key=f"revoke-{link.token[:16]}").click().run()
    assert rt.store.resolve_share_link(link.token) is None
    at.button(key=f"delete-{other.id}").click().run()
    assert rt.store.get_conversation(other.id) is None
    at.button(key=f"open-{conv.id}").click().run()
    assert not at.exception
    assert at.session_state["conversation_id"] == conv.id
    assert len(at.get("plotly_chart")) == 1  # the analysis page, with that conversation


def test_uploads_are_stored_at_once_with_errors_named(ui_runtime, app_test):
    rt, provider = ui_runtime
    provider.add(text_step(ANSWER))
    conv = rt.store.create_conversation("")
    at = opened(app_test, conv)
    csv = (FILINGS / "apple_consolidated.csv").read_bytes()
    prompt = at.chat_input(key="prompt")
    prompt.upload("apple_consolidated.csv", csv, "text/csv")
    prompt.upload("empty.pdf", b"", "application/pdf")
    prompt.set_value("What is the revenue trend?").run()
    assert not at.exception
    docs = {d.filename: d for d in rt.store.list_documents(conv.id)}
    assert docs["apple_consolidated.csv"].ok
    assert not docs["empty.pdf"].ok
    # The failed file is named with its reason; the good one and the question went ahead.
    reason = docs["empty.pdf"].error
    assert "empty.pdf" in reason
    page = all_text(at).replace("\\", "").replace("\u2060", "")  # escapes and word joiners
    assert reason in page
    assert "apple_consolidated" in page and "empty.pdf" in page  # the document chips
    assert [m.text for m in rt.store.list_messages(conv.id)] == ["What is the revenue trend?", ANSWER]
    # A rerun does not upload them again (the chat input's value is gone, the files are stored).
    at.run()
    assert len(rt.store.list_documents(conv.id)) == 2
    at.switch_page("pages/documents.py").run()
    assert "1 of 2 files read" in all_text(at)


def test_first_visit_gets_the_sample_filing_and_the_demo_analyst_answers_from_it(demo_runtime):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(Path(__file__).resolve().parents[2] / "app.py"), default_timeout=60)
    at.run()
    assert not at.exception
    conv_id = at.session_state["conversation_id"]
    docs = demo_runtime.store.list_documents(conv_id)
    assert [d.filename for d in docs] == ["apple-companyfacts-CIK0000320193.json"] and docs[0].ok
    at.pills[0].set_value("What is the revenue trend?").run()
    assert not at.exception
    answer = "\n".join(md.value for md in at.chat_message[-1].markdown)
    assert "Revenue was \\$" in answer
    assert len(at.get("plotly_chart")) >= 1 and len(at.dataframe) >= 1 and len(at.metric) >= 1
    assert all(m.value.startswith("$") for m in at.metric)


def test_pages_never_render_raw_html():
    root = Path(__file__).resolve().parents[2]
    files = [root / "app.py", *(root / "pages").glob("*.py"), *(root / "finstream" / "ui").glob("*.py")]
    assert len(files) > 10
    offenders = [f.name for f in files if "unsafe_allow_html=True" in f.read_text() or "st.html(" in f.read_text()]
    assert offenders == []


def test_unknown_conversation_in_the_url_falls_back_cleanly(ui_runtime, app_test):
    rt, _provider = ui_runtime
    existing = rt.store.create_conversation("Existing")
    at = app_test()
    at.query_params["c"] = "no-such-conversation"
    at.run()
    assert not at.exception
    assert at.session_state["conversation_id"] == existing.id
    cid = at.query_params["c"]
    assert (cid if isinstance(cid, str) else cid[0]) == existing.id
