"""Runs: one background task per assistant message, an append-only event log, and tailers.

A run drives ``finstream.agent.run_turn``; every event is fanned out in memory to live tailers at
once and appended to the log in small batches (see writer.py: a flush every ``batch_size`` events
or ``flush_interval`` seconds, and at once on artifacts and the terminal event). The manager
holds its parts: ``live`` (this process's runs, state.py), ``tailer`` (tail.py: tailing from any
cursor), the log writer per run (writer.py) and the guard (guard.py). No consumer owns a run;
only ``stop`` ends it early.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections.abc import AsyncGenerator, Callable
from typing import Any, TypedDict

from finstream import events as ev
from finstream import transcript
from finstream.agent import CONTINUE_PROMPT, Turn, run_turn, system_prompt
from finstream.filings.model import Filing
from finstream.providers.base import Provider
from finstream.runs.guard import TextGuard, repair_log, storage_ending
from finstream.runs.options import RunOptions
from finstream.runs.owner import instance_id, owner_is_dead
from finstream.runs.state import LiveRuns, _Run
from finstream.runs.status import run_status
from finstream.runs.tail import Tailer, log_listener
from finstream.runs.writer import EventLogWriter
from finstream.store import AsyncStore, ConversationBusyError, MessagePatch, NotFoundError, Store
from finstream.store.group_commit import GroupCommitter
from finstream.store.records import DocumentInfo, Message
from finstream.store.records import Turn as ClaimedTurn
from finstream.store.transcript import ApiMessage
from finstream.store.versions import Pair, history_pairs, root_of, threads
from finstream.textclean import clean_text
from finstream.tools.base import Toolbox

__all__ = ["RunBusyError", "RunManager", "RunOptions"]

log = logging.getLogger(__name__)


class _LogOptions(TypedDict):
    """How each run's EventLogWriter batches (see finstream/store/writer.py)."""

    batch_size: int
    interval: float


class RunBusyError(ConversationBusyError):
    """A run is already streaming in this conversation (in this or another process)."""


