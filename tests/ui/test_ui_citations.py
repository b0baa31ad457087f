"""Footnotes on the page (AppTest on the real runtime, a scripted model that cites what
search_filing found): markers after the cited sentences, notes below the answer, each a link to the
Documents page that opens the passage highlighted; the same after a reload (from the event log);
a figure's source opens its facts; hostile cited text stays inert."""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qs

import pytest

from finstream.filings.ingest import ingest
from finstream.providers.base import BlockStop, CitationPart, Finish
from finstream.providers.citations import source_of
from finstream.providers.scripted import text_parts, tool_step
from finstream.ui.inert import md_escape
from tests.support.filings import FILINGS_DIR

BUCKLE = "BuckleInc.8-K.EX99.1.html"
QUESTION = "Why did Buckle's sales fall?"
INTRO = "Buckle's sales fell in the quarter."
CLAIM = " The release gives the decline in its own words."
HOSTILE = "hostile.txt"
HOSTILE_TEXT = (
    "Net sales decreased 3.2 percent, see <img src=x onerror=alert(1)> and "
    "[click here](https://evil.example/x) or ![px](https://evil.example/p.png) **bold** :red[dir] $x$."
)


@pytest.fixture(scope="module")
def buckle():
    path = FILINGS_DIR / BUCKLE
    if not path.is_file():
        pytest.skip(f"real filings not found at {FILINGS_DIR}")
    return ingest(BUCKLE, path.read_bytes())


def cited_answer(request):
    """The model's second round: it cites the first passage search_filing returned."""
    result = next(b for m in reversed(request.messages) if isinstance(m["content"], list)
                  for b in m["content"] if b.get("type") == "tool_result")
    hit = json.loads(result["content"])["results"][0]
    citation = {"type": "search_result_location", "source": source_of(hit["filing"], hit["section"], hit["page"]),
                "title": hit["filing"], "cited_text": hit["text"], "search_result_index": 0,
                "start_block_index": 0, "end_block_index": 1}
    return [*text_parts(INTRO), BlockStop(0), CitationPart(1, citation), *text_parts(CLAIM), BlockStop(1),
            Finish("end_turn", {"input_tokens": 10, "output_tokens": 5})]


def ask(rt, provider, app_test, filename, filing, query="net sales decreased percent"):
    conv = rt.store.create_conversation("Citations")
    rt.store.add_document(conv.id, filename, b"x", filing=filing)
    provider.add(tool_step(("search_filing", {"query": query, "limit": 2})), cited_answer)
    at = app_test()
    at.query_params["c"] = conv.id
    at.run()
    at.chat_input(key="prompt").set_value(QUESTION).run()
    assert not at.exception
    return conv, at


def footnote_links(at):
    return [link for link in at.page_link if link.proto.page.endswith("documents") and "cite=" in link.proto.query_string]


def open_link(at, link):
    """What a click on the link does: the Documents page with the link's query parameters."""
    params = {k: v[0] for k, v in parse_qs(link.proto.query_string).items()}
    for key in list(at.query_params):
        del at.query_params[key]
    for key, value in params.items():
        at.query_params[key] = value
    at.switch_page("pages/documents.py").run()
    assert not at.exception
    return params


def test_footnotes_render_link_to_the_passage_and_survive_a_reload(ui_runtime, app_test, buckle):
    rt, provider = ui_runtime
    conv, at = ask(rt, provider, app_test, BUCKLE, buckle)
    message_id = rt.store.list_messages(conv.id)[-1].id
    # Under the streamed answer: one footnote, a link to the Documents page at that citation.
    (link,) = footnote_links(at)
    assert link.value.startswith(md_escape("[1] " + BUCKLE + " · "))
    (cited,) = rt.store.message_citations([message_id])[message_id]
    assert parse_qs(link.proto.query_string) == {"c": [conv.id], "cite": [f"{message_id}:{cited['seq']}"]}

    at.run()  # the answer from the store: the marker follows the cited sentence
    answer = "\n".join(m.value for m in at.chat_message[-1].markdown)
    assert "its own words.\\[1\\]" in answer
    assert len(footnote_links(at)) == 1

    reloaded = app_test()  # a new browser session: history from the event log
    reloaded.query_params["c"] = conv.id
    reloaded.run()
    assert not reloaded.exception
    assert "its own words.\\[1\\]" in "\n".join(m.value for m in reloaded.chat_message[-1].markdown)
    (link,) = footnote_links(reloaded)

    params = open_link(reloaded, link)  # the click: the Documents page, the passage highlighted
    assert params["cite"] == f"{message_id}:{cited['seq']}"
    quote = " ".join(cited["quoted_text"].removesuffix("…").split())
    shown = "\n".join(m.value for m in reloaded.markdown)
    assert "**Cited passage** · " + md_escape(BUCKLE) in shown
    assert ":orange-background[" + md_escape(quote) + "]" in shown


