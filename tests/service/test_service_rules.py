"""The rules both surfaces share (finstream/service), tested once: questions and run options,
tokens, uploads, the conversation or answer that must exist, the active message, delete, start.
Real SQLite store and a real RunManager (scripted provider); nothing mocked."""

from __future__ import annotations

import pytest

from finstream.filings.model import FilingError
from finstream.providers.scripted import ScriptedProvider, text_step
from finstream.runs import RunManager
from finstream.runs.options import RunOptions
from finstream.service import answers, conversations, uploads
from finstream.service.access import token_matches, token_problem
from finstream.service.errors import Busy, Invalid, NotContinuable, NotFound, TooLarge
from finstream.service.questions import MAX_QUESTION_CHARS, check_question, parse_options
from finstream.settings import Settings
from finstream.store import AsyncStore, Store
from finstream.tools import default_toolbox

# ---------------------------------------------------------------- questions and options


@pytest.mark.parametrize("message", ["", "   \n", None, 42, ["q"]])
def test_an_empty_or_non_text_question_is_refused_with_the_apis_words(message):
    with pytest.raises(Invalid) as refused:
        check_question(message)
    assert refused.value.message == 'message: empty; send the question as {"message": "..."}'
    assert refused.value.code == "invalid_request"


def test_a_question_over_the_limit_names_its_length_and_the_limit():
    assert check_question("x" * MAX_QUESTION_CHARS) == "x" * MAX_QUESTION_CHARS  # the limit itself is fine
    with pytest.raises(TooLarge) as refused:
        check_question("x" * 11, max_chars=10)
    assert refused.value.message == "message: 11 characters, the limit is 10"
    assert refused.value.code == "too_large"
    assert check_question("  padded  ") == "  padded  "  # kept as asked


def test_run_options_are_parsed_or_refused_naming_each_field():
    assert parse_options(None) is None
    given = RunOptions(max_rounds=3)
    assert parse_options(given) is given
    assert parse_options({"max_tokens": 900, "max_rounds": 2}) == RunOptions(max_tokens=900, max_rounds=2)
    with pytest.raises(Invalid) as refused:
        parse_options({"max_rounds": 0, "max_tokens": "lots"})
    fields = [part.split(":")[0] for part in refused.value.message.split("; ")]
    assert fields == ["options.max_tokens", "options.max_rounds"] or fields == ["options.max_rounds", "options.max_tokens"]
    with pytest.raises(Invalid, match=r"^options\.surprise: "):
        parse_options({"surprise": 1})
    with pytest.raises(Invalid, match=r"^options: "):
        parse_options("fast")
    many = {"model": "", "max_tokens": 0, "max_rounds": 0, "effort": "huge", "a": 1, "b": 2, "c": 3}
    with pytest.raises(Invalid) as refused:
        parse_options(many)
    assert len(refused.value.message.split("; ")) == 5  # at most five, not a wall of text


# ---------------------------------------------------------------- tokens


@pytest.mark.parametrize(
    ("token", "problem"),
    [(None, "unset"), ("", "blank"), ("   ", "blank"), (" s3cret", "padded"), ("s3cret\n", "padded"),
     ("s3cret", None), ("s3 cret", None)],
)
def test_a_configured_token_must_be_set_not_blank_and_not_padded(token, problem):
    assert token_problem(token) == problem


@pytest.mark.parametrize(
    ("presented", "ok"),
    [("s3cret-tøken", True), ("s3cret-token", False), ("s3cret-tøke", False), ("s3cret-tøkenx", False),
     ("", False), (None, False)],
)
def test_tokens_match_exactly(presented, ok):
    assert token_matches("s3cret-tøken", presented) is ok


def test_an_empty_expected_token_never_matches():
    assert not token_matches("", "")


# ---------------------------------------------------------------- uploads


def test_upload_size_limit_names_the_file_and_the_limit():
    uploads.check_size("a.pdf", 100, 100)  # at the limit: fine
    with pytest.raises(TooLarge) as refused:
        uploads.check_size("a.pdf", 101, 100)
    assert refused.value.message == "a.pdf: 101 bytes, the limit is 100 bytes per file"
    assert refused.value.extra == {"filename": "a.pdf"}


def test_failure_lines_always_name_the_file_once():
    assert uploads.failure_message("a.pdf", "a.pdf: empty file") == "a.pdf: empty file"
    assert uploads.failure_message("a.pdf", "empty file") == "a.pdf: empty file"


@pytest.fixture
async def astore(tmp_path):
    store = AsyncStore(Store(f"sqlite:///{tmp_path / 's.db'}"))
    yield store
    store.close()


async def test_an_upload_is_stored_with_its_filing_or_with_why_it_failed(astore):
    from finstream.filings.ingest import ingest

    conv = await astore.create_conversation("")

    async def parse(name: str, data: bytes):  # noqa: ANN202 - the real parser, in-process
        return ingest(name, data)

    async def crash(name: str, data: bytes):  # noqa: ANN202 - a parser bug
        raise KeyError("boom")

    good = await uploads.store_upload(astore, parse, conv.id, "t.csv", b"year,revenue\n2023,10\n2024,12\n")
    assert good.error is None and uploads.rejection(good) is None
    empty = await uploads.store_upload(astore, parse, conv.id, "e.csv", b"")
    assert empty.error == "e.csv: empty file"
    assert uploads.rejection(empty) == uploads.Rejected("e.csv", "empty file")
    bug = await uploads.store_upload(astore, crash, conv.id, "b.pdf", b"%PDF")
    assert bug.error == "b.pdf: could not be read (KeyError)"
    stored = {d.filename: d for d in await astore.list_documents(conv.id)}
    assert set(stored) == {"t.csv", "e.csv", "b.pdf"}  # failed ones kept, with their bytes
    assert astore.sync.get_document(good.id).filing is not None
    assert astore.sync.get_document(bug.id).data == b"%PDF"
    with pytest.raises(NotFound, match="conversation nope: not found"):
        await uploads.store_upload(astore, parse, "nope", "t.csv", b"a,b\n1,2\n")