class RunManager:
    """Starts, stops and tails runs. All methods run on one asyncio loop."""

    def __init__(
        self,
        store: Store | AsyncStore,
        provider_factory: Callable[[], Provider],
        toolbox: Toolbox,
        settings: Any,
        *,
        batch_size: int = 1024,  # runs of deltas are one row each: big batches cost little
        # 0: a run's next batch goes out as soon as its last one is written; group commit gathers
        # batches across runs, so committed-only tailers (SSE, WS) wait about one commit.
        flush_interval: float = 0.0,
        poll_interval: float = 0.2,
        heartbeat_interval: float | None = None,
        stale_after: float | None = None,
        listen: bool = True,
        notify_fallback: float = 2.0,
    ) -> None:
        astore = store if isinstance(store, AsyncStore) else AsyncStore(store)
        self.store: AsyncStore = astore  # the typed adapter; its parts get the protocols they use
        self.provider_factory = provider_factory
        self.toolbox = toolbox
        self.settings = settings
        # How each run's EventLogWriter batches (see finstream/store/writer.py).
        self.log_options: _LogOptions = {"batch_size": batch_size, "interval": flush_interval}
        self.poll_interval = poll_interval  # how often ``wait`` looks at a run in another process
        # Settings (FINSTREAM_HEARTBEAT_SECONDS, FINSTREAM_STALE_AFTER_SECONDS) unless given.
        settings_heartbeat: float = getattr(settings, "heartbeat_seconds", 5.0)
        self.heartbeat_interval = heartbeat_interval or settings_heartbeat
        self.stale_after = stale_after or getattr(settings, "stale_after_seconds", 30.0)
        self.live = LiveRuns()  # this process's runs: added and forgotten here, read by the tailer
        # PostgreSQL: follow other processes' runs by LISTEN/NOTIFY (tail.py); polling stays
        # the fallback, every ``notify_fallback`` seconds while notifications flow.
        self.tailer = Tailer(self.store, self.live, log_listener(astore.sync) if listen else None,
                             poll_interval=poll_interval, notify_fallback=notify_fallback)
        # Every run's log batches go through one group committer (store/group_commit.py).
        self.log_store = GroupCommitter(astore)
        self.instance_id = instance_id()
        self._housekeeper: asyncio.Task | None = None
        self._repairs: dict[str, asyncio.Task] = {}  # conversation_id -> log repair after a failure
        self.guard = TextGuard.from_settings(settings)  # NUL/secret scrubbing of run events

    # ---------------------------------------------------------------- lifecycle

    async def recover(self) -> list[str]:
        """At start-up: mark messages of dead processes "interrupted" (see Store)."""
        return await self.store.mark_streaming_interrupted(
            is_dead=lambda owner: owner_is_dead(owner, self.instance_id),
            stale_after=self.stale_after,
        )

    def start_housekeeping(self) -> None:
        """Heartbeat this process's runs and sweep other processes' dead ones, periodically."""
        if self._housekeeper is None or self._housekeeper.done():
            self._housekeeper = asyncio.get_running_loop().create_task(self._housekeep())

    async def _housekeep(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_interval)
            try:
                await self.store.heartbeat(self.live.message_ids())
                await self.recover()
            except Exception:  # a database hiccup must not kill housekeeping
                if sys.is_finalizing() or self.store.closed:
                    return  # the process is exiting: its pool takes no more work; nothing to say
                log.exception("run housekeeping failed")

    async def shutdown(self) -> None:
        """End every local run as "interrupted" (continuable, as after a crash, but with its
        terminal event logged at once), and housekeeping."""
        if self._housekeeper:
            self._housekeeper.cancel()
        for conversation_id in self.live.conversations():
            await self.stop(conversation_id, reason="interrupted")
        await self.tailer.close()

    def tail(
        self, conversation_id: str, *, after_seq: int = 0, message_id: str | None = None,
        follow: bool = True, accumulated: bool = True, durable: bool = False,
    ) -> AsyncGenerator[ev.Event, None]:
        """The conversation's events after ``after_seq``, from the log and then live (see
        Tailer.tail)."""
        return self.tailer.tail(conversation_id, after_seq=after_seq, message_id=message_id,
                                follow=follow, accumulated=accumulated, durable=durable)

    @property
    def active_runs(self) -> int:
        """Runs streaming in this process now."""
        return len(self.live)

    # ---------------------------------------------------------------- runs

    async def start(
        self, conversation_id: str, question: str, options: RunOptions | None = None
    ) -> str:
        """Ask ``question``; returns the assistant message id. Raises RunBusyError, NotFoundError,
        ValueError (empty question). ``options``: this run's model and limits."""
        question = clean_text(question)
        legacy = await self._legacy_rows(conversation_id)
        turn = await self._claim(conversation_id, question)
        rows = [*legacy, {"role": "user", "content": question}]
        return await self._launch(turn, rows, "", options)

    async def continue_message(
        self, conversation_id: str, message_id: str, options: RunOptions | None = None
    ) -> str:
        """Continue an incomplete/interrupted/stopped answer into the same message.

        No prefill (current models reject a conversation ending with the assistant): the text
        written since the last complete response goes back as an assistant message followed by a
        user message asking to go on; when there is none (the cut came between rounds), the same
        request is simply sent again. Either way the new text is appended to the same message.
        """
        legacy = await self._legacy_rows(conversation_id, until=message_id)
        turn = await self._claim(conversation_id, None, continue_message_id=message_id)
        prefix = turn.assistant.text
        rows = list(legacy)
        mine = [] if legacy else [
            r for r in await self.store.api_messages(conversation_id) if r.message_id == message_id
        ]
        said = max((int(r.meta.get("text_end") or 0) for r in mine), default=0)
        partial = prefix[said:].lstrip()  # (the gap before a later round is not the model's)
        if partial:
            rows.append({"role": "assistant", "content": [{"type": "text", "text": partial}]})
            rows.append({"role": "user", "content": CONTINUE_PROMPT})
        elif mine and mine[-1].role == "assistant":
            rows.append({"role": "user", "content": CONTINUE_PROMPT})
        root = root_of(await self.store.list_messages(conversation_id), message_id)
        return await self._launch(turn, rows, prefix, options, before_root=root)

    async def _legacy_rows(
        self, conversation_id: str, until: str | None = None, *, before_root: str | None = None
    ) -> list[dict]:
        """A conversation from before the transcript existed: its text history, written into the
        transcript once (so every later request starts from the same messages). [] otherwise."""
        has_transcript, messages, exists = await self.store.run(_history_sources, self.store.sync, conversation_id)
        if has_transcript:
            return []
        if not exists:
            raise NotFoundError(f"conversation {conversation_id}: not found")
        history = _history(messages, until=until, before_root=before_root)
        if until is not None and history and history[-1]["role"] == "assistant":
            history.pop()  # continuing: the message's own text goes back as its partial
        return history

    async def _claim(
        self, conversation_id: str, question: str | None, *, continue_message_id: str | None = None,
        replaces: str | None = None,
    ) -> ClaimedTurn:
        """The store's begin_turn, with a busy conversation (here or elsewhere) as RunBusyError."""
        running = self.live.in_conversation(conversation_id)
        if running is not None:
            raise RunBusyError(conversation_id, running.message_id)
        repair = self._repairs.get(conversation_id)
        if repair is not None:
            # The last answer's log is being repaired after a storage failure: the database
            # answers again if we got this far, so let the repair finish (and free the row) first.
            await asyncio.wait({repair}, timeout=10)
        try:
            return await self.store.begin_turn(conversation_id, question, owner=self.instance_id,
                                               continue_message_id=continue_message_id,
                                               replaces=replaces)
        except ConversationBusyError as exc:
            raise RunBusyError(conversation_id, exc.message_id) from None

    async def ask_again(
        self, conversation_id: str, message_id: str, question: str | None = None,
        options: RunOptions | None = None,
    ) -> str:
        """Ask an earlier question again (``question`` = its edited text, None = the same text, i.e.
        regenerate the answer). A new version of that exchange: the earlier one is kept."""
        messages = await self.store.list_messages(conversation_id)
        root = root_of(messages, message_id)
        if root is None:
            raise NotFoundError(f"message {message_id}: not found in conversation {conversation_id}")
        thread = next(t for t in threads(messages) if t.root == root)
        asked = thread.current.question
        text = question if question is not None else (asked.text if asked is not None else "")
        legacy = await self._legacy_rows(conversation_id, before_root=root)
        turn = await self._claim(conversation_id, text, replaces=asked.id if asked is not None else None)
        rows = [*legacy, {"role": "user", "content": text}]
        return await self._launch(turn, rows, "", options, before_root=root)

    async def _transcript(
        self, conversation_id: str, message_id: str, before_root: str | None
    ) -> list[ApiMessage]:
        """The transcript rows this answer builds on: those of the current version of each
        earlier exchange (before ``before_root``, the exchange asked again, when given) and its
        own. Versions left behind by an edit or a regenerate are kept but not sent."""
        messages, rows = await self.store.run(_messages_and_transcript, self.store.sync, conversation_id)
        order = [p.answer.id for p in history_pairs(messages, before_root=before_root)
                 if p.answer is not None and p.answer.id != message_id]
        order.append(message_id)
        groups: dict[str, list[ApiMessage]] = {mid: [] for mid in order}
        for row in rows:
            if row.message_id in groups:
                groups[row.message_id].append(row)
        # Each exchange at the place it was first asked (an edit keeps its place), rows in order.
        return [row for mid in order for row in groups[mid]]

    async def _launch(
        self, claimed: ClaimedTurn, rows: list[dict], prefix: str, options: RunOptions | None,
        before_root: str | None = None,
    ) -> str:
        conversation_id, message_id = claimed.conversation_id, claimed.assistant.id
        seq_start = claimed.seq_start
        run = _Run(conversation_id, message_id, seq_start, prefix)
        self.live.add(run)
        limits = (options or RunOptions()).resolve(self.settings)
        try:
            filings, documents = await self.store.run(_filings_and_documents, self.store.sync, conversation_id)
            counts = await self._artifact_counts(message_id) if prefix or seq_start > 1 else {}
            failed = [{"filename": d.filename, "error": d.error} for d in documents if d.error]
            await self.store.append_api_messages(conversation_id, message_id, rows)
            model = limits["model"] or getattr(self.settings, "model", None)
            history = transcript.prepare(
                await self._transcript(conversation_id, message_id, before_root),
                system=system_prompt(filings, failed), model=model,
            )
            turn = Turn(conversation_id, message_id, history, filings, seq_start, prefix, counts, failed)
            provider = self.provider_factory()
        except BaseException:
            await self._abort_launch(run)
            raise

        async def record(messages: list[dict], meta: dict) -> None:
            await self.store.append_api_messages(conversation_id, message_id, messages, meta)

        limits["record"] = record
        run.task = asyncio.get_running_loop().create_task(self._drive(run, provider, turn, limits))
        # Heartbeats keep other processes from taking a long run for a dead one.
        self.start_housekeeping()
        return message_id

    async def _artifact_counts(self, message_id: str) -> dict[str, int]:
        counts: dict[str, int] = {}
        for a in await self.store.message_artifacts(message_id):
            counts[a.kind] = max(counts.get(a.kind, 0), a.index + 1)
        return counts

    async def _abort_launch(self, run: _Run) -> None:
        self.live.forget(run)
        patch = MessagePatch(status=run_status(False, "error"), stop_reason="error", release=True)
        await self.store.append_batch(run.conversation_id, [], message_id=run.message_id, patch=patch)
        run.finish()

    async def _drive(self, run: _Run, provider: Provider, turn: Turn, limits: dict[str, Any]) -> None:
        writer = EventLogWriter(
            self.log_store, run.conversation_id, run.message_id, on_durable=run.durable, **self.log_options
        )
        next_seq = turn.seq_start
        ending: list[ev.Event] = []  # the terminal event (with its error, when we make one)
        agent = run_turn(provider, self.toolbox, turn, **limits)
        guard = self.guard
        plain_text = guard.passes_text  # no secrets: a text delta needs only its text cleaned
        text_delta = ev.TextDelta
        try:
            async for raw in agent:
                if plain_text and type(raw) is text_delta:  # most events: the hot path
                    seq = raw.__dict__["seq"]
                    text = guard.clean_delta(raw)  # as guard.events(raw) does without secrets
                    next_seq = seq + 1
                    run.publish_text(raw, seq, text)
                    if writer.add_text(raw, text):
                        await writer.drain()
                    if writer.failure is not None:
                        break
                    continue
                # Cleaned (NUL, lone surrogates), secrets redacted, renumbered (guard.py).
                for event in guard.events(raw):
                    if isinstance(event, ev.MessageComplete):
                        ending.append(event)
                        continue
                    next_seq = event.seq + 1
                    run.publish(event)
                    if writer.add_nowait(event):
                        await writer.drain()
                if writer.failure is not None:
                    break  # the log cannot keep up: the answer must not go on as if saved
        except asyncio.CancelledError:
            if run.stop_reason == "interrupted":  # the server is shutting down
                ending.append(ev.Error(
                    seq=next_seq, message_id=run.message_id, code="interrupted",
                    message="The server restarted while this answer was streaming; "
                    "it can be continued.", retryable=True,
                ))
            ending.append(ev.MessageComplete(
                seq=next_seq + len(ending), message_id=run.message_id, success=False,
                stop_reason=run.stop_reason,
            ))
        except Exception as exc:  # run_turn never raises, but a run must always end cleanly
            log.exception("run %s failed", run.message_id)
            ending = [
                ev.Error(seq=next_seq, message_id=run.message_id, code="internal",
                         message=f"{type(exc).__name__}: {exc}", retryable=True),
                ev.MessageComplete(seq=next_seq + 1, message_id=run.message_id, success=False,
                                   stop_reason="error"),
            ]
        finally:
            self.guard.forget(run.message_id)
            with contextlib.suppress(BaseException):
                if isinstance(agent, AsyncGenerator):  # run_turn is an async generator
                    await agent.aclose()
        try:
            if writer.failure is None:
                for event in ending:
                    writer.add_nowait(event)
                await asyncio.shield(writer.close())
        except asyncio.CancelledError:
            pass  # stopped again while finishing: the shielded write still completes
        except Exception as exc:
            log.exception("run %s: final write failed", run.message_id)
            writer.failure = writer.failure or exc
        if writer.final is None and writer.failure is not None:
            # Not durable: tell every client so (never a success), and save it all later.
            error, done = storage_ending(run.message_id, next_seq, writer.failure)
            ending = [error, done]
            self._repair(run, writer, error, ending)
        # The terminal event reaches tailers only once it is durable and the conversation is
        # free, so a client may ask its next question the moment it sees message_complete.
        self.live.forget(run)
        for event in ending:
            run.publish(event, durable=True)  # to every tailer: nothing follows it
        run.finish()

    def _repair(self, run: _Run, writer: EventLogWriter, error_event: ev.Error, ending: list[ev.Event]) -> None:
        """Write what a failed writer kept, the storage error and the release, once the database
        takes writes again; until then the conversation is free in this process."""
        unsaved: list[ev.Event] = [e for e in writer.unsaved
                                   if not isinstance(e, ev.MessageComplete) and e.seq < error_event.seq]
        error = {"code": "storage", "message": error_event.message, "retryable": True}
        patch = MessagePatch(append_text="".join(writer.chunks),
                             status=run_status(False, "error", error), stop_reason="error",
                             error=error, release=True)
        task = asyncio.get_running_loop().create_task(
            repair_log(self.store, run.conversation_id, run.message_id, unsaved + ending, patch)
        )
        cid = run.conversation_id
        self._repairs[cid] = task

        def forget_repair(done: asyncio.Task[None]) -> None:
            if self._repairs.get(cid) is done:
                self._repairs.pop(cid, None)

        task.add_done_callback(forget_repair)

    async def stop(self, conversation_id: str, *, reason: str = "stopped") -> bool:
        """Cancel the conversation's local run; it ends with message_complete(stopped).
        Returns False when no run streams here in this process."""
        run = self.live.in_conversation(conversation_id)
        if run is None or run.task is None:
            return False
        run.stop_reason = reason
        run.task.cancel()
        await run.done.wait()
        return True

    def active_message(self, conversation_id: str) -> str | None:
        """The message a local run is streaming into, if any."""
        run = self.live.in_conversation(conversation_id)
        return run.message_id if run else None

    async def wait(self, message_id: str) -> dict:
        """Wait for the message's run to end (local or remote); return its text, status,
        stop_reason, usage, error and artifacts."""
        run = self.live.of_message(message_id)
        if run is not None:
            await run.done.wait()
        while True:
            msg = await self.store.get_message(message_id)
            if msg is None:
                raise NotFoundError(f"message {message_id}: not found")
            if msg.status != "streaming" or self.live.of_message(message_id) is not None:
                break
            await asyncio.sleep(self.poll_interval)  # a run in another process
        if self.live.of_message(message_id) is not None:
            return await self.wait(message_id)  # continued meanwhile
        arts = await self.store.message_artifacts(message_id)
        checks = (await self.store.message_checks([message_id])).get(message_id, [])
        return {
            "message_id": message_id, "conversation_id": msg.conversation_id, "text": msg.text,
            "status": msg.status, "stop_reason": msg.stop_reason, "usage": msg.usage or {},
            "error": msg.error,
            "artifacts": [{"kind": a.kind, "index": a.index, "seq": a.seq, "data": a.data} for a in arts],
            "verification": checks,  # the text's numbers, checked (artifacts carry their own)
        }


