"""Lanes leased in PostgreSQL: several inboxes on one database, as webhook replicas are.

Updates of one chat are stored by whichever replica Telegram reached; each is handled once, in
update_id order, by one replica at a time, and a replica that stops renewing (killed) has its
lanes taken over by another within twice the lease.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from aiogram import Bot, Dispatcher
from aiogram.types import Message

from bot.domain.clock import ShiftedClock
from bot.runtime.inbox import Inbox
from bot.storage.database import Database, open_database
from tests.databases import ENABLE_HINT, TEST_DATABASE_URL, create_schema, drop_schema

pytestmark = pytest.mark.skipif(not TEST_DATABASE_URL, reason=ENABLE_HINT)

LEASE = timedelta(seconds=1)


class Replica:
    """One process's inbox on the shared database, recording what its handlers saw."""

    def __init__(self, name: str, db: Database, journal: list[tuple[str, int, int]]) -> None:
        self.name = name
        self.db = db
        self.overlaps: list[int] = []
        dispatcher = Dispatcher()

        @dispatcher.message()
        async def record(message: Message) -> None:
            chat = message.chat.id
            if chat in busy_everywhere:
                self.overlaps.append(chat)
            busy_everywhere[chat] = name
            try:
                await asyncio.sleep(random.uniform(0, 0.01))
                journal.append((name, chat, int(message.text or 0)))
            finally:
                busy_everywhere.pop(chat, None)

        self.inbox = Inbox(
            db,
            dispatcher,
            Bot("123456:TEST-token-for-the-lanes-test-only"),
            ShiftedClock(),
            owner=name,
            lease=LEASE,
            exclusive=False,
        )


busy_everywhere: dict[int, str] = {}


def update(update_id: int, chat: int, seq: int) -> dict[str, Any]:
    person = {"id": chat, "is_bot": False, "first_name": "P"}
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 1_700_000_000,
            "chat": {"id": chat, "type": "private"},
            "from": person,
            "text": str(seq),
        },
    }


@pytest.fixture
async def shared() -> AsyncIterator[str]:
    schema, url = await create_schema()
    db = open_database(url)
    await db.connect()
    await db.migrate()
    await db.close()
    try:
        yield url
    finally:
        await drop_schema(schema)


async def replicas(url: str, count: int, journal: list[tuple[str, int, int]]) -> list[Replica]:
    made = []
    for n in range(count):
        db = open_database(url)
        await db.connect()
        replica = Replica(f"replica-{n}", db, journal)
        await replica.inbox.start()
        made.append(replica)
    return made


async def settled(group: list[Replica], limit: float = 15) -> None:
    deadline = asyncio.get_running_loop().time() + limit
    while True:
        for replica in group:
            await replica.inbox.flush()
        async with group[0].db.read() as uow:
            counts = await uow.inbox.counts()
            owners = await uow.leases.lane_owners()
        if counts["pending"] == 0 and not owners:
            return
        assert asyncio.get_running_loop().time() < deadline, (counts, owners)
        await asyncio.sleep(0.05)


async def test_one_chat_stored_by_three_replicas_runs_once_in_order(shared: str) -> None:
    journal: list[tuple[str, int, int]] = []
    group = await replicas(shared, 3, journal)
    rng = random.Random(7)
    chats = list(range(9001, 9041))
    next_id = 1000
    sent: dict[int, list[int]] = {chat: [] for chat in chats}
    try:
        for seq in range(6):
            # A round: every chat's next update reaches a random replica, all at once.
            stores = []
            for chat in chats:
                next_id += 1
                sent[chat].append(seq)
                stores.append(rng.choice(group).inbox.accept([update(next_id, chat, seq)]))
            await asyncio.gather(*stores)
        await settled(group)
    finally:
        for replica in group:
            await replica.inbox.stop(grace=2)
            await replica.db.close()
    handled: dict[int, list[int]] = {chat: [] for chat in chats}
    for _, chat, seq in journal:
        handled[chat].append(seq)
    wrong = {c for c in chats if handled[c] != sent[c]}
    assert handled == sent, [(n, c, q) for n, c, q in journal if c in wrong]
    assert not any(r.overlaps for r in group), "never two replicas in one lane at once"
    assert len({name for name, _, _ in journal}) > 1, "the work was shared"


