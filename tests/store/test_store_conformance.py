"""One conformance suite for the store, run on SQLite and on the real PostgreSQL.

The async tests go through the protocols async code uses (store/protocols.py, implemented by
AsyncStore); the sync ones check what only the sync Store offers (migrations, messages written
directly, document bytes, thread races, engines)."""

from __future__ import annotations

import threading
from datetime import date

import pytest
import sqlalchemy as sa

from finstream import events as ev
from finstream.filings.model import Fact, Filing, Section, Source
from finstream.store import (
    ConversationBusyError,
    MessagePatch,
    NotFoundError,
    Store,
    normalise_url,
)
from finstream.store import schema as current
from finstream.store.migrations import MIGRATIONS, migrate
from finstream.store.protocols import ApiStore
from finstream.store.runlog import UNLOGGED_SEQ_BOUND


def _filing(name: str = "aapl-10k.htm") -> Filing:
    src = Source(document=name, concept="us-gaap:Revenues", period="FY2023")
    return Filing(
        filename=name, format="ixbrl", company="Apple Inc.", form="10-K",
        period_end=date(2023, 9, 30), sections=[Section(title="Item 7", text="Revenue grew.")],
        facts=[Fact(concept="us-gaap:Revenues", label="Revenue", value=383285000000.0,
                    period_end=date(2023, 9, 30), period_start=date(2022, 9, 25), source=src)],
    )


def _events(mid: str, cid: str, start: int, texts: list[str]) -> list[ev.Event]:
    out: list[ev.Event] = [ev.MessageStart(seq=start, message_id=mid, conversation_id=cid)]
    acc = ""
    for i, t in enumerate(texts, start + 1):
        acc += t
        out.append(ev.TextDelta(seq=i, message_id=mid, text=t, accumulated_text=acc))
    return out


# ------------------------------------------------------------------ schema


def test_migrations_are_recorded_and_idempotent(store: Store):
    assert migrate(store.engine) == []  # already applied by Store()
    with store.engine.connect() as conn:
        names = conn.execute(sa.text("SELECT name FROM schema_migrations")).scalars().all()
    assert names == [name for name, _ in MIGRATIONS]


def test_migrated_tables_match_the_current_schema(store: Store):
    inspector = sa.inspect(store.engine)
    for table in current.metadata.sorted_tables:
        columns = {c["name"] for c in inspector.get_columns(table.name)}
        assert columns == {c.name for c in table.columns}, table.name


# ------------------------------------------------------------------ conversations


async def test_conversation_create_get_list_rename(astore: ApiStore):
    a = await astore.create_conversation("Apple margins")
    b = await astore.create_conversation()
    assert await astore.get_conversation(a.id) == a
    assert await astore.get_conversation("nope") is None
    await astore.rename_conversation(a.id, "Apple FY23")
    listed = await astore.list_conversations()
    assert [c.id for c in listed] == [a.id, b.id]  # renamed one was updated last
    assert listed[0].title == "Apple FY23"
    assert (await astore.list_conversations(limit=1, offset=1))[0].id == b.id


async def test_rename_unknown_conversation_names_it(astore: ApiStore):
    with pytest.raises(NotFoundError, match="conversation missing-id: not found"):
        await astore.rename_conversation("missing-id", "x")


async def test_delete_conversation_cascades_to_everything(astore: ApiStore):
    c = await astore.create_conversation("doomed")
    keep = await astore.create_conversation("kept")
    turn = await astore.begin_turn(c.id, "Revenue?", owner="t")
    chart = ev.ChartReady(seq=2, message_id=turn.assistant.id, chart_data={"figure": {}}, chart_index=0)
    await astore.append_batch(c.id, [*_events(turn.assistant.id, c.id, 1, [])[:1], chart])
    await astore.add_document(c.id, "a.htm", b"<html>", filing=_filing("a.htm"))
    await astore.create_share_link(c.id)
    await astore.add_document(keep.id, "b.htm", b"<b>", error="b.htm: empty file")
    assert await astore.delete_conversation(c.id) is True
    assert await astore.get_conversation(c.id) is None
    assert await astore.list_messages(c.id) == []
    assert await astore.read_events(c.id) == []
    assert await astore.list_artifacts(c.id) == []
    assert await astore.list_documents(c.id) == []
    assert await astore.list_share_links(c.id) == []
    assert await astore.delete_conversation(c.id) is False
    assert len(await astore.list_documents(keep.id)) == 1  # nothing else touched