# Reads the manager makes together, each pair in one trip to the store's threads (a trip costs
# more CPU than a small read itself).


def _history_sources(store: Store, conversation_id: str) -> tuple[bool, list[Message], bool]:
    """Whether the conversation has a transcript; if not, its messages and whether it exists."""
    if store.has_api_messages(conversation_id):
        return True, [], True
    messages = store.list_messages(conversation_id)
    return False, messages, bool(messages) or store.get_conversation(conversation_id) is not None


def _filings_and_documents(store: Store, conversation_id: str) -> tuple[list[Filing], list[DocumentInfo]]:
    return store.filings(conversation_id), store.list_documents(conversation_id)


def _messages_and_transcript(store: Store, conversation_id: str) -> tuple[list[Message], list[ApiMessage]]:
    return store.list_messages(conversation_id), store.api_messages(conversation_id)


def _history(messages: list[Message], *, until: str | None = None, before_root: str | None = None) -> list[dict]:
    """Anthropic-format history from earlier messages (text only), alternating roles: the
    current version of each exchange (see finstream/store/versions.py)."""
    if until is not None:
        root = root_of(messages, until)
        chosen = history_pairs(messages, before_root=root)
        own = next((p for t in threads(messages) if t.root == root for p in t.versions
                    if p.answer is not None and p.answer.id == until), None)
        if own is not None:
            chosen.append(Pair(own.question, None))
    else:
        chosen = history_pairs(messages, before_root=before_root)
    out: list[dict] = []
    for m in (m for p in chosen for m in (p.question, p.answer) if m is not None):
        if not m.text.strip():
            continue
        if out and out[-1]["role"] == m.role:
            out[-1]["content"] += "\n\n" + m.text  # the API wants roles to alternate
        else:
            out.append({"role": m.role, "content": m.text})
    if out and out[0]["role"] == "assistant":
        out.pop(0)
    if out and out[-1]["role"] == "user" and until is None:
        out.pop()  # an unanswered question: the new one replaces it
    return out
