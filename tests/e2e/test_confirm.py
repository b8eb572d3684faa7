"""The confirm-a-spend step with a test operation, on both backends: the password runs it once;
a user without a password sets one up on the way."""

from __future__ import annotations

from bot.domain.models import PendingOperation
from bot.domain.money import Money
from bot.emulator import BotAPIEmulator
from bot.handlers.dialogs import ask_to_confirm
from bot.services.ledger import ORDERS, TELEGRAM_PAYMENTS, Account
from bot.storage.uow import UnitOfWork
from tests.conftest import RunningBot
from tests.e2e.test_security_dialogues import ANSWERS, PASSWORD, secret, set_up
from tests.e2e.test_skeleton import buttons, say, tap

ALICE = 1001


async def prepare(bot: RunningBot) -> PendingOperation:
    app = bot.app
    async with app.db.unit_of_work() as uow:
        await app.services.ledger.transfer(
            uow,
            "tg-charge:t1",
            "certificate_purchase",
            TELEGRAM_PAYMENTS,
            Account.balance(ALICE),
            Money(16000, "USD"),
            user_id=ALICE,
        )

    async def pay(uow: UnitOfWork, operation: PendingOperation) -> None:
        assert operation.amount is not None
        await app.services.ledger.transfer(
            uow,
            f"test-pay:{operation.id}",
            "test_payment",
            Account.balance(ALICE),
            ORDERS,
            operation.amount,
            user_id=ALICE,
        )

    app.services.security.register("test_payment", pay)
    operation = await app.services.security.create_operation(
        ALICE, "test_payment", key="test:1", amount=Money(14799, "USD")
    )
    state = app.dispatcher.fsm.get_context(bot=app.bot, chat_id=ALICE, user_id=ALICE)
    await ask_to_confirm(app.bot, state, app.i18n("en"), app.services, operation)
    return operation


async def test_a_password_confirms_the_operation_once(
    emulator: BotAPIEmulator, bot: RunningBot
) -> None:
    emulator.add_user(ALICE, "Alice")
    await set_up(emulator, ALICE, ANSWERS)
    await prepare(bot)
    wrong = await secret(emulator, ALICE, "not-my-password")
    assert "Wrong payment password" in wrong.params["text"]
    done = await secret(emulator, ALICE, PASSWORD)
    assert "Confirmed" in done.params["text"]
    assert (await bot.app.services.ledger.balances(ALICE)).balance == Money(1201, "USD")
    # Typing the password again runs nothing: the dialogue is over.
    await emulator.send_text(ALICE, PASSWORD)
    await bot.settled(emulator)
    assert (await bot.app.services.ledger.balances(ALICE)).balance == Money(1201, "USD")


async def test_no_password_yet_sets_one_up_then_confirms(
    emulator: BotAPIEmulator, bot: RunningBot
) -> None:
    emulator.add_user(ALICE, "Alice")
    await say(emulator, ALICE, "/start")
    await prepare(bot)
    await secret(emulator, ALICE, PASSWORD)
    picker = await secret(emulator, ALICE, PASSWORD)
    for answer in ANSWERS:
        question = next(data for _, data in buttons(picker) if data.startswith("q:"))
        await tap(emulator, ALICE, picker.result["message_id"], question)
        picker = await secret(emulator, ALICE, answer)
    assert "Type your payment password to confirm" in picker.params["text"]
    done = await secret(emulator, ALICE, PASSWORD)
    assert "Confirmed" in done.params["text"]
    assert (await bot.app.services.ledger.balances(ALICE)).balance == Money(1201, "USD")


async def test_cancel_cancels_the_operation(emulator: BotAPIEmulator, bot: RunningBot) -> None:
    emulator.add_user(ALICE, "Alice")
    await set_up(emulator, ALICE, ANSWERS)
    operation = await prepare(bot)
    prompt = emulator.calls("sendMessage")[-1]
    mark = emulator.call_count()
    await tap(emulator, ALICE, prompt.result["message_id"], "sec:cancel")
    await emulator.wait_for_call("editMessageText", after=mark)
    async with bot.app.db.read() as uow:
        stored = await uow.session.fetchrow(
            "SELECT cancelled_at FROM pending_operations WHERE id = $1", operation.id
        )
    assert stored is not None and stored[0] is not None
    assert (await bot.app.services.ledger.balances(ALICE)).balance == Money(16000, "USD")
