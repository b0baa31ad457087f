"""Group commit: batches of several runs handed over together share one transaction; a batch
that cannot be written (a seq already taken) fails alone, the others are committed."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa

from finstream import events as ev
from finstream.store import AsyncStore
from finstream.store.group_commit import GroupCommitter
from tests.support.db import open_turns


def deltas(mid: str, first: int, n: int) -> list[ev.Event]:
    return [ev.TextDelta(seq=first + i, message_id=mid, text=f"t{first + i} ") for i in range(n)]


async def test_concurrent_batches_commit_together_and_read_back(store):
    astore = AsyncStore(store)
    committer = GroupCommitter(astore)
    convs = open_turns(store, 6)
    try:
        # First a lone batch (written at once), then five more handed over while it is in flight.
        first = asyncio.ensure_future(committer.append_batch(convs[0][0], deltas(convs[0][1], 1, 3)))
        await asyncio.sleep(0)
        await asyncio.gather(first, *(committer.append_batch(cid, deltas(mid, 1, 3)) for cid, mid in convs[1:]))
        assert committer.batches == 6 and committer.groups < 6
        for cid, _ in convs:
            assert [e.text for e in store.read_events(cid)] == ["t1 ", "t2 ", "t3 "]
    finally:
        astore._pool.shutdown(wait=True)


async def test_a_failing_batch_fails_alone(store):
    astore = AsyncStore(store)
    committer = GroupCommitter(astore, min_gap=0.05)
    (a, ma), (b, mb) = open_turns(store, 2)
    store.append_batch(a, deltas(ma, 1, 2))
    store.append_batch(a, [ev.Error(seq=3, message_id=ma, code="interrupted", message="x")])
    try:
        await committer.append_batch(b, deltas(mb, 1, 1))  # sets the min_gap clock: next ones queue
        results = await asyncio.gather(
            committer.append_batch(a, deltas(ma, 3, 2)),  # seq 3 is taken
            committer.append_batch(b, deltas(mb, 2, 2)),
            return_exceptions=True,
        )
        assert isinstance(results[0], sa.exc.IntegrityError) and results[1] is None
        assert [e.seq for e in store.read_events(b)] == [1, 2, 3]
        assert [e.seq for e in store.read_events(a)] == [1, 2, 3]
    finally:
        astore._pool.shutdown(wait=True)


@pytest.mark.parametrize("release", [False, True])
def test_append_batches_applies_patches_per_batch(store, release):
    from finstream.store import MessagePatch

    pairs = open_turns(store, 2)
    patch = MessagePatch(append_text="t1 ", status="complete", release=True) if release else None
    store.append_batches([(cid, deltas(mid, 1, 1), mid, patch) for cid, mid in pairs])
    for cid, mid in pairs:
        assert store.last_seq(cid) == 1
        conv = store.get_conversation(cid)
        assert (conv.active_message_id is None) == release
        if release:
            assert store.get_message(mid).text == "t1 "