async def test_a_killed_replica_s_lanes_are_taken_over_within_two_leases(shared: str) -> None:
    journal: list[tuple[str, int, int]] = []
    doomed, survivor = await replicas(shared, 2, journal)
    gate = asyncio.Event()
    original = doomed.inbox.dispatcher.feed_update

    async def stuck(bot: Bot, update: Any, **kwargs: Any) -> Any:
        await gate.wait()  # the process hangs, then dies: its handler never finishes
        return await original(bot, update, **kwargs)

    doomed.inbox.dispatcher.feed_update = stuck  # type: ignore[method-assign]
    try:
        await doomed.inbox.accept([update(1, 7001, 0)])
        await doomed.inbox.accept([update(2, 7001, 1)])
        # Killed: no renewal, no release, no flush ever again.
        assert doomed.inbox._flusher is not None
        doomed.inbox._flusher.cancel()
        killed_at = asyncio.get_running_loop().time()
        await survivor.inbox.accept([update(3, 7001, 2)])  # stored; the lane is not its own yet
        while len(journal) < 3:
            assert asyncio.get_running_loop().time() - killed_at < 2 * LEASE.total_seconds() + 1.5
            await asyncio.sleep(0.05)
        took = asyncio.get_running_loop().time() - killed_at
    finally:
        for task in doomed.inbox._running.values():
            task.cancel()
        await doomed.db.close()
        await survivor.inbox.stop(grace=2)
        await survivor.db.close()
    assert [(name, seq) for name, _, seq in journal] == [
        ("replica-1", 0),
        ("replica-1", 1),
        ("replica-1", 2),
    ]
    assert took < 2 * LEASE.total_seconds() + 1.0, took


async def test_one_leader_at_a_time_and_a_hand_over(shared: str) -> None:
    from bot.runtime.leader import Leadership

    dbs = [open_database(shared) for _ in range(3)]
    for db in dbs:
        await db.connect()
    clock = ShiftedClock()
    leaders = [Leadership(db, clock, owner=f"r{n}", lease=LEASE) for n, db in enumerate(dbs)]
    try:
        elected = [await leader.campaign() for leader in leaders]
        assert elected == [True, False, False]
        assert [leader.holds() for leader in leaders] == [True, False, False]
        # The leader stops cleanly: the role is free at once.
        await leaders[0].stop()
        assert not leaders[0].holds()
        assert await leaders[2].campaign() is True
        assert await leaders[1].campaign() is False
        # The new leader dies without a word: another takes over once the lease lapses.
        await asyncio.sleep(LEASE.total_seconds() + 0.1)
        assert await leaders[1].campaign() is True
        assert await leaders[2].campaign() is False
    finally:
        for db in dbs:
            await db.close()


async def test_a_claim_says_who_held_each_lane_before(shared: str) -> None:
    db = open_database(shared)
    await db.connect()
    now = ShiftedClock().now()
    until = now + LEASE

    async def claim(owner: str, at: Any = now) -> dict[str, str | None]:
        async with db.unit_of_work() as uow:
            return await uow.leases.claim_lanes(["chat"], owner, at, at + LEASE)

    async def release(owner: str) -> set[str]:
        async with db.unit_of_work() as uow:
            return await uow.leases.release_lanes(["chat"], owner)

    try:
        assert await claim("a") == {"chat": None}, "never held"
        assert await claim("b") == {}, "a's lease is live"
        assert await claim("a") == {"chat": "a"}, "a renews its own"
        assert await release("a") == {"chat"}
        async with db.read() as uow:
            assert await uow.leases.lane_owners() == {}, "a released lane is held by nobody"
            assert await uow.leases.unowned_lanes(now, 10) == []  # nothing waits in it
        assert await claim("a") == {"chat": "a"}, "taken back: nobody came between"
        assert await release("b") == set(), "only its owner releases a lane"
        assert await release("a") == {"chat"}
        assert await claim("b") == {"chat": "a"}
        assert await release("b") == {"chat"}
        assert await claim("a") == {"chat": "b"}, "another process handled the chat meanwhile"
        # a dies holding it: b takes it over once the lease lapses.
        assert await claim("b", until + LEASE) == {"chat": "a"}
        async with db.read() as uow:
            assert await uow.leases.lane_owners() == {"chat": "b"}
    finally:
        await db.close()


async def test_a_replica_forgets_a_chat_only_when_another_handled_it_since(shared: str) -> None:
    journal: list[tuple[str, int, int]] = []
    first, second = await replicas(shared, 2, journal)
    handed: list[tuple[str, list[str]]] = []
    for replica in (first, second):
        replica.db.lanes_changed_hands = (  # type: ignore[method-assign]
            lambda lanes, name=replica.name: handed.append((name, sorted(lanes)))
        )

    async def handle(replica: Replica, update_id: int) -> None:
        await replica.inbox.accept([update(update_id, 8001, update_id)])
        await replica.inbox.wait_idle()
        await replica.inbox.flush()  # done, and the lane released

    try:
        await handle(first, 1)
        await handle(first, 2)
        await handle(second, 3)
        await handle(second, 4)
        await handle(first, 5)
    finally:
        for replica in (first, second):
            await replica.inbox.stop(grace=2)
            await replica.db.close()
    assert [seq for _, _, seq in journal] == [1, 2, 3, 4, 5]
    assert handed == [
        ("replica-0", ["8001"]),  # the first claim ever
        ("replica-1", ["8001"]),
        ("replica-0", ["8001"]),
    ]
