"""The durable update inbox: stored updates handled lane by lane, retried, parked, never lost.

A lane is one chat (or, for updates without a chat, one user): its updates run one at a time in
update_id order, so a conversation sees its messages in order, while many lanes run at once (up
to ``max_lanes``). A slow lane, waiting out a 429 or a long handler or a flood, holds only its own
chat. An update that aiogram cannot parse, or whose handling hits a transient fault (storage,
network), is retried with backoff and parked after ``max_attempts``; its lane goes on.

Several processes share one inbox (webhook replicas, or a poller beside them): a lane is leased
in the database to one of them at a time. The process that stores an update claims its lane in
the same transaction; if another holds it, that one finds the update before it lets the lane
go (a release happens only when nothing waits in the lane). Leases are renewed every third of
``lease``; a dead process's lanes lapse and are taken over by the next scan elsewhere.

At least once: a row is marked done shortly after it is handled (in batches, before its lane is
released), so an update handled in the last moments before a crash is handled again after the
restart. Handlers are idempotent (payments are keyed by their charge id).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

import orjson
from aiogram import Bot, Dispatcher
from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods import TelegramMethod
from aiogram.types import Update
from pydantic import ValidationError

from bot.domain.clock import Clock
from bot.domain.provenance import HANDLING_UPDATE
from bot.lru import LRU
from bot.runtime.metrics import DONE, PARKED, RETRIED, Metrics
from bot.services.users import Contact, UserService
from bot.storage.database import Database
from bot.storage.errors import StorageError
from bot.storage.fsm import DatabaseStorage
from bot.storage.repositories.inbox import InboxRow

log = logging.getLogger(__name__)

# Kinds whose object carries the chat it happened in.
_CHAT_KINDS = (
    "message",
    "edited_message",
    "channel_post",
    "edited_channel_post",
    "business_message",
    "edited_business_message",
    "message_reaction",
    "message_reaction_count",
    "my_chat_member",
    "chat_member",
    "chat_join_request",
    "chat_boost",
    "removed_chat_boost",
)
FLUSH_EVERY = 0.05  # seconds between two "done" batches (and lane releases)
SCAN_EVERY = (
    1.0  # lapsed lanes, and rows put back by `python -m bot inbox --retry`, found this soon
)
PRUNE_EVERY = 600.0
SCAN_LIMIT = 1000  # lanes taken over in one scan
RECENTLY_DONE = 100_000  # update ids remembered as done, beyond the rows in hand


class ParkedUpdate(Exception):
    """Why an update was given up on: kept in ``last_error`` without any user text."""


def describe(raw: dict[str, Any]) -> tuple[str, str, int | None]:
    """(lane, kind, sender) of a raw update, tolerating any shape Telegram might send."""
    kind = next((key for key in raw if key != "update_id"), "unknown")
    body = raw.get(kind)
    body = body if isinstance(body, dict) else {}
    sender = body.get("from") or body.get("user")
    user_id = sender.get("id") if isinstance(sender, dict) else None
    user_id = user_id if isinstance(user_id, int) else None
    chat = body.get("chat") if kind in _CHAT_KINDS else None
    if kind == "callback_query" and isinstance(body.get("message"), dict):
        chat = body["message"].get("chat")
    chat_id = chat.get("id") if isinstance(chat, dict) else None
    if isinstance(chat_id, int):
        return str(chat_id), kind, user_id
    if user_id is not None:
        return str(user_id), kind, user_id  # a user's private chat has the user's id
    return f"update:{raw.get('update_id')}", kind, user_id


# Kinds whose sender aiogram hands to the user middleware, which registers them.
_CONTACT_KINDS = (
    "message",
    "edited_message",
    "callback_query",
    "inline_query",
    "pre_checkout_query",
)


def first_contact(raw: dict[str, Any]) -> Contact | None:
    """The sender the user middleware will register for this update, when it is plainly one."""
    kind = next((key for key in raw if key != "update_id"), None)
    body = raw.get(kind) if kind in _CONTACT_KINDS else None
    sender = body.get("from") if isinstance(body, dict) else None
    if not isinstance(sender, dict) or sender.get("is_bot") is not False:
        return None
    user_id, name, language = (
        sender.get("id"),
        sender.get("first_name"),
        sender.get("language_code"),
    )
    if (
        type(user_id) is not int
        or not 0 < user_id < 2**52
        or not isinstance(name, str)
        or "\x00" in name
        or not (language is None or (isinstance(language, str) and len(language) <= 35))
    ):
        return None  # anything odd takes the middleware's own path, one update at a time
    return Contact(user_id, name, language)


def _json(raw: dict[str, Any]) -> str:
    """The update as stored: UTF-8 by orjson (a tenth of json's cost); \\u escapes where a
    client sent a lone surrogate (broken UTF-16), which neither orjson nor any database accepts
    as text, or a number beyond 64 bits."""
    try:
        return orjson.dumps(raw).decode()
    except orjson.JSONEncodeError:
        return json.dumps(raw, separators=(",", ":"))


def _text(value: str) -> str:
    return value.encode("utf-8", "replace").decode("utf-8")[:64]


def _error_text(exc: BaseException) -> str:
    """The exception type and, for our own errors, a short reason; never an update's text."""
    if isinstance(exc, ValidationError):
        fields = sorted({".".join(str(p) for p in e["loc"]) for e in exc.errors()})[:3]
        return f"unparseable: {', '.join(fields)}"
    if isinstance(exc, StorageError | ParkedUpdate):
        return f"{type(exc).__name__}: {str(exc)[:200]}"
    return type(exc).__name__


OnParked = Callable[[InboxRow, Update | None, BaseException], Awaitable[None]]
# Asked before an update is tried again: True when its first try committed money, so the
# person was told what happened instead (handlers would now run in a changed state).
OnRetry = Callable[[InboxRow], Awaitable[bool]]


class Inbox:
    def __init__(
        self,
        db: Database,
        dispatcher: Dispatcher,
        bot: Bot,
        clock: Clock,
        *,
        max_lanes: int = 64,
        max_attempts: int = 5,
        retention: timedelta = timedelta(days=2),
        first_backoff: float = 0.5,
        max_backoff: float = 60.0,
        on_parked: OnParked | None = None,
        on_retry: OnRetry | None = None,
        users: UserService | None = None,
        owner: str = "local",
        lease: timedelta = timedelta(seconds=5),
        exclusive: bool = True,
        metrics: Metrics | None = None,
    ) -> None:
        self.db = db
        self.dispatcher = dispatcher
        self.bot = bot
        self.clock = clock
        self.max_lanes = max_lanes
        self.max_attempts = max_attempts
        self.retention = retention
        self.first_backoff = first_backoff
        self.max_backoff = max_backoff
        self.on_parked = on_parked
        self.on_retry = on_retry
        self.users = users
        self.owner = owner  # this process, as the lanes table names it
        self.lease = lease
        self.exclusive = exclusive  # no other process can be running (SQLite's file lock)
        self.metrics = metrics
        # Lanes whose lease this process holds, with the claim count when each was claimed.
        self._owned: dict[str, int] = {}
        self._claims = 0
        self._releasing: set[str] = set()  # owned, nothing left here: to be let go
        self._renewed = 0.0  # loop time of the last renewal that reached the database
        self._renewal = asyncio.Event()
        self._lanes: dict[str, deque[InboxRow]] = {}
        self._running: dict[str, asyncio.Task[None]] = {}
        self._waiting: deque[str] = deque()
        self._done: dict[int, datetime] = {}  # handled, not yet recorded: when each finished
        self._in_hand: set[int] = set()  # queued or running, not yet recorded as done
        # Recorded as done lately: a read that began before the record may still list them.
        self._finished: LRU[int, bool] = LRU(RECENTLY_DONE)
        self._flusher: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._flushing = asyncio.Lock()

    # --- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> int:
        """Take up what a previous run left undone. Returns how many rows that is."""
        async with self.db.unit_of_work() as uow:
            # Alone on the database, nobody else can hold a lane: the leases of the run before
            # lapse at once. Beside others, only a lapsed lease is taken over.
            await uow.leases.lapse(self.clock.now(), None if self.exclusive else self.owner)
        self._renewed = asyncio.get_running_loop().time()
        taken = 0
        while found := await self.take_over():
            taken += found
            if found < SCAN_LIMIT:
                break
        self._stopping.clear()
        self._flusher = asyncio.create_task(self._flush_forever())
        if taken:
            log.info("event=inbox_resumed rows=%d", taken)
        return taken

    async def stop(self, grace: float) -> None:
        """Let running lanes finish within ``grace`` seconds; cancel the rest (they stay in the
        inbox, not done, and run after the restart). Then record what is done."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), timeout=grace)
        for task in list(self._running.values()):
            task.cancel()
        await asyncio.gather(*self._running.values(), return_exceptions=True)
        if self._flusher is not None:
            # Asked, not cancelled: a cancelled flush would abort its transaction half-way.
            self._stopping.set()
            try:
                await asyncio.wait_for(asyncio.shield(self._flusher), timeout=grace + 1)
            except TimeoutError:
                self._flusher.cancel()
            await asyncio.gather(self._flusher, return_exceptions=True)
        with contextlib.suppress(StorageError):
            await self._flush()
            # What is left in hand goes to another process now, not when the leases lapse.
            async with self.db.unit_of_work() as uow:
                await uow.leases.lapse(self.clock.now(), self.owner)
            self._owned.clear()

    @property
    def busy(self) -> bool:
        return bool(self._running or self._lanes)

    async def wait_idle(self) -> None:
        await self._idle.wait()

    # --- accepting -----------------------------------------------------------------------------

    async def accept(self, updates: Iterable[dict[str, Any]]) -> int | None:
        """Store raw updates (one unit of work), then queue them in their lanes.

        Returns the newest update_id stored, which the caller may now confirm to Telegram.
        Raises StorageError when they could not be stored: then nothing may be confirmed.
        """
        now = self.clock.now()
        rows = []
        contacts: dict[int, Contact] = {}
        for raw in updates:
            update_id = raw.get("update_id") if isinstance(raw, dict) else None
            if not isinstance(update_id, int):
                log.warning("event=inbox_update_without_id")
                continue
            lane, kind, user_id = describe(raw)
            row = InboxRow(update_id, lane, _text(kind), user_id, _json(raw), now, 0, now)
            row.received = raw
            rows.append(row)
            contact = first_contact(raw)
            if contact is not None:
                contacts[update_id] = contact
        if not rows:
            return None
        async with self.db.unit_of_work() as uow:
            # Telegram sends again what was not confirmed before a crash: those rows are
            # already here (done, or queued since start-up) and must not run twice.
            known = await uow.inbox.known([row.update_id for row in rows])
            fresh = [row for row in rows if row.update_id not in known]
            await uow.inbox.add(fresh)
            # Their lanes, unless another process holds one: it finds the row before it lets go.
            claimed = await uow.leases.claim_lanes(
                {row.lane for row in fresh}, self.owner, now, now + self.lease
            )
            # What others stored in these lanes goes first. Alone on the database, this
            # process knows every waiting row already (the scans at start and every second
            # queue what an operator puts back).
            earlier = [] if self.exclusive else await uow.inbox.waiting_in(claimed.keys())
        self._took(claimed)
        if self.metrics is not None:
            for row in fresh:
                self.metrics.received_update(row.kind)
        await self._register([contacts[r.update_id] for r in fresh if r.update_id in contacts])
        mine = {row.update_id: row for row in fresh}
        self._enqueue(mine.get(row.update_id, row) for row in earlier)  # older ones first
        self._enqueue([row for row in fresh if row.lane in claimed])
        self._let_go_if_empty(claimed)
        return max(row.update_id for row in rows)

    def _took(self, claimed: dict[str, str | None]) -> None:
        """Hold the claimed lanes; those another process held last may have changed chats."""
        handed = [lane for lane, previous in claimed.items() if previous != self.owner]
        if handed:
            self.db.lanes_changed_hands(handed)
        self._claims += 1
        self._owned.update(dict.fromkeys(claimed, self._claims))

    async def _register(self, contacts: list[Contact]) -> None:
        """New senders in one transaction before their updates run (a burst of first /starts
        would otherwise be a transaction each). The updates are stored already: if this fails,
        each is registered by the user middleware as it runs."""
        if self.users is None or not contacts:
            return
        try:
            new = await self.users.register(contacts)
        except StorageError as exc:
            log.warning("event=register_batch_failed users=%d error=%s", len(contacts), exc)
            return
        storage = self.dispatcher.fsm.storage
        if new and isinstance(storage, DatabaseStorage):
            storage.start_empty(self.bot.id, new)

    def _let_go_if_empty(self, lanes: Iterable[str]) -> None:
        """A lane claimed with nothing to do here (what it held is done) is released."""
        for lane in lanes:
            if lane not in self._lanes:
                self._releasing.add(lane)

    def _enqueue(self, rows: Iterable[InboxRow]) -> int:
        """Queue rows not queued, running or done already; returns how many."""
        queued = 0
        for row in rows:
            if row.update_id in self._in_hand or self._finished.get(row.update_id):
                continue
            queued += 1
            self._in_hand.add(row.update_id)
            self._releasing.discard(row.lane)
            queue = self._lanes.get(row.lane)
            if queue is None:
                queue = self._lanes[row.lane] = deque()
            if queue and row.update_id < queue[-1].update_id:
                # Stored by another process meanwhile: in update_id order, behind a head that
                # is being handled.
                first = 1 if row.lane in self._running else 0
                position = len(queue)
                while position > first and queue[position - 1].update_id > row.update_id:
                    position -= 1
                queue.insert(position, row)
            else:
                queue.append(row)
            self._idle.clear()
            if row.lane not in self._running and row.lane not in self._waiting:
                self._schedule(row.lane)
        return queued

    def _schedule(self, lane: str) -> None:
        if len(self._running) < self.max_lanes:
            self._running[lane] = asyncio.create_task(self._run_lane(lane), name=f"lane {lane}")
        else:
            self._waiting.append(lane)

    # --- handling --------------------------------------------------------------------------------

    async def _run_lane(self, lane: str) -> None:
        queue = self._lanes[lane]
        try:
            while queue:
                if not await self._lease_holds(lane):
                    self._in_hand.difference_update(r.update_id for r in queue)
                    queue.clear()  # another process has the lane and finds the rows itself
                    break
                row = queue[0]
                delay = (row.next_attempt_at - self.clock.now()).total_seconds()
                if delay > 0:
                    await asyncio.sleep(delay)
                if await self._handle(row):
                    queue.popleft()
                    if row.update_id not in self._done:
                        self._in_hand.discard(row.update_id)  # parked
        finally:
            if not queue:
                self._lanes.pop(lane, None)
                if lane in self._owned:
                    self._releasing.add(lane)
            self._running.pop(lane, None)
            while self._waiting and len(self._running) < self.max_lanes:
                self._schedule(self._waiting.popleft())
            if not self._running and not self._lanes:
                self._idle.set()

    async def _lease_holds(self, lane: str) -> bool:
        """True while this process may handle the lane: held, and renewed recently enough that
        the lease cannot have lapsed. While renewals fail (the database is away), wait."""
        loop = asyncio.get_running_loop()
        margin = self.lease.total_seconds() * 0.8
        while lane in self._owned and loop.time() - self._renewed > margin:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._renewal.wait(), timeout=1.0)
        return lane in self._owned

    async def _handle(self, row: InboxRow) -> bool:
        """Handle one row. True when the lane may move on (done or parked)."""
        started = time.perf_counter()
        done = await self._try(row)
        if self.metrics is not None:
            outcome = PARKED if done and row.update_id not in self._done else DONE
            self.metrics.handled_update(row.kind, outcome if done else RETRIED, started)
        return done

    async def _try(self, row: InboxRow) -> bool:
        update: Update | None = None
        try:
            if row.attempts and self.on_retry is not None and await self.on_retry(row):
                self._done[row.update_id] = self.clock.now()
                return True
            raw = row.received if row.received is not None else json.loads(row.payload)
            update = Update.model_validate(raw, context={"bot": self.bot})
            handling = HANDLING_UPDATE.set(row.update_id)
            try:
                response = await self.dispatcher.feed_update(self.bot, update)
                if isinstance(response, TelegramMethod):
                    await self.dispatcher.silent_call_request(self.bot, response)
            finally:
                HANDLING_UPDATE.reset(handling)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            return await self._failed(row, update, exc)
        self._done[row.update_id] = self.clock.now()
        return True

    async def _failed(self, row: InboxRow, update: Update | None, exc: Exception) -> bool:
        attempts = row.attempts + 1
        error = _error_text(exc)
        if attempts >= self.max_attempts:
            log.error(
                "event=inbox_parked update_id=%s update_type=%s user_id=%s attempts=%d error=%s",
                row.update_id,
                row.kind,
                row.user_id,
                attempts,
                error,
            )
            try:
                async with self.db.unit_of_work() as uow:
                    await uow.inbox.park(row.update_id, attempts, error, self.clock.now())
            except StorageError as store_error:
                # Still pending in the inbox, so a restart takes it up again; keep the lane going.
                log.error(
                    "event=inbox_park_failed update_id=%s error=%s",
                    row.update_id,
                    type(store_error).__name__,
                )
            if self.on_parked is not None:
                try:
                    await self.on_parked(row, update, exc)
                except Exception:
                    log.exception("event=inbox_parked_notice_failed update_id=%s", row.update_id)
            return True
        backoff = min(self.first_backoff * 2 ** (attempts - 1), self.max_backoff)
        if isinstance(exc, TelegramRetryAfter):
            backoff = max(backoff, float(exc.retry_after))
        row.attempts = attempts
        row.next_attempt_at = self.clock.now() + timedelta(seconds=backoff)
        row.last_error = error
        log.warning(
            "event=inbox_retry update_id=%s update_type=%s user_id=%s attempt=%d retry_in=%.1f"
            " error=%s",
            row.update_id,
            row.kind,
            row.user_id,
            attempts,
            backoff,
            error,
        )
        with contextlib.suppress(StorageError):
            async with self.db.unit_of_work() as uow:
                await uow.inbox.retry_later(row.update_id, attempts, row.next_attempt_at, error)
        return False

    # --- bookkeeping -----------------------------------------------------------------------------

    async def flush(self) -> None:
        """Record what was handled as done now, instead of with the next batch."""
        await self._flush()

    async def _flush(self) -> None:
        # One at a time: a flush that finds nothing to do must still wait for one under way,
        # or "flushed" could be reported before the rows are marked.
        async with self._flushing:
            if not self._done and not self._releasing:
                return
            done, self._done = self._done, {}
            releasing = set(self._releasing)
            try:
                async with self.db.unit_of_work() as uow:
                    await uow.inbox.mark_done(done)
                    released = await uow.leases.release_lanes(releasing, self.owner)
                    # Stored by another process while this one held the lane: ours to handle.
                    waiting = await uow.inbox.waiting_in(releasing - released)
            except BaseException:
                self._done = {**done, **self._done}  # again with the next batch (or the last)
                raise
            self._in_hand.difference_update(done)
            for update_id in done:
                self._finished.put(update_id, True)
            for lane in released:
                if lane in self._releasing:  # else an update came meanwhile, claimed again
                    self._releasing.discard(lane)
                    self._owned.pop(lane, None)
            self._enqueue(waiting)

    async def take_over(self) -> int:
        """Claim lanes with updates waiting and no live lease (a dead process's, a row put
        back by an operator, a release that raced a store) and queue them. Returns how many
        rows that queued."""
        now = self.clock.now()
        async with self.db.unit_of_work() as uow:
            lapsed = await uow.leases.unowned_lanes(now, SCAN_LIMIT)
            claimed = await uow.leases.claim_lanes(lapsed, self.owner, now, now + self.lease)
            rows = await uow.inbox.waiting_in(claimed.keys())
        taken = claimed.keys() - self._owned.keys()
        self._took(claimed)
        queued = self._enqueue(rows)
        self._let_go_if_empty(claimed)
        if taken:
            log.info("event=lanes_taken_over lanes=%d rows=%d", len(taken), queued)
            if self.metrics is not None:
                self.metrics.takeovers.inc(len(taken))
        return queued

    async def renew(self) -> None:
        """Extend this process's leases; a lane found in another's hands is let go."""
        started = asyncio.get_running_loop().time()
        claims = self._claims  # a lane claimed after this was not there for the renewal to see
        now = self.clock.now()
        async with self.db.unit_of_work() as uow:
            held = await uow.leases.renew_lanes(self.owner, now + self.lease)
        self._renewed = started
        self._renewal.set()  # wakes lanes that waited for it
        self._renewal = asyncio.Event()
        lost = {lane for lane, claim in self._owned.items() if claim <= claims} - held
        if lost:
            log.warning("event=lanes_lost lanes=%d", len(lost))
            for lane in lost:
                del self._owned[lane]
            self._releasing -= lost

    async def _flush_forever(self) -> None:
        since_prune = PRUNE_EVERY  # prune once soon after start
        since_scan = since_renewal = 0.0
        renew_every = self.lease.total_seconds() / 3
        while not self._stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=FLUSH_EVERY)
            if self._stopping.is_set():
                return
            since_prune += FLUSH_EVERY
            since_scan += FLUSH_EVERY
            since_renewal += FLUSH_EVERY
            try:
                if since_renewal >= renew_every:
                    since_renewal = 0.0
                    await self.renew()
                await self._flush()
                if since_scan >= SCAN_EVERY:
                    since_scan = 0.0
                    await self.take_over()
                if since_prune >= PRUNE_EVERY:
                    since_prune = 0.0
                    await self.prune()
            except StorageError as exc:
                log.warning("event=inbox_flush_failed error=%s", type(exc).__name__)

    async def prune(self) -> int:
        async with self.db.unit_of_work() as uow:
            pruned = await uow.inbox.prune(self.clock.now() - self.retention)
        if pruned:
            log.info("event=inbox_pruned rows=%d", pruned)
        return pruned
