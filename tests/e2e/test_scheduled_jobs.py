"""The scheduler's jobs through the real bot, on the injected clock: the "did it arrive?"
reminder goes once, ORDER_CONFIRM_REMINDER before the order completes by itself, and its button
confirms receipt; an order nobody confirms completes at ORDER_PROTECTION and its cashback is held.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from bot.domain.clock import ShiftedClock
from bot.emulator import BotAPIEmulator
from tests.conftest import query
from tests.e2e.test_cashback import ADMIN, ALICE, press, usd, wallet
from tests.e2e.test_certificates import buy
from tests.e2e.test_security_dialogues import PASSWORD


async def test_the_reminder_goes_once_then_the_order_completes_by_itself(
    emulator: BotAPIEmulator, start_bot: Any
) -> None:
    clock = ShiftedClock()
    bot = await wallet(
        emulator, start_bot, clock=clock, order_protection="P15D", order_confirm_reminder="P3D"
    )
    await buy(emulator, bot, ALICE, "$50")
    services = bot.app.services
    orders = []
    for title in ("Lamp", "Kettle"):
        order = await services.orders.create(ALICE, title, usd(1000), cashback_percent=Decimal(5))
        operation = await services.orders.prepare_payment(ALICE, order.id)
        await services.security.confirm_operation(ALICE, operation.id, PASSWORD)
        await services.orders.operator_action(ADMIN, order.id, "shipped")
        await services.orders.operator_action(ADMIN, order.id, "delivered")
        orders.append(order)
    await bot.notices_out()  # the buyer heard of shipping and delivery, a second apart

    async def travel(delta: timedelta) -> None:
        clock.advance(delta)
        await bot.app.run_scheduled_jobs()
        await bot.app.notice_sender.drain()

    reminders = "SELECT COUNT(*) FROM outbox WHERE template = 'notice-order-reminder'"
    await travel(timedelta(days=11, hours=23))  # 12 days minus an hour: not yet
    assert (await query(bot.app.db, reminders))[0][0] == 0
    mark = emulator.call_count()
    await travel(timedelta(hours=2))
    lamp = await emulator.wait_for_call(
        "sendMessage", lambda c: "Did order #1 (Lamp) arrive?" in c.params["text"], after=mark
    )
    kettle = await emulator.wait_for_call(
        "sendMessage", lambda c: "Did order #2 (Kettle) arrive?" in c.params["text"], after=mark
    )
    completes = clock.now() - timedelta(hours=1) + timedelta(days=3)
    assert f"{completes:%b} {completes.day}, {completes.year}" in lamp.params["text"]
    await travel(timedelta(minutes=5))  # a second run sends no second reminder
    assert (await query(bot.app.db, reminders))[0][0] == 2
    assert lamp is not kettle

    confirmed = await press(emulator, lamp, "I received it")
    assert "Order #1" in confirmed.params["text"]
    assert (await services.orders.view(ALICE, orders[0].id)).order.status == "completed"

    await travel(timedelta(days=3))  # past ORDER_PROTECTION: the Kettle completes by itself
    kettle_view = await services.orders.view(ALICE, orders[1].id)
    assert kettle_view.order.status == "completed"
    assert kettle_view.cashback is not None and kettle_view.cashback.status == "on_hold"
    summary = await services.cashback.summary(ALICE)
    assert summary.on_hold == usd(100)
    assert await services.ledger.check_invariants() == []