# ------------------------------------------------------------------ messages


def test_messages_keep_conversation_order_and_update(store: Store):
    c = store.create_conversation()
    m1 = store.add_message(c.id, "user", "Q1")
    m2 = store.add_message(c.id, "assistant", "A1", status="incomplete")
    m3 = store.add_message(c.id, "user", "Q2")
    assert [m.id for m in store.list_messages(c.id)] == [m1.id, m2.id, m3.id]
    updated = store.update_message(m2.id, text="A1 done", status="complete",
                                   usage={"input_tokens": 3, "output_tokens": 4})
    assert (updated.text, updated.status, updated.usage["output_tokens"]) == ("A1 done", "complete", 4)


def test_bad_message_input_is_rejected_with_the_reason(store: Store):
    c = store.create_conversation()
    with pytest.raises(ValueError, match="message status 'done'"):
        store.add_message(c.id, "user", "x", status="done")
    with pytest.raises(ValueError, match="message role 'system'"):
        store.add_message(c.id, "system", "x")
    with pytest.raises(NotFoundError, match="conversation nope"):
        store.add_message("nope", "user", "x")
    m = store.add_message(c.id, "user", "x")
    with pytest.raises(ValueError, match="unknown field"):
        store.update_message(m.id, colour="red")
    with pytest.raises(NotFoundError, match="message gone"):
        store.update_message("gone", text="x")
    assert store.list_messages(c.id)[0].text == "x"  # nothing lost


# ------------------------------------------------------------------ documents


def test_documents_round_trip_bytes_and_parsed_filing(store: Store):
    c = store.create_conversation()
    data = b"<html>10-K</html>" * 100
    info = store.add_document(c.id, "aapl-10k.htm", data, filing=_filing())
    assert info.ok and info.size == len(data) and len(info.sha256) == 64
    doc = store.get_document(info.id)
    assert doc.data == data
    assert isinstance(doc.filing, Filing)
    assert doc.filing.document_id == info.id
    assert doc.filing.facts[0].value == 383285000000.0
    assert doc.filing.model_dump(exclude={"document_id"}) == _filing().model_dump(exclude={"document_id"})
    assert store.get_document("nope") is None


def test_failed_upload_keeps_bytes_and_reason_and_the_rest(store: Store):
    c = store.create_conversation()
    good = store.add_document(c.id, "good.htm", b"ok", filing=_filing("good.htm"))
    bad = store.add_document(c.id, "scan.pdf", b"%PDF-enc", error="scan.pdf: encrypted PDF, cannot read text")
    assert not bad.ok and bad.error.startswith("scan.pdf: encrypted")
    assert [d.filename for d in store.list_documents(c.id)] == ["good.htm", "scan.pdf"]
    assert store.get_document(bad.id).data == b"%PDF-enc"
    assert store.get_document(bad.id).filing is None
    assert [f.document_id for f in store.filings(c.id)] == [good.id]
    with pytest.raises(ValueError, match="x.csv: give exactly one of filing or error"):
        store.add_document(c.id, "x.csv", b"", filing=None, error=None)
    assert store.delete_document(bad.id) and [d.id for d in store.list_documents(c.id)] == [good.id]


# ------------------------------------------------------------------ turns and the event log


async def test_begin_turn_claims_the_conversation_once(astore: ApiStore):
    c = await astore.create_conversation()
    turn = await astore.begin_turn(c.id, "Revenue?", owner="me")
    assert turn.user.text == "Revenue?" and turn.assistant.status == "streaming" and turn.seq_start == 1
    assert (await astore.get_conversation(c.id)).active_message_id == turn.assistant.id
    with pytest.raises(ConversationBusyError, match="still streaming"):
        await astore.begin_turn(c.id, "Again?")
    await astore.append_batch(c.id, [], message_id=turn.assistant.id,
                       patch=MessagePatch(status="complete", release=True))
    assert (await astore.get_conversation(c.id)).active_message_id is None
    assert (await astore.begin_turn(c.id, "Again?")).seq_start == 1  # no events were logged