def test_a_footnote_of_another_conversation_is_not_shown(ui_runtime, app_test, buckle):
    rt, provider = ui_runtime
    conv, at = ask(rt, provider, app_test, BUCKLE, buckle)
    message_id = rt.store.list_messages(conv.id)[-1].id
    other = rt.store.create_conversation("Other")  # holding the same filing, so only the check stops it
    rt.store.add_document(other.id, BUCKLE, b"x", filing=buckle)
    at.query_params["c"] = other.id
    (cited,) = rt.store.message_citations([message_id])[message_id]
    at.query_params["cite"] = f"{message_id}:{cited['seq']}"
    at.switch_page("pages/documents.py").run()
    assert not at.exception
    assert not [m for m in at.markdown if "Cited passage" in m.value]
    assert any("not part of this conversation" in w.value for w in at.warning)


def active(markdown: str) -> list[str]:
    """What would be live in this Markdown: what is left of links, images, HTML, directives and
    math once the escaped characters are taken out."""
    bare = re.sub(r"\\.", "", markdown)
    return [m for m in ("<", "](", "![", ":red[", "$", "**") if m in bare]


def test_hostile_cited_text_stays_inert_in_the_footnote_and_on_the_documents_page(ui_runtime, app_test):
    rt, provider = ui_runtime
    hostile = ingest(HOSTILE, HOSTILE_TEXT.encode())
    conv, at = ask(rt, provider, app_test, HOSTILE, hostile)
    (link,) = footnote_links(at)
    assert not active(link.value), link.value
    assert "evil" in link.value and "onerror" in link.value  # shown, as text
    open_link(at, link)
    box = next(m.value for m in at.markdown if ":orange-background[" in m.value)
    inner = box.split(":orange-background[", 1)[1].removesuffix("]")
    assert not active(inner), inner
    assert "onerror" in inner and "evil" in inner  # the passage is there, escaped


def test_a_figures_source_opens_its_facts_highlighted(ui_runtime, app_test):
    from finstream.ui.deeplinks import source_params

    apple_path = FILINGS_DIR / "aapl-10-k-2024-11-01.html"
    if not apple_path.is_file():
        pytest.skip("real filings not found")
    rt, _provider = ui_runtime
    apple = ingest(apple_path.name, apple_path.read_bytes())
    conv = rt.store.create_conversation("Apple")
    rt.store.add_document(conv.id, apple_path.name, b"x", filing=apple)
    fact = next(f for f in apple.facts if f.source.period == "FY2024" and "Revenue" in f.concept and not f.dimensions)
    at = app_test()
    at.query_params["c"] = conv.id
    at.run()
    params = source_params(conv.id, {"document": apple_path.name, "concept": fact.concept}, ["FY2024"])
    for key, value in params.items():
        at.query_params[key] = value
    at.switch_page("pages/documents.py").run()
    assert not at.exception
    rows = at.dataframe[0].value  # the focus comes first, above the files' own tabs
    assert len(rows) >= 1 and set(rows["Concept"]) == {fact.concept} and set(rows["Period"]) == {"FY2024"}
    assert any("**Source** · " in m.value for m in at.markdown)


def test_a_pdf_citation_opens_its_page_with_the_passage_boxed(ui_runtime, app_test):
    """uber_2021.pdf: the cited page is drawn, with a box where the passage's words stand."""
    from finstream.ui.passages import pdf_page_png

    path = FILINGS_DIR / "uber_2021.pdf"
    if not path.is_file():
        pytest.skip("real filings not found")
    rt, provider = ui_runtime
    data = path.read_bytes()
    uber = ingest(path.name, data)
    conv = rt.store.create_conversation("Uber")
    rt.store.add_document(conv.id, path.name, data, filing=uber)
    provider.add(tool_step(("search_filing", {"query": "gross bookings increased", "limit": 2})), cited_answer)
    at = app_test()
    at.query_params["c"] = conv.id
    at.run()
    at.chat_input(key="prompt").set_value("How did gross bookings do?").run()
    assert not at.exception
    (link,) = footnote_links(at)
    open_link(at, link)
    message_id = rt.store.list_messages(conv.id)[-1].id
    (cited,) = rt.store.message_citations([message_id])[message_id]
    assert cited["page"]
    (image,) = at.get("image")
    assert list(image.captions) == [f"Page {cited['page']}"]  # no "position … not found": the passage is boxed
    png, boxed = pdf_page_png(data, cited["page"], cited["quoted_text"])
    assert boxed and png and png != pdf_page_png(data, cited["page"], "no such words anywhere")[0]
