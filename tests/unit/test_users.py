"""Registration: one update at a time (``touch``) and a batch's first contacts at once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.runtime.inbox import first_contact
from bot.services.users import Contact, UserService
from tests.unit.ledger_support import LedgerWorld

ANN = 11


@pytest.fixture
async def world(database_url: str) -> AsyncIterator[LedgerWorld]:
    opened = await LedgerWorld(database_url).open(ANN)
    try:
        yield opened
    finally:
        await opened.close()


async def _count(world: LedgerWorld, sql: str) -> int:
    return int((await world.fetch(sql))[0][0])


async def test_a_batch_of_first_contacts_is_registered_with_their_accounts(
    world: LedgerWorld,
) -> None:
    contacts = [Contact(100 + n, f"User {n}", "ru" if n % 2 else None) for n in range(40)]
    assert len(await world.users.register([*contacts, contacts[0]])) == 40  # a repeat counts once
    assert await _count(world, "SELECT COUNT(*) FROM users WHERE id >= 100") == 40
    assert await _count(world, "SELECT COUNT(*) FROM accounts WHERE user_id >= 100") == 3 * 40
    assert all(world.users.knows(c) for c in contacts)
    # Their first update then finds them as they are: no second registration.
    user = await world.users.touch(105, "User 5", "ru")
    assert (user.id, user.first_name, user.client_language, user.reachable) == (
        105,
        "User 5",
        "ru",
        True,
    )
    assert await world.users.register(contacts) == []
    assert await world.ledger.check_invariants() == []


async def test_stored_users_are_remembered_and_changed_ones_left_to_touch(
    world: LedgerWorld,
) -> None:
    cold = UserService(world.db, world.ledger, world.clock)  # a fresh process: nothing kept
    assert await cold.register([Contact(ANN, f"user{ANN}", "en")]) == []
    assert cold.knows(Contact(ANN, f"user{ANN}", "en"))
    renamed = Contact(ANN, "Ann", "en")
    assert await cold.register([renamed]) == []
    assert not cold.knows(renamed)  # the new name is written by touch, as before
    assert (await cold.touch(ANN, "Ann", "en")).first_name == "Ann"
    assert await _count(world, f"SELECT COUNT(*) FROM accounts WHERE user_id = {ANN}") == 3


async def test_an_unreachable_user_is_not_taken_as_known(world: LedgerWorld) -> None:
    await world.users.mark_unreachable(ANN)
    cold = UserService(world.db, world.ledger, world.clock)
    contact = Contact(ANN, f"user{ANN}", "en")
    await cold.register([contact])
    assert not cold.knows(contact)
    assert (await cold.touch(*contact)).reachable


def _message(sender: Any) -> dict[str, Any]:
    return {"update_id": 1, "message": {"message_id": 1, "from": sender, "chat": {"id": 5}}}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (_message({"id": 5, "is_bot": False, "first_name": "Ann"}), Contact(5, "Ann", None)),
        (
            {
                "update_id": 2,
                "callback_query": {
                    "id": "q",
                    "from": {"id": 6, "is_bot": False, "first_name": "Bo", "language_code": "ru"},
                },
            },
            Contact(6, "Bo", "ru"),
        ),
        (_message({"id": 5, "is_bot": True, "first_name": "Bot"}), None),
        (_message({"id": "5", "is_bot": False, "first_name": "Ann"}), None),
        (_message({"id": True, "is_bot": False, "first_name": "Ann"}), None),
        (_message({"id": 2**60, "is_bot": False, "first_name": "Ann"}), None),
        (_message({"id": 5, "is_bot": False, "first_name": "A\x00nn"}), None),
        (_message({"id": 5, "is_bot": False, "first_name": ["Ann"]}), None),
        (_message({"id": 5, "is_bot": False, "first_name": "A", "language_code": "x" * 99}), None),
        (_message(None), None),
        ({"update_id": 3, "channel_post": {"message_id": 1, "chat": {"id": -100}}}, None),
        ({"update_id": 4, "poll": {"id": "p"}}, None),
        ({"update_id": 5}, None),
    ],
)
def test_first_contact_names_only_a_plain_sender(
    raw: dict[str, Any], expected: Contact | None
) -> None:
    assert first_contact(raw) == expected


async def test_a_read_that_raced_a_write_never_puts_the_old_row_back(
    world: LedgerWorld,
) -> None:
    before = await world.users.touch(ANN, "Ann", "en")
    await world.users.set_language(ANN, "ru")
    # A touch from another lane read the row just before that write and caches it late.
    world.users._remember(before)
    assert (await world.users.get(ANN)).language == "ru"  # type: ignore[union-attr]
    await world.users.mark_unreachable(ANN)
    world.users._remember(before)
    cached = await world.users.get(ANN)
    assert cached is not None and (cached.language, cached.reachable) == ("ru", False)
    # What the cache holds is what is stored.
    cold = UserService(world.db, world.ledger, world.clock)
    assert await cold.get(ANN) == cached
