"""Fuzz: thousands of random updates through the real bot, on both backends.

Texts in every script (RTL, zero-width, combining marks, emoji), empty and 4,096-character ones,
commands with junk arguments; forged, stale, oversized callback data and other users' buttons;
stickers, photos, edited messages, group and channel posts, updates without a sender, inline
queries and pre-checkout queries for invoices that never existed. After each batch: no handler
failed, every button press was answered, every private text was answered, and the money did not
move. ``FUZZ_UPDATES`` sets the count (default 2,000), ``FUZZ_SEED`` replays a run.
"""

from __future__ import annotations

import logging
import os
import random
import string
from collections import Counter
from typing import Any

import pytest

from bot.emulator import BotAPIEmulator
from tests.conftest import RunningBot, query
from tests.e2e.test_certificates import buy
from tests.e2e.test_skeleton import say

UPDATES = int(os.environ.get("FUZZ_UPDATES", "2000"))
SEED = int(os.environ.get("FUZZ_SEED", "20261201"))
BATCH = 100
USERS = [31_001, 31_002, 31_003, 31_004]
GROUP = -100_777
CHANNEL = -100_888

ALPHABETS = (
    string.printable,
    "абвгдеёжзийклмнопрстуфхцчшщъыьэюяАБВГД",
    "שלום עולם مرحبا بالعالم",  # RTL
    "\u200b\u200c\u200d\u2060\ufeff\u202e\u202d",  # zero-width and direction overrides
    "e\u0301a\u0308o\u0303\u0336",  # combining marks
    "😀🎁💳🧾👍🏽👨‍👩‍👧",
    "漢字かなカナ한국어",
    "<b>&amp;</b><script>",
)
COMMANDS = (
    "/start",
    "/balance",
    "/buy",
    "/cashback",
    "/orders",
    "/shop",
    "/history",
    "/cards",
    "/password",
    "/recover",
    "/support",
    "/cancel",
    "/help",
    "/language",
    "/notifications",
    "/privacy",
    "/terms",
    "/paysupport",
    "/unknown",
    "/start@giftwallet_bot",
    "/balance@someotherbot",
    "/admin",
)
CALLBACK_PREFIXES = (
    "m:",
    "lang:",
    "sec:",
    "q:",
    "card:",
    "buy:",
    "ord:",
    "oop:",
    "shop:",
    "hist:",
    "cb:",
    "wop:",
    "ntf:",
)


