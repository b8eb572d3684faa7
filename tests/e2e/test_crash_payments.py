"""Crash suite for money: Stars purchases while the real bot process is SIGKILLed at random
moments, with Telegram delivering some payments twice. Every charge is credited exactly once.

CI kills twice per backend; ``CRASH_KILLS=50`` kills at 50 random moments (about two minutes
per backend), ``CRASH_SEED`` picks other moments.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
from pathlib import Path

from bot.emulator import BotAPIEmulator, PaymentOutcome
from bot.models import Purchase
from bot.money import Money
from tests.conftest import TOKEN, spawn_bot_process
from tests.unit.test_certificates import World

USERS = [7000 + n for n in range(10)]
KILLS = int(os.environ.get("CRASH_KILLS", "2"))
SEED = int(os.environ.get("CRASH_SEED", "20261201"))
PER_ROUND = 10


async def test_sigkill_during_purchases_credits_every_charge_once(
    tmp_path: Path, database_url: str
) -> None:
    chaos = random.Random(SEED)
    emulator = BotAPIEmulator(token=TOKEN, latency=0.01)
    await emulator.start()
    world = World(database_url)
    await world.base.open(*USERS)
    for user in USERS:
        emulator.add_user(user, f"User {user}")
    # Purchases as the bot makes them when a user picks a nominal; paying is what is tested.
    purchases: list[Purchase] = []
    for n in range(PER_ROUND * (KILLS + 1)):
        amount = Money(chaos.choice((500, 1000, 2000, 1250, 5000)), "USD")
        purchases.append(
            await world.certificates.create_purchase(USERS[n % len(USERS)], amount, "self")
        )
    outcomes: dict[str, PaymentOutcome] = {}
    process: asyncio.subprocess.Process | None = None

    async def pay(purchase: Purchase) -> None:
        outcomes[purchase.public_id] = await emulator.pay_tampered(
            purchase.user_id,
            payload=purchase.public_id,
            currency=purchase.invoice_currency,
            total_amount=purchase.invoice_amount,
            answer_timeout=30,  # long enough to outlive a restart
        )

    async def spawn() -> asyncio.subprocess.Process:
        return await spawn_bot_process(
            emulator, tmp_path, capture=False, database_url=database_url, LOG_LEVEL="WARNING"
        )

    try:
        process = await spawn()
        for round_ in range(KILLS + 1):
            batch = purchases[round_ * PER_ROUND : (round_ + 1) * PER_ROUND]
            for _ in range(3):
                emulator.duplicate_next_payment()
            mark = emulator.call_count()
            payments = [asyncio.create_task(pay(purchase)) for purchase in batch]
            if round_ < KILLS:
                # Kill while payments are being answered and credited.
                await emulator.wait_for_call("answerPreCheckoutQuery", after=mark, timeout=30)
                await asyncio.sleep(chaos.uniform(0, 0.2))
                process.send_signal(signal.SIGKILL)
                await process.wait()
                process = await spawn()
            await asyncio.gather(*payments)
        await emulator.wait_until_confirmed(limit=60)
        paid = {p: o for p, o in outcomes.items() if o.ok}
        assert paid, "no payment went through at all"
        for _ in range(300):  # the restarted bot works through its inbox
            credited = await _credited(world)
            if credited >= len(paid):
                break
            await asyncio.sleep(0.1)
    finally:
        if process is not None and process.returncode is None:
            process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(process.wait(), timeout=10)
        await emulator.stop()

    try:
        assert await _credited(world) == len(paid)
        charges = await world.certificates.charges_by_id(
            [o.telegram_payment_charge_id or "" for o in paid.values()]
        )
        assert len(charges) == len(paid)
        assert all(purchase.status == "paid" for purchase in charges.values())
        for user in USERS:
            expected = sum(p.amount for p in purchases if p.user_id == user and p.public_id in paid)
            assert (await world.base.ledger.balances(user)).balance == Money(expected, "USD")
        await world.check()
    finally:
        await world.base.close()


async def _credited(world: World) -> int:
    rows = await world.base.fetch(
        "SELECT COUNT(*) FROM entries WHERE idempotency_key LIKE 'tg-charge:%'"
    )
    return int(rows[0][0])