async def test_the_sample_filing_is_preloaded_under_a_name_that_says_whose(astore):
    from finstream.filings.ingest import ingest

    async def parse(name: str, data: bytes):  # noqa: ANN202
        if name != "apple-companyfacts-CIK0000320193.json":
            raise FilingError(name, "unexpected name")
        return ingest(name, data)

    conv = await astore.create_conversation("")
    docs = await uploads.preload_samples(astore, parse, conv.id)
    assert [(d.filename, d.error) for d in docs] == [("apple-companyfacts-CIK0000320193.json", None)]


# ---------------------------------------------------------------- conversations, answers


@pytest.fixture
async def runs(tmp_path):
    provider = ScriptedProvider()
    settings = Settings(FINSTREAM_DEMO=True, FINSTREAM_DATA_DIR=tmp_path)
    manager = RunManager(Store(f"sqlite:///{tmp_path / 'r.db'}"), lambda: provider, default_toolbox(), settings)
    yield manager, provider
    await manager.shutdown()
    manager.store.close()


def claim_elsewhere(runs: RunManager, conversation_id: str) -> str:
    """Another replica's run: the store holds its claim, this process has no run."""
    turn = runs.store.sync.begin_turn(conversation_id, "asked elsewhere", owner="replica-2")
    return turn.assistant.id


async def test_what_must_exist_is_named_when_it_does_not(runs):
    runs, provider = runs
    store = runs.store
    with pytest.raises(NotFound, match="^conversation c0: not found$"):
        await conversations.require_conversation(store, "c0")
    conv = await store.create_conversation("")
    answer = claim_elsewhere(runs, conv.id)
    question = next(m for m in await store.list_messages(conv.id) if m.role == "user")
    assert (await conversations.require_answer(store, conv.id, answer)).id == answer
    other = await store.create_conversation("")
    for cid, mid in [(conv.id, question.id), (other.id, answer), (conv.id, "m0")]:
        with pytest.raises(NotFound, match=f"^message {mid}: no such answer in conversation {cid}$"):
            await conversations.require_answer(store, cid, mid)


async def test_the_active_message_is_this_processs_run_or_another_replicas_claim(runs):
    runs, provider = runs
    store = runs.store
    conv = await store.create_conversation("")
    assert await conversations.active_message(runs, store, conv.id) is None
    answer = claim_elsewhere(runs, conv.id)
    assert runs.active_message(conv.id) is None
    assert await conversations.active_message(runs, store, conv.id) == answer
    assert await conversations.active_message(runs, store, "gone") is None


async def test_start_checks_the_question_first_then_the_conversation_then_the_claim(runs):
    runs, provider = runs
    store = runs.store
    conv = await store.create_conversation("")
    with pytest.raises(Invalid):
        await answers.start(runs, store, "gone", "  ")  # the question is judged first
    with pytest.raises(TooLarge):
        await answers.start(runs, store, conv.id, "x" * 11, max_chars=10)
    with pytest.raises(NotFound, match="conversation gone: not found"):
        await answers.start(runs, store, "gone", "q")
    assert await store.list_messages(conv.id) == []  # nothing started by a refusal
    answer = claim_elsewhere(runs, conv.id)
    with pytest.raises(Busy) as busy:
        await answers.start(runs, store, conv.id, "q")
    assert busy.value.message_id == answer and busy.value.code == "busy"


async def test_a_run_starts_after_the_logs_end_and_a_complete_answer_is_not_continuable(runs):
    runs, provider = runs
    store = runs.store
    conv = await store.create_conversation("")
    provider.add(text_step("Revenue rose."))
    message_id, floor = await answers.start(runs, store, conv.id, "q")
    assert floor == 0
    await runs.wait(message_id)
    provider.add(text_step("Again."))
    second, floor = await answers.start(runs, store, conv.id, "q2")
    assert floor == await store.last_seq(conv.id, message_id=message_id) and floor > 0
    await runs.wait(second)
    with pytest.raises(NotContinuable):
        await answers.continue_answer(runs, store, conv.id, message_id)
    assert (await answers.rate(store, conv.id, message_id, 1, "good")).rating == 1
    with pytest.raises(NotFound):
        await answers.rate(store, conv.id, "m0", 1)


async def test_delete_stops_a_local_run_but_refuses_one_on_another_replica(runs):
    runs, provider = runs
    store = runs.store
    conv = await store.create_conversation("")
    answer = claim_elsewhere(runs, conv.id)
    with pytest.raises(Busy, match="streaming on another replica") as busy:
        await conversations.delete(runs, store, conv.id)
    assert busy.value.message_id == answer
    assert await store.get_conversation(conv.id) is not None  # still there
    idle = await store.create_conversation("")
    assert await conversations.delete(runs, store, idle.id) is True
    assert await store.get_conversation(idle.id) is None
    with pytest.raises(NotFound):
        await conversations.delete(runs, store, idle.id)