def random_text(chance: random.Random) -> str:
    roll = chance.random()
    if roll < 0.05:
        return ""
    if roll < 0.10:
        return chance.choice(ALPHABETS) * (4096 // len(chance.choice(ALPHABETS)) + 1)
    if roll < 0.30:
        return f"{chance.choice(COMMANDS)} {random_word(chance)}".strip()
    if roll < 0.40:
        return chance.choice(("0", "-5", "1e308", "NaN", "99999999999999999999", "12,50", "$5"))
    return random_word(chance, chance.randint(1, 200))


def random_word(chance: random.Random, length: int | None = None) -> str:
    alphabet = chance.choice(ALPHABETS)
    return "".join(chance.choice(alphabet) for _ in range(length or chance.randint(0, 12)))


def random_callback_data(chance: random.Random, known: list[str]) -> str:
    roll = chance.random()
    if roll < 0.3 and known:
        return chance.choice(known)  # a real button's data, maybe stale, maybe someone else's
    if roll < 0.5:
        return "x" * chance.choice((65, 100, 300))  # more than Telegram's 64 bytes
    prefix = chance.choice(CALLBACK_PREFIXES)
    fields = [random_word(chance, chance.randint(0, 6)) for _ in range(chance.randint(0, 4))]
    fields += [str(chance.choice((0, -1, 1, 2**31, 2**63, 999_999)))]
    return prefix + ":".join(fields)


class Fuzzer:
    def __init__(self, emulator: BotAPIEmulator, seed: int) -> None:
        self.emulator = emulator
        self.chance = random.Random(seed)
        self.kinds: Counter[str] = Counter()
        self.private_texts: Counter[int] = Counter()
        self.queries: list[str] = []
        self.checkouts: list[str] = []

    def user(self) -> int:
        return self.chance.choice(USERS)

    def sender(self, user: int) -> dict[str, Any]:
        return {
            "id": user,
            "is_bot": False,
            "first_name": random_word(self.chance) or "U",
            "language_code": self.chance.choice(("en", "ru", "ar", None)),
        }

    def _message(self, chat: dict[str, Any], **fields: Any) -> dict[str, Any]:
        return {
            "message_id": self.chance.randint(1, 10_000),
            "date": 1_700_000_000,
            "chat": chat,
            **fields,
        }

    def menus(self) -> list[tuple[int, int, str]]:
        """(chat, message id, callback data) of every button the bot has shown."""
        found = []
        for user in USERS:
            for record in self.emulator.messages(user):
                markup = record.get("reply_markup") or {}
                for row in markup.get("inline_keyboard", []):
                    for button in row:
                        if "callback_data" in button:
                            found.append((user, record["message_id"], button["callback_data"]))
        return found

    async def one(self, menus: list[tuple[int, int, str]]) -> None:
        user = self.user()
        private = {"id": user, "type": "private", "first_name": "U"}
        roll = self.chance.random()
        emulator = self.emulator
        if roll < 0.35:
            self.kinds["private text"] += 1
            text = random_text(self.chance)
            if text:
                self.private_texts[user] += 1
                await emulator.send_text(user, text)
            else:  # Telegram never sends an empty text; a message with no text at all
                await emulator.send_raw_update(
                    {"message": self._message(private, **{"from": self.sender(user)})}
                )
        elif roll < 0.60:
            self.kinds["button"] += 1
            chat, message_id, data = user, self.chance.randint(1, 50), ""
            if menus and self.chance.random() < 0.6:
                # Every distinct button equally often, on a message that shows it.
                data = self.chance.choice(sorted({m[2] for m in menus}))
                chat, message_id, _ = self.chance.choice([m for m in menus if m[2] == data])
            if self.chance.random() < 0.5 or not data:
                data = random_callback_data(self.chance, [m[2] for m in menus])
            # The chat may be another user's: their button, pressed by this one.
            query_id = await emulator.send_callback(user, data, message_id, chat_id=chat)
            self.queries.append(query_id)
        elif roll < 0.68:
            kind = self.chance.choice(("sticker", "photo", "document", "location", "contact"))
            self.kinds[kind] += 1
            media = {
                "sticker": {
                    "sticker": {
                        "file_id": "s1",
                        "file_unique_id": "s1",
                        "type": "regular",
                        "width": 512,
                        "height": 512,
                        "is_animated": False,
                        "is_video": False,
                    }
                },
                "photo": {
                    "photo": [{"file_id": "p1", "file_unique_id": "p1", "width": 9, "height": 9}],
                    "caption": random_word(self.chance),
                },
                "document": {"document": {"file_id": "d1", "file_unique_id": "d1"}},
                "location": {"location": {"latitude": 55.75, "longitude": 37.61}},
                "contact": {"contact": {"phone_number": "+70000000000", "first_name": "C"}},
            }[kind]
            await emulator.send_raw_update(
                {"message": self._message(private, **{"from": self.sender(user)}, **media)}
            )
        elif roll < 0.74:
            self.kinds["edited message"] += 1
            fields = {"from": self.sender(user), "text": random_text(self.chance) or "x"}
            await emulator.send_raw_update(
                {"edited_message": self._message(private, edit_date=1_700_000_100, **fields)}
            )
        elif roll < 0.82:
            self.kinds["group message"] += 1
            group = {"id": GROUP, "type": "supergroup", "title": "Shoppers"}
            fields = {"from": self.sender(user), "text": random_text(self.chance) or "hi"}
            await emulator.send_raw_update({"message": self._message(group, **fields)})
        elif roll < 0.86:
            self.kinds["channel post"] += 1
            channel = {"id": CHANNEL, "type": "channel", "title": "News"}
            post = self._message(channel, text=random_text(self.chance) or "news")
            await emulator.send_raw_update({"channel_post": post})
        elif roll < 0.89:
            self.kinds["no sender"] += 1
            group = {"id": GROUP, "type": "supergroup", "title": "Shoppers"}
            fields = {"sender_chat": group, "text": random_text(self.chance) or "anon"}
            await emulator.send_raw_update({"message": self._message(group, **fields)})
        elif roll < 0.94:
            self.kinds["inline query"] += 1
            await emulator.send_raw_update(
                {
                    "inline_query": {
                        "id": f"iq-{self.chance.random()}",
                        "from": self.sender(user),
                        "query": random_text(self.chance)[:256],
                        "offset": "",
                    }
                }
            )
        else:
            self.kinds["pre-checkout of no invoice"] += 1
            self.checkouts.append(f"pcq-{len(self.checkouts)}-{self.chance.random()}")
            await emulator.send_raw_update(
                {
                    "pre_checkout_query": {
                        "id": self.checkouts[-1],
                        "from": self.sender(user),
                        "currency": self.chance.choice(("XTR", "USD")),
                        "total_amount": self.chance.choice((1, 500, 10**9)),
                        "invoice_payload": random_callback_data(self.chance, []),
                    }
                }
            )


# Where money lives. Invoices and unpaid orders may appear (a random tap can open one); a paid
# purchase, a posting or a changed balance may not.
MONEY_TABLES = ("entries", "postings", "certificates", "gifts", "withdrawals", "cashback_accruals")


async def money_snapshot(bot: RunningBot) -> dict[str, Any]:
    snapshot: dict[str, Any] = {}
    for table in MONEY_TABLES:
        rows = await query(bot.app.db, f"SELECT COUNT(*) FROM {table}")
        snapshot[table] = rows[0][0]
    paid = "SELECT COUNT(*) FROM purchases WHERE status <> 'created'"
    snapshot["paid purchases"] = (await query(bot.app.db, paid))[0][0]
    paid_orders = (
        "SELECT COUNT(*) FROM orders WHERE status NOT IN ('awaiting_payment', 'cancelled')"
    )
    snapshot["paid orders"] = (await query(bot.app.db, paid_orders))[0][0]
    snapshot["balances"] = await query(bot.app.db, "SELECT id, balance FROM accounts ORDER BY id")
    return snapshot


async def test_random_updates_break_nothing_and_move_no_money(
    emulator: BotAPIEmulator, start_bot: Any, caplog: pytest.LogCaptureFixture
) -> None:
    bot: RunningBot = await start_bot()
    bot.app.flood_control.capacity = bot.app.flood_control.rate = 1e9  # answers, not refusals
    for user in USERS:
        emulator.add_user(user, f"User {user}", language_code="en")
        await say(emulator, user, "/start")
    await buy(emulator, bot, USERS[0], "$50")  # money that must not move
    before = await money_snapshot(bot)
    fuzzer = Fuzzer(emulator, SEED)
    caplog.set_level(logging.WARNING)

    sent = 0
    while sent < UPDATES:
        mark = emulator.call_count()
        fuzzer.private_texts.clear()
        fuzzer.queries.clear()
        fuzzer.checkouts.clear()
        menus = fuzzer.menus()
        for _ in range(min(BATCH, UPDATES - sent)):
            await fuzzer.one(menus)
        sent += BATCH
        await bot.settled(emulator, limit=60)
        calls = emulator.calls()[mark:]
        failures = [r for r in caplog.records if r.levelno >= logging.ERROR]
        assert not failures, f"seed {SEED}, updates {sent}: {failures[0].getMessage()}"
        answered = {
            str(c.params["callback_query_id"]) for c in calls if c.method == "answerCallbackQuery"
        }
        assert set(fuzzer.queries) <= answered, f"seed {SEED}: a button press went unanswered"
        # Telegram (here, the emulator) knows no such checkout, but the bot must still refuse it.
        refused = {
            str(c.params["pre_checkout_query_id"])
            for c in calls
            if c.method == "answerPreCheckoutQuery" and c.params.get("ok") in (False, "false")
        }
        assert set(fuzzer.checkouts) <= refused, f"seed {SEED}: a forged checkout was not refused"
        for user, texts in fuzzer.private_texts.items():
            replies = sum(
                1
                for c in calls
                if c.method in ("sendMessage", "editMessageText", "sendDocument")
                and str(c.params.get("chat_id")) == str(user)
            )
            assert replies >= texts, f"seed {SEED}: user {user}: {texts} texts, {replies} answers"

    assert await money_snapshot(bot) == before
    assert await bot.app.services.ledger.check_invariants() == []
    assert sum(fuzzer.kinds.values()) >= UPDATES
    balance = await say(emulator, USERS[0], "/balance")
    assert "$50.00" in balance.params["text"]