def test_begin_turn_from_many_threads_has_one_winner(store: Store):
    c = store.create_conversation()
    wins, busy, barrier = [], [], threading.Barrier(6)

    def go(i: int) -> None:
        barrier.wait()
        try:
            wins.append(store.begin_turn(c.id, f"q{i}"))
        except ConversationBusyError:
            busy.append(i)

    threads = [threading.Thread(target=go, args=(i,)) for i in range(6)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert len(wins) == 1 and len(busy) == 5


async def test_bad_turns_are_rejected_with_the_reason(astore: ApiStore):
    c = await astore.create_conversation()
    with pytest.raises(ValueError, match="question: empty"):
        await astore.begin_turn(c.id, "   ")
    with pytest.raises(NotFoundError, match="conversation nope"):
        await astore.begin_turn("nope", "q")
    turn = await astore.begin_turn(c.id, "q")
    await astore.append_batch(c.id, [], message_id=turn.assistant.id,
                       patch=MessagePatch(status="complete", release=True))
    with pytest.raises(ValueError, match="cannot continue a assistant message with status 'complete'"):
        await astore.begin_turn(c.id, None, continue_message_id=turn.assistant.id)
    with pytest.raises(ValueError, match="cannot continue a user message"):
        await astore.begin_turn(c.id, None, continue_message_id=turn.user.id)
    assert (await astore.get_conversation(c.id)).active_message_id is None  # failed attempts hold nothing


async def test_event_log_append_read_and_message_in_one_transaction(astore: ApiStore):
    c = await astore.create_conversation()
    mid = (await astore.begin_turn(c.id, "q")).assistant.id
    batch = _events(mid, c.id, 1, ["Revenue ", "was ", "$383B."])
    await astore.append_batch(c.id, batch, patch=MessagePatch(append_text="Revenue was $383B."))
    metric = ev.MetricReady(seq=5, message_id=mid, metric_index=0,
                            metric_data={"label": "Revenue", "value": 383.3, "sources": []})
    done = ev.MessageComplete(seq=6, message_id=mid, success=True, stop_reason="end_turn",
                              usage=ev.Usage(input_tokens=5, output_tokens=7))
    await astore.append_batch(c.id, [metric, done], patch=MessagePatch(
        status="complete", stop_reason="end_turn", usage=done.usage.model_dump(), release=True))

    logged = await astore.read_events(c.id)
    assert [e.seq for e in logged] == [1, 2, 3, 4, 5, 6]
    assert logged[1].text == "Revenue " and logged[1].accumulated_text is None  # not stored
    assert [e.seq for e in await astore.read_events(c.id, after_seq=2, limit=2)] == [3, 4]
    assert [e.seq for e in await astore.read_events(c.id, after_seq=1, before_seq=4)] == [2, 3]
    assert await astore.last_seq(c.id) == 6 and await astore.last_seq(c.id, message_id=mid) == 6
    assert await astore.last_seq("other") == 0
    assert await astore.message_text_before(c.id, mid, 4) == "Revenue was "
    msg = await astore.get_message(mid)
    assert (msg.text, msg.status) == ("Revenue was $383B.", "complete")
    assert {k: msg.usage[k] for k in ("input_tokens", "output_tokens")} == {"input_tokens": 5, "output_tokens": 7}
    arts = await astore.message_artifacts(mid)
    assert [(a.kind, a.index, a.seq, a.data["value"]) for a in arts] == [("metric", 0, 5, 383.3)]
    assert await astore.list_artifacts(c.id) == arts


async def test_a_seq_is_never_written_twice(astore: ApiStore):
    c = await astore.create_conversation()
    mid = (await astore.begin_turn(c.id, "q")).assistant.id
    await astore.append_batch(c.id, _events(mid, c.id, 1, ["a"]))
    with pytest.raises(sa.exc.IntegrityError):
        await astore.append_batch(c.id, _events(mid, c.id, 2, ["b"]))
    assert [e.seq for e in await astore.read_events(c.id)] == [1, 2]  # the failed batch left nothing


async def test_mark_streaming_interrupted_ends_the_log_and_frees_the_conversation(astore: ApiStore):
    c = await astore.create_conversation()
    live = await astore.create_conversation()
    dead_mid = (await astore.begin_turn(c.id, "q", owner="host:1:dead")).assistant.id
    live_mid = (await astore.begin_turn(live.id, "q", owner="host:2:alive")).assistant.id
    await astore.append_batch(c.id, _events(dead_mid, c.id, 1, ["Half ", "an "]),
                       patch=MessagePatch(append_text="Half an "))
    marked = await astore.mark_streaming_interrupted(is_dead=lambda owner: owner.endswith(":dead"),
                                              stale_after=3600)
    assert marked == [dead_mid]
    msg = await astore.get_message(dead_mid)
    assert (msg.status, msg.text, msg.error["code"]) == ("interrupted", "Half an ", "interrupted")
    tail = await astore.read_events(c.id, after_seq=3)
    # past every seq the dead run could have shown without logging it (issue 11)
    gap = 3 + UNLOGGED_SEQ_BOUND
    assert [(e.type, e.seq) for e in tail] == [("error", gap), ("message_complete", gap + 1)]
    assert tail[1].stop_reason == "interrupted" and tail[1].success is False
    assert (await astore.get_conversation(c.id)).active_message_id is None
    assert (await astore.get_message(live_mid)).status == "streaming"
    assert await astore.mark_streaming_interrupted(stale_after=0) == [live_mid]  # stale heartbeat
    assert await astore.mark_streaming_interrupted() == []
    # an interrupted message can be continued, and its events go on from the log's end
    turn = await astore.begin_turn(c.id, None, continue_message_id=dead_mid)
    assert turn.seq_start == gap + 2 and turn.user is None and turn.assistant.text == "Half an "


# ------------------------------------------------------------------ share links


async def test_share_links_create_resolve_revoke_list(astore: ApiStore):
    c = await astore.create_conversation("shared")
    a = await astore.create_share_link(c.id)
    b = await astore.create_share_link(c.id)
    assert a.token != b.token and len(a.token) >= 40
    assert (await astore.resolve_share_link(a.token)).id == c.id
    assert await astore.resolve_share_link("guess") is None
    assert await astore.revoke_share_link(a.token) is True
    assert await astore.resolve_share_link(a.token) is None
    assert (await astore.resolve_share_link(b.token)).title == "shared"
    assert [(s.token, s.revoked) for s in await astore.list_share_links(c.id)] == [(a.token, True), (b.token, False)]
    assert await astore.revoke_share_link("nope") is False
    with pytest.raises(NotFoundError):
        await astore.create_share_link("nope")


# ------------------------------------------------------------------ engine


def test_database_urls_are_normalised_or_rejected_clearly(tmp_path):
    assert normalise_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_url("sqlite:///x.db") == "sqlite:///x.db"
    with pytest.raises(ValueError, match="unsupported database 'mysql'"):
        Store("mysql://u@h/db")
    with pytest.raises(ValueError, match="schema 'Bad-Name'"):
        Store("postgresql://u@h/db", schema="Bad-Name")


def test_sqlite_file_is_created_in_wal_mode(tmp_path):
    path = tmp_path / "deep" / "dir" / "finstream.db"
    st = Store(f"sqlite:///{path}")
    assert path.exists()
    with st.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
    st.close()


def test_many_stores_opening_one_fresh_database_at_once_migrate_it_once(store: Store, tmp_path):
    """Replicas starting together: every one opens the same new database; one migrates it."""
    url = store.url if store.dialect == "sqlite" else None
    schema = None
    if url is None:
        from tests.support.db import PG_URL, fresh_schema

        url, schema = PG_URL, fresh_schema()
    else:
        url = f"sqlite:///{tmp_path / 'fresh' / 'race.db'}"
    barrier, opened, errors = threading.Barrier(4), [], []

    def open_one() -> None:
        barrier.wait()
        try:
            opened.append(Store(url, schema=schema))
        except Exception as exc:  # collected, asserted below
            errors.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    try:
        assert errors == [] and len(opened) == 4
        with opened[0].engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM schema_migrations")).scalar() == len(MIGRATIONS)
    finally:
        for st in opened:
            st.close()
        if schema:
            from tests.support.db import drop_schema

            drop_schema(schema)
