"""The playground page in a real headless Chromium (Debian's package, driven by Playwright)."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.playground.server import Playground

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        CHROMIUM is None,
        reason="needs Debian's chromium: apt-get install chromium (see README, Tests)",
    ),
]
# Chromium's own network chatter has nowhere to go on these machines; keep it quiet.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
]


@pytest.fixture
async def page(playground: Playground) -> AsyncIterator[Any]:
    playwright_api = pytest.importorskip("playwright.async_api")
    async with playwright_api.async_playwright() as driver:
        browser = await driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = await browser.new_context(viewport={"width": 1280, "height": 800})
        tab = await context.new_page()
        errors: list[str] = []
        tab.on("pageerror", lambda error: errors.append(str(error)))
        await tab.goto(playground.url + "/")
        await tab.wait_for_selector("body[data-ready=true]")
        yield tab
        await browser.close()
        assert not errors, errors


async def send(page: Any, text: str) -> None:
    """Type and send, as a person would: a chat never started shows START instead of the
    composer, so that comes first."""
    await page.locator("#start-button:visible, #user-composer:visible").wait_for()
    if await page.locator("#start-button").is_visible():
        await page.click("#start-button")
        if text == "/start":
            return
        await page.locator("#user-composer").wait_for(state="visible")
    await page.fill("#user-input", text)
    await page.press("#user-input", "Enter")


async def test_start_balance_edit_and_language_switch(page: Any, playground: Playground) -> None:
    # Анна, the first person, has a Russian client.
    await send(page, "/start")
    menu = page.locator("#user-messages .msg-wrap:not(.me)").last
    await menu.locator("button[data-callback='m:balance']").wait_for()
    menu_id = await menu.get_attribute("data-message-id")
    assert "Здравствуйте, Анна" in await menu.locator(".bubble").inner_text()

    # Balance edits the same message in place.
    await menu.locator("button[data-callback='m:balance']").click()
    edited = page.locator(f"#user-messages .msg-wrap[data-message-id='{menu_id}']")
    await edited.locator(".bubble", has_text="Ваш баланс").wait_for()
    assert await page.locator("#user-messages .msg-wrap:not(.me)").count() == 1
    assert "0,00" in await edited.locator(".bubble").inner_text()
    assert "edited" in await edited.locator(".meta").inner_text()

    # Back to the menu, then Language → English.
    await edited.locator("button[data-callback='m:home']").click()
    await edited.locator("button[data-callback='m:language']").wait_for()
    await edited.locator("button[data-callback='m:language']").click()
    await edited.locator("button[data-callback='lang:en']").wait_for()
    await edited.locator("button[data-callback='lang:en']").click()
    await edited.locator(".bubble", has_text="Language set: English.").wait_for()
    assert await edited.locator("button[data-callback='m:balance']").inner_text() == "💰 Balance"

    # Cashback opens in place: nothing earned yet, and what earns it.
    await edited.locator("button[data-callback='m:cashback']").click()
    await edited.locator(".bubble", has_text="No cashback yet").wait_for()
    assert "Available: $0.00" in await edited.locator(".bubble").inner_text()

    # The command menu follows the chosen language.
    await page.click("#commands-button")
    await page.locator("#commands-popup", has_text="Balance and cashback").wait_for()
    await page.click("#user-input")

    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "playground.png"))


async def test_switching_people_and_the_operators_pane(page: Any, playground: Playground) -> None:
    await page.locator("#users li[data-user-id='1002']").click()
    await page.locator("#user-title", has_text="Ben").wait_for()
    await send(page, "/balance")
    await page.locator("#user-messages .bubble", has_text="Certificates: $0.00").wait_for()

    # The operator writes in the operators' chat pane.
    await page.fill("#ops-input", "Shift started")
    await page.press("#ops-input", "Enter")
    await page.locator("#ops-messages .bubble", has_text="Shift started").wait_for()
    assert await page.locator("#ops-messages .sender").first.inner_text() == "Olga"


async def test_inline_mode_and_time_travel(page: Any, playground: Playground) -> None:
    await send(page, "/start")
    await page.locator("#user-messages .keyboard").wait_for()
    await page.click("#inline-button")
    result = page.locator("#inline-results button", has_text="Баланс")
    await result.wait_for()
    await result.click()
    await page.locator("#user-messages .via", has_text="via @giftwallet_bot").wait_for()

    before = await page.locator("#now").inner_text()
    await page.click("button[data-step='day']")
    await page.locator(".toast", has_text="scheduled job").wait_for()
    assert await page.locator("#now").inner_text() != before


async def test_a_message_the_bot_deletes_vanishes(page: Any, playground: Playground) -> None:
    await send(page, "secret 1234")
    mine = page.locator("#user-messages .msg-wrap.me", has_text="secret 1234")
    await mine.wait_for()
    message_id = int(await mine.get_attribute("data-message-id"))
    assert playground.app is not None
    await playground.app.bot.delete_message(chat_id=1001, message_id=message_id)
    await mine.wait_for(state="detached")


async def bot_reply(page: Any, text: str) -> Any:
    bubble = page.locator("#user-messages .msg-wrap:not(.me) .bubble", has_text=text).last
    await bubble.wait_for()
    return bubble


async def tap_button(page: Any, text: str) -> None:
    await page.locator("#user-messages .keyboard button", has_text=text).last.click()


async def buy_for_myself(page: Any, nominal: str, for_myself: str) -> None:
    """Tap ``nominal`` on the newest certificates menu, then ``for_myself`` on that same message.
    An earlier round's "who is it for?" keeps its buttons, so ``.last`` alone could tap that
    stale one while this round's edit is still on its way (seen under CI's load)."""
    menus = page.locator("#user-messages .msg-wrap:not(.me)")
    menu = menus.filter(has=page.locator(".keyboard button", has_text=nominal)).last
    await menu.wait_for()
    message_id = await menu.get_attribute("data-message-id")
    await menu.locator(".keyboard button", has_text=nominal).click()
    same = page.locator(f"#user-messages .msg-wrap[data-message-id='{message_id}']")
    await same.locator(".keyboard button", has_text=for_myself).click()


async def pay_invoice(page: Any, earlier: int) -> None:
    """Pay the invoice after the ``earlier`` ones already in the chat."""
    invoice = page.locator("#user-messages .msg-wrap:has(.invoice)").nth(earlier)
    await invoice.wait_for()
    await invoice.locator(".keyboard button", has_text="Pay").click()


async def test_buying_a_certificate_with_the_invoice_card(
    page: Any, playground: Playground
) -> None:
    """Анна buys $20 in Stars, Telegram delivers the payment twice (one credit), then refunds."""
    await send(page, "/buy")
    await bot_reply(page, "Подарочные сертификаты")
    await tap_button(page, "20,00")
    await bot_reply(page, "Кому он?")
    await tap_button(page, "Себе")
    card = page.locator("#user-messages .invoice").last
    await card.wait_for()
    assert "⭐️ 1000" in await card.inner_text()

    await page.click("#fault-dup")
    await page.locator("#fault-status", has_text="arrives twice").wait_for()
    await page.locator("#user-messages .keyboard button", has_text="Pay").last.click()
    await bot_reply(page, "На баланс зачислено")
    await page.locator(".invoice-status.paid").wait_for()
    assert await page.locator("#user-messages .service", has_text="You paid").count() == 2
    await send(page, "/balance")
    balance = await bot_reply(page, "Ваш баланс")
    assert "20,00" in await balance.inner_text() and "1 сертификат" in await balance.inner_text()
    assert await page.locator("#user-messages .bubble", has_text="На баланс зачислено").count() == 1
    await page.click("#inspector-refresh")
    await page.locator("#inspector td", has_text="$20.00").first.wait_for()
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "playground-certificate-ru.png"))

    # Telegram refunds the charge on its own: the bot takes the money back.
    await card.locator(".invoice-refund").click()
    await bot_reply(page, "Оформлен возврат")
    await page.locator("#user-messages .service", has_text="refunded").wait_for()


async def test_a_gift_is_bought_and_claimed_by_another_person(
    page: Any, playground: Playground
) -> None:
    """Ben (English) buys a $10 gift with a note; Анна opens the link and gets it."""
    await page.locator("#users li[data-user-id='1002']").click()
    await page.locator("#user-title", has_text="Ben").wait_for()
    await send(page, "/buy")
    await bot_reply(page, "Gift certificates")
    await tap_button(page, "$10.00")
    await bot_reply(page, "Who is it for?")
    await tap_button(page, "As a gift")
    await bot_reply(page, "note for the recipient")
    await send(page, "Happy birthday, Anna!")
    await page.locator("#user-messages .keyboard button", has_text="Pay").last.click()
    ready = await bot_reply(page, "gift code for $10.00 is ready")
    assert "Happy birthday, Anna!" in await ready.inner_text()  # the note, as it will arrive
    await page.click("#inspector-refresh")
    await page.locator("#inspector .gift-line", has_text="open").wait_for()
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "playground-gift-en.png"))

    # The link in the message opens the bot as someone else: Анна.
    await ready.locator("a", has_text="t.me/giftwallet_bot").click()
    await page.locator("#link-people button[data-user-id='1001']").click()
    await page.locator("#user-title", has_text="Анна").wait_for()
    claimed = await bot_reply(page, "подарок зачислен")
    assert (
        "10,00" in await claimed.inner_text()
        and "Happy birthday, Anna!" in await claimed.inner_text()
    )
    await page.click("#inspector-refresh")
    await page.locator("#inspector .gift-line", has_text="claimed").wait_for()
    await page.screenshot(path=str(ARTIFACTS / "playground-gift-claimed-ru.png"))


async def test_documents_download_and_reply_keyboards_send_text(
    page: Any, playground: Playground
) -> None:
    """No feature sends these yet, so the test plays the bot through its own session."""
    from aiogram.types import (
        BufferedInputFile,
        KeyboardButton,
        ReplyKeyboardMarkup,
        ReplyKeyboardRemove,
    )

    assert playground.app is not None
    bot = playground.app.bot
    await bot.send_document(
        1001, BufferedInputFile(b"date,amount\n2026-11-30,12.01\n", "statement.csv")
    )
    link = page.locator("#user-messages .document a", has_text="statement.csv")
    await link.wait_for()
    response = await page.request.get(playground.url + await link.get_attribute("href"))
    assert response.ok and await response.body() == b"date,amount\n2026-11-30,12.01\n"

    keyboard = ReplyKeyboardMarkup(
        keyboard=[[KeyboardButton(text="Да"), KeyboardButton(text="Нет")]], resize_keyboard=True
    )
    await bot.send_message(1001, "Продолжить?", reply_markup=keyboard)
    await page.locator("#user-reply-keyboard button", has_text="Да").click()
    await page.locator("#user-messages .msg-wrap.me .bubble", has_text="Да").wait_for()
    await bot.send_message(1001, "Готово", reply_markup=ReplyKeyboardRemove())
    await page.locator("#user-reply-keyboard").wait_for(state="hidden")


async def bot_says(page: Any, text: str) -> Any:
    bubble = page.locator("#user-messages .msg-wrap:not(.me) .bubble", has_text=text).last
    await bubble.wait_for()
    return bubble


async def test_password_recovery_and_a_card_with_every_secret_vanishing(
    page: Any, playground: Playground
) -> None:
    password, answers = "Gift-Wallet-42", ("Москва", "Барсик", "Школа 57")
    # Анна (Russian client) sets a payment password and three questions.
    await send(page, "/password")
    await bot_says(page, "не пароль от Telegram")
    await send(page, password)
    await bot_says(page, "тот же пароль")
    await send(page, password)
    for number, answer in enumerate(answers, start=1):
        picker = page.locator(
            "#user-messages .msg-wrap:not(.me)", has_text=f"вопрос {number} из 3"
        ).last
        await picker.locator("button[data-callback^='q:']").first.click()
        await bot_says(page, "Напишите ответ")
        await send(page, answer)
    await bot_says(page, "заданы")
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "security-ru.png"))

    # She recovers it with the answers typed in other case and spacing.
    await send(page, "/recover")
    for typed in (" МОСКВА ", "барсик", "школа   57"):
        await send(page, typed)
    await bot_says(page, "Ответы совпали")
    await send(page, "Brand-New-77")
    await bot_says(page, "тот же пароль")
    await send(page, "Brand-New-77")
    await bot_says(page, "изменён")

    # And saves a card: the number vanishes, the card shows masked.
    await send(page, "/cards")
    await page.locator("#user-messages button[data-callback='card:add:0']").last.click()
    await bot_says(page, "номер карты")
    await send(page, "2200 7000 0000 0009")
    await bot_says(page, "ММ/ГГ")
    await send(page, "12/30")
    await bot_says(page, "Карта сохранена: Mir •••• 0009")
    for secret in (password, "Brand-New-77", *answers, "МОСКВА", "2200 7000 0000 0009"):
        mine = page.locator("#user-messages .msg-wrap.me", has_text=secret)
        await mine.first.wait_for(state="detached")
        assert await mine.count() == 0, secret
    await page.screenshot(path=str(ARTIFACTS / "cards-ru.png"))

    # Ben sees the same in English.
    await page.locator("#users li[data-user-id='1002']").click()
    await page.locator("#user-title", has_text="Ben").wait_for()
    await send(page, "/password")
    await bot_says(page, "your Telegram password")
    await page.screenshot(path=str(ARTIFACTS / "security-en.png"))


async def test_support_relay_both_ways_in_the_operators_pane(
    page: Any, playground: Playground
) -> None:
    await send(page, "/support")
    await bot_says(page, "обращение №1")
    await send(page, "Где мой заказ?")
    relayed = page.locator("#ops-messages .msg-wrap.replyable", has_text="Где мой заказ?").last
    await relayed.wait_for()
    await relayed.click()  # the operator answers this message
    assert "Replying to" in (await page.get_attribute("#ops-input", "placeholder") or "")
    await page.fill("#ops-input", "Уже в пути!")
    await page.press("#ops-input", "Enter")
    await bot_says(page, "Уже в пути!")
    await page.locator("#ops-messages .bubble", has_text="Sent to ticket #1").wait_for()
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "support-relay.png"))


async def test_a_failed_send_stays_in_the_composer(page: Any, playground: Playground) -> None:
    await send(page, "/start")
    await page.locator("#user-messages .bubble", has_text="Здравствуйте").wait_for()
    await page.route("**/api/send", lambda route: route.abort())
    await send(page, "/balance")
    await page.locator("#user-send-error", has_text="Not sent").wait_for()
    assert await page.input_value("#user-input") == "/balance"
    await page.unroute("**/api/send")
    await page.press("#user-input", "Enter")
    await page.locator("#user-messages .bubble", has_text="Ваш баланс").wait_for()
    assert await page.input_value("#user-input") == ""
    assert await page.locator("#user-send-error").is_hidden()


async def test_the_shop_in_the_page(page: Any, playground: Playground) -> None:
    """Ben browses the shop and orders; the order card shows the balance before and after."""
    await page.locator("#users li[data-user-id='1002']").click()
    await page.locator("#user-title", has_text="Ben").wait_for()
    await send(page, "/shop")
    await bot_reply(page, "Pick a category")
    await tap_button(page, "Audio")
    await bot_reply(page, "page 1 of 1")
    await tap_button(page, "Pocket speaker")
    await bot_reply(page, "Waterproof")
    await tap_button(page, "➕")
    await bot_reply(page, "Quantity: 2")
    await tap_button(page, "Order")
    card = await bot_reply(page, "Order #1")
    text = await card.inner_text()
    assert "Pocket speaker × 2" in text and "$59.00" in text and "$59.00 short" in text
    assert "after payment" not in text  # never a negative balance after payment
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "playground-order-short-en.png"))
    # Top up through the suggested certificate: the order comes back, ready to pay.
    await tap_button(page, "Buy a $100.00 certificate")
    await bot_reply(page, "Who is it for?")
    await tap_button(page, "For myself")
    await page.locator("#user-messages .invoice").last.wait_for()
    await page.locator("#user-messages .keyboard button", has_text="Pay ⭐").last.click()
    back = await bot_reply(page, "after payment: $41.00")
    assert "Order #1" in await back.inner_text()
    await page.locator("#user-messages .keyboard").last.locator("button", has_text="Pay").wait_for()
    await page.screenshot(path=str(ARTIFACTS / "playground-order-topped-up-en.png"))


async def test_an_order_walks_from_shop_to_receipt_and_the_csv(
    page: Any, playground: Playground
) -> None:
    """Анна: a certificate, an order from the shop paid with the password, the operator ships
    and delivers from the operators' pane, she confirms receipt and downloads her history."""
    import csv
    import io

    from bot.services.security import QUESTION_CODES

    assert playground.app is not None
    await send(page, "/start")
    await bot_reply(page, "Здравствуйте")
    security = playground.app.services.security  # set up directly: the dialogue has its own test
    answers = tuple([await security.hash_answer("ответ")] * 3)
    await security.set_up(
        1001, await security.hash_new_password("secret-pass-42"), QUESTION_CODES[:3], answers
    )
    await send(page, "/buy")
    await bot_reply(page, "Подарочные сертификаты")
    await tap_button(page, "50,00")
    await bot_reply(page, "Кому он?")
    await tap_button(page, "Себе")
    await page.locator("#user-messages .invoice").last.wait_for()
    await page.locator("#user-messages .keyboard button", has_text="Pay").last.click()
    await bot_reply(page, "На баланс зачислено")

    await send(page, "/shop")
    await bot_reply(page, "Выберите категорию")
    await tap_button(page, "Дом")
    await bot_reply(page, "страница 1 из 1")
    await tap_button(page, "Электрочайник")
    await bot_reply(page, "1,7 л")
    await tap_button(page, "Заказать")
    await bot_reply(page, "после оплаты: 10,10")
    await tap_button(page, "Оплатить")
    await bot_reply(page, "платёжный пароль")
    await send(page, "secret-pass-42")
    await bot_reply(page, "оплачен с баланса")
    # The password's prompt loses its Cancel once the payment is done.
    prompt = page.locator("#user-messages .msg-wrap", has_text="Введите платёжный пароль").last
    await prompt.locator("button").first.wait_for(state="detached")
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "playground-order-paid-ru.png"))

    # The operator ships and delivers from the buttons in the operators' pane.
    ops = page.locator("#ops-messages .keyboard button", has_text="Shipped").last
    await ops.click()
    await page.locator("#ops-messages .keyboard button", has_text="Delivered").last.click()
    await bot_reply(page, "доставлен")
    await tap_button(page, "Я получил(а) заказ")
    await bot_reply(page, "завершён")
    # The operators' card follows the order (through the outbox): one card, now completed,
    # without the buttons it outgrew.
    card = page.locator("#ops-messages .bubble", has_text="Order #1")
    await page.locator("#ops-messages .bubble", has_text="Status: completed").wait_for()
    assert await card.count() == 1
    assert await page.locator("#ops-messages .keyboard button").count() == 0
    await page.screenshot(path=str(ARTIFACTS / "playground-order-done-ru.png"))

    await send(page, "/history")
    await bot_reply(page, "История")
    await tap_button(page, "Выгрузить CSV")
    link = page.locator("#user-messages .document a").last
    await link.wait_for()
    response = await page.request.get(playground.url + await link.get_attribute("href"))
    rows = list(csv.DictReader(io.StringIO((await response.body()).decode("utf-8"))))
    total = sum(float(r["amount"]) for r in rows if r["account"] == "balance")
    assert round(total, 2) == 10.10


async def set_up_password(playground: Playground, user_id: int) -> None:
    """Directly through the service: the dialogue has tests of its own."""
    from bot.services.security import QUESTION_CODES

    assert playground.app is not None
    security = playground.app.services.security
    answers = tuple([await security.hash_answer("answer")] * 3)
    await security.set_up(
        user_id, await security.hash_new_password("secret-pass-42"), QUESTION_CODES[:3], answers
    )


async def test_cashback_releases_after_time_travel_and_moves_to_the_balance(
    page: Any, playground: Playground
) -> None:
    """Анна pays an order, confirms receipt, travels 15 days past the hold: the notice comes in
    the chat and its button moves the cashback to her balance."""
    await send(page, "/start")
    await bot_reply(page, "Здравствуйте")
    await set_up_password(playground, 1001)
    await send(page, "/buy")
    await tap_button(page, "50,00")
    await tap_button(page, "Себе")
    await page.locator("#user-messages .invoice").last.wait_for()
    await page.locator("#user-messages .keyboard button", has_text="Pay").last.click()
    await bot_reply(page, "На баланс зачислено")
    await send(page, "/shop")
    await tap_button(page, "Дом")
    await tap_button(page, "Электрочайник")
    await tap_button(page, "Заказать")
    await tap_button(page, "Оплатить")
    await bot_reply(page, "платёжный пароль")
    await send(page, "secret-pass-42")
    await bot_reply(page, "оплачен с баланса")
    await page.locator("#ops-messages .keyboard button", has_text="Shipped").last.click()
    await page.locator("#ops-messages .keyboard button", has_text="Delivered").last.click()
    await bot_reply(page, "доставлен")
    await tap_button(page, "Я получил(а) заказ")
    await bot_reply(page, "завершён")
    await send(page, "/cashback")
    await bot_reply(page, "на удержании до")

    await page.click("button[data-step='15days']")
    notice = await bot_reply(page, "Кешбэк доступен")
    assert "+" in await notice.inner_text()
    inspector = page.locator("#inspector")
    await page.click("#inspector-refresh")
    await inspector.locator("div", has_text="notice-cashback-available · sent").first.wait_for()
    await inspector.locator("div", has_text="· available since").first.wait_for()
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "playground-cashback-notice-ru.png"))

    await tap_button(page, "На баланс")
    await bot_reply(page, "кешбэка на баланс")
    await send(page, "secret-pass-42")
    moved = await bot_reply(page, "переведено на баланс")
    assert "доступный кешбэк: 0,00" in await moved.inner_text()
    await page.screenshot(path=str(ARTIFACTS / "playground-cashback-moved-ru.png"))


async def test_a_withdrawal_is_approved_in_the_operators_pane(
    page: Any, playground: Playground
) -> None:
    """Ben earns $6 of cashback on certificates, withdraws it to his card with the password,
    and Olga approves it from the operators' pane; Ben is told it was paid."""
    from bot.services.cards import CardNumber

    assert playground.app is not None
    await page.locator("#users li[data-user-id='1002']").click()
    await page.locator("#user-title", has_text="Ben").wait_for()
    await send(page, "/start")
    await bot_reply(page, "Hello")
    await set_up_password(playground, 1002)
    await playground.app.services.cards.add(1002, CardNumber("Visa", "411111", "1111"), "12/30")
    for earlier, bought in enumerate((200, 400, 600)):
        await send(page, "/buy")
        await buy_for_myself(page, "200.00", "For myself")
        await pay_invoice(page, earlier)
        await bot_reply(page, f"Balance now: ${bought}.00")
    await send(page, "/cashback")
    await bot_reply(page, "Available: $6.00")
    await tap_button(page, "Withdraw")
    await tap_button(page, "1111")
    await bot_reply(page, "payment password")
    await send(page, "secret-pass-42")
    await bot_reply(page, "Withdrawal request #1")
    request = page.locator("#ops-messages .bubble", has_text="Withdrawal request #1").last
    await request.wait_for()
    assert "$6.00" in await request.inner_text() and "1111" in await request.inner_text()
    await page.locator("#ops-messages .keyboard button", has_text="Approve").last.click()
    await page.locator("#ops-messages .bubble", has_text="Approved and paid").last.wait_for()
    await bot_reply(page, "was paid")
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "playground-withdrawal-paid-en.png"))


# --- the first screen, a phone's width, a fresh start and a restart ----------------------------


async def open_page(driver: Any, url: str, width: int, height: int) -> tuple[Any, list[str]]:
    browser = await driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    context = await browser.new_context(viewport={"width": width, "height": height})
    tab = await context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    await tab.goto(url + "/")
    await tab.wait_for_selector("body[data-ready=true]")
    return tab, errors


async def no_overflow(page: Any, selector: str) -> None:
    """Nothing in ``selector`` reaches past its right edge, and no label is cut."""
    found = await page.evaluate(
        """(selector) => {
            const box = document.querySelector(selector);
            const edge = box.getBoundingClientRect().right + 1;
            const wide = [...box.querySelectorAll('*')]
                .filter((node) => node.offsetParent !== null)
                .filter((node) => node.getBoundingClientRect().right > edge)
                .map((node) => node.className || node.tagName);
            const cut = [...box.querySelectorAll('button')]
                .filter((node) => node.scrollWidth > node.clientWidth + 1)
                .map((node) => node.textContent);
            return { wide, cut, scrolls: box.scrollWidth > box.clientWidth + 1 };
        }""",
        selector,
    )
    assert found == {"wide": [], "cut": [], "scrolls": False}, (selector, found)


async def test_the_first_screen_says_what_to_do_and_a_fresh_start_erases_it(
    page: Any, playground: Playground
) -> None:
    hint = await page.locator("#hint").inner_text()
    assert "Анна (Russian)" in hint and "Ben (English)" in hint and "Olga: the operator" in hint
    assert await page.locator("#start-button").is_visible()
    assert await page.locator("#user-composer").is_hidden()
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "first-screen-1280.png"))

    await page.click("#start-button")
    await page.locator("#user-messages .bubble", has_text="Здравствуйте, Анна").wait_for()
    assert await page.locator("#user-composer").is_visible()
    await send(page, "/balance")
    await page.locator("#user-messages .bubble", has_text="Ваш баланс").wait_for()

    # A fresh start asks first; Cancel keeps everything.
    await page.click("#fresh-start")
    await page.locator("#reset-dialog", has_text="Start afresh?").wait_for()
    await page.click("#reset-dialog button[value=cancel]")
    assert await page.locator("#user-messages .msg-wrap").count() == 4
    await page.click("#fresh-start")
    await page.click("#reset-confirm")
    await page.locator(".toast", has_text="fresh start").wait_for()
    await page.locator("#start-button").wait_for()
    assert await page.locator("#user-messages .msg-wrap").count() == 0
    await page.locator("#inspector td", has_text="Nobody has written").wait_for()
    await page.click("#start-button")  # the new bot answers, on its empty database
    await page.locator("#user-messages .bubble", has_text="Здравствуйте, Анна").wait_for()


async def test_a_phone_shows_one_pane_at_a_time_and_nothing_is_cut(
    playground: Playground,
) -> None:
    playwright_api = pytest.importorskip("playwright.async_api")
    async with playwright_api.async_playwright() as driver:
        page, errors = await open_page(driver, playground.url, 390, 844)
        # The chat fills the screen; the other panes wait behind their tabs.
        assert await page.locator("#tabs").is_visible()
        assert await page.locator("#user-pane").is_visible()
        for hidden in ("#ops-pane", ".panel.people", "#inspector"):
            assert await page.locator(hidden).is_hidden(), hidden
        await page.click("#start-button")
        menu = page.locator("#user-messages .msg-wrap.with-keyboard").last
        await menu.wait_for()
        await no_overflow(page, "#user-pane")
        # The keyboard takes the chat's width, not the bubble's (measured in the page, which
        # may draw the chat again meanwhile).
        await page.wait_for_function(
            """() => {
                const boards = document.querySelectorAll('#user-messages .keyboard');
                const board = boards[boards.length - 1];
                const chat = document.querySelector('#user-messages').getBoundingClientRect();
                return board && board.getBoundingClientRect().width > chat.width - 40;
            }""",
            timeout=5000,
        )
        ARTIFACTS.mkdir(exist_ok=True)
        await page.screenshot(path=str(ARTIFACTS / "phone-chat-390.png"))

        await page.click("#tabs button[data-tab=people]")
        await page.locator("#users li[data-user-id='1002']").click()  # on to Ben's chat
        await page.locator("#user-title", has_text="Ben").wait_for()
        assert await page.locator("#user-pane").is_visible()
        await page.click("#start-button")
        await page.locator("#user-messages .bubble", has_text="Hello, Ben").wait_for()
        await send(page, "/support")
        await page.locator("#user-messages .bubble", has_text="ticket #1").wait_for()
        await send(page, "Where is my parcel?")

        await page.click("#tabs button[data-tab=ops]")
        relayed = page.locator("#ops-messages .msg-wrap", has_text="Where is my parcel?").last
        await relayed.wait_for()
        assert await page.locator("#user-pane").is_hidden()
        await no_overflow(page, "#ops-pane")
        await page.screenshot(path=str(ARTIFACTS / "phone-ops-390.png"))

        await page.click("#tabs button[data-tab=tools]")
        await page.click("#inspector-refresh")
        await page.locator("#inspector td", has_text="Ben").wait_for()
        await no_overflow(page, ".sidebar")
        await page.screenshot(path=str(ARTIFACTS / "phone-tools-390.png"))
        assert not errors, errors


async def test_operators_buttons_and_fault_notes_behave(page: Any, playground: Playground) -> None:
    """A press on a card's button in the operators' pane does not pick the card as the reply
    target; a fault's note stays in the chat after it is drawn again."""
    from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

    assert playground.app is not None and playground.app.settings.support_chat_id is not None
    markup = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="Look", callback_data="nothing:here")]]
    )
    await playground.app.bot.send_message(
        playground.app.settings.support_chat_id, "A card", reply_markup=markup
    )
    card = page.locator("#ops-messages .msg-wrap", has_text="A card")
    await card.locator("button", has_text="Look").click()
    await page.locator("#alert-dialog[open]").wait_for()  # the bot refuses a button it never made
    await page.click("#alert-dialog button")
    assert await page.get_attribute("#ops-input", "placeholder") == "Reply as the operator"
    assert await page.locator("#ops-messages .reply-target").count() == 0

    await page.click("#fault-flood")
    await page.locator("#fault-status", has_text="Armed").wait_for()
    await send(page, "/start")
    await page.locator("#user-messages .fault-note").wait_for()
    await page.locator("#user-messages .bubble", has_text="Здравствуйте").wait_for()
    await send(page, "/balance")
    await page.locator("#user-messages .bubble", has_text="Ваш баланс").wait_for()
    assert await page.locator("#user-messages .fault-note").count() == 1


async def test_a_restarted_playground_carries_on_in_the_open_page(tmp_path: Path) -> None:
    playwright_api = pytest.importorskip("playwright.async_api")
    data_dir = tmp_path / "playground"
    first = Playground(port=0, data_dir=data_dir)
    await first.start()
    port = int(first.url.rsplit(":", 1)[1])
    second: Playground | None = None
    try:
        async with playwright_api.async_playwright() as driver:
            page, errors = await open_page(driver, first.url, 1280, 800)
            await page.click("#start-button")
            await page.locator("#user-messages .bubble", has_text="Здравствуйте").wait_for()
            await page.click("button[data-step='day']")
            await page.locator(".toast", has_text="scheduled job").wait_for()
            travelled = first.clock.offset

            await first.stop()
            await page.locator("#offline").wait_for()
            second = Playground(port=port, data_dir=data_dir)
            await second.start()
            await page.locator("#offline").wait_for(state="hidden", timeout=15_000)
            await page.locator("#user-messages .bubble", has_text="Здравствуйте").wait_for()
            assert second.clock.offset >= travelled >= timedelta(days=1)  # not back to today
            await send(page, "/balance")  # heard at once, not taken for a redelivery
            await page.locator("#user-messages .bubble", has_text="Ваш баланс").wait_for()
            ARTIFACTS.mkdir(exist_ok=True)
            await page.screenshot(path=str(ARTIFACTS / "playground-after-restart.png"))
            assert not errors, errors
    finally:
        await first.stop()
        if second is not None:
            await second.stop()


async def test_the_bot_switches_to_webhooks_from_the_tools(playground: Playground) -> None:
    """The Delivery box restarts the bot on webhooks; the chat goes on and the box says which
    replica got what. At desktop width and on a phone."""
    playwright_api = pytest.importorskip("playwright.async_api")
    async with playwright_api.async_playwright() as driver:
        page, errors = await open_page(driver, playground.url, 1280, 800)
        three = page.locator("#delivery-mode option[value='3']")
        assert await three.is_disabled(), "on its own SQLite the playground runs one process"
        await page.select_option("#delivery-mode", "1")
        await page.click("#delivery button[type=submit]")
        await page.locator("#delivery-status", has_text="webhook · 1 replica").wait_for()
        await send(page, "/start")
        await page.locator("#user-messages .bubble", has_text="Здравствуйте").wait_for()
        await page.locator("#delivery-status", has_text="delivered").wait_for()
        await page.wait_for_function(
            "() => /replica 1 \\(port \\d+\\): [1-9]/.test("
            "document.querySelector('#delivery-status').textContent)",
            timeout=5000,
        )
        ARTIFACTS.mkdir(exist_ok=True)
        await page.screenshot(path=str(ARTIFACTS / "playground-webhook-1280.png"))
        assert playground.emulator.webhook()["url"]
        await page.close()

        phone, phone_errors = await open_page(driver, playground.url, 390, 844)
        await phone.click("#tabs button[data-tab=tools]")
        await phone.locator("#delivery-status", has_text="webhook · 1 replica").wait_for()
        await no_overflow(phone, ".sidebar")
        await phone.screenshot(path=str(ARTIFACTS / "playground-webhook-tools-390.png"))
        assert not errors and not phone_errors, errors + phone_errors


async def test_the_mini_app_shows_the_wallet_at_desktop_and_phone_width(
    playground: Playground,
) -> None:
    """Анна buys $20, opens the wallet from the menu button: balance, certificate, cashback, the
    chart; Telegram's dark theme reaches it; forged initData gets 401 and a plain word. Then Ben
    on a phone opens it from /app's button, full screen."""
    playwright_api = pytest.importorskip("playwright.async_api")
    ARTIFACTS.mkdir(exist_ok=True)
    async with playwright_api.async_playwright() as driver:
        page, errors = await open_page(driver, playground.url, 1280, 800)
        statuses: list[tuple[str, int]] = []
        page.on("response", lambda r: statuses.append((r.url, r.status)))
        await send(page, "/buy")
        await buy_for_myself(page, "20,00", "Себе")
        await page.locator("#user-messages .keyboard button", has_text="Pay").last.click()
        await bot_reply(page, "На баланс зачислено")

        await page.click("#menu-app-button")
        app = page.frame_locator("#webapp-frame")
        await app.locator("#balance", has_text="20,00").wait_for()
        assert "1 сертификат" in await app.locator("#live-certificates").inner_text()
        await app.locator("#certificates li", has_text="куплен").wait_for()
        assert "0,20" in await app.locator("#cb-available").inner_text()  # 1% at once
        await page.screenshot(path=str(ARTIFACTS / "miniapp-overview-1280.png"))
        await app.locator("button[data-tab=history]").click()
        await app.locator("#chart svg path.line").wait_for()
        await app.locator("#history li", has_text="20,00").first.wait_for()
        async with page.expect_download() as downloading:
            await app.locator("#history-csv").click()
        download = await downloading.value
        assert download.suggested_filename == "giftwallet-history-1001.csv"
        saved = ARTIFACTS / "miniapp-history.csv"
        await download.save_as(str(saved))
        assert saved.read_text("utf-8").startswith("date,entry,operation")
        light = await app.locator("body").evaluate("b => getComputedStyle(b).backgroundColor")
        await page.select_option("#webapp-theme", "dark")
        await page.wait_for_function(
            """(light) => {
                const frame = document.querySelector('#webapp-frame').contentDocument;
                return getComputedStyle(frame.body).backgroundColor !== light;
            }""",
            arg=light,
        )
        await page.screenshot(path=str(ARTIFACTS / "miniapp-history-dark-1280.png"))

        await page.click("#webapp-close")
        await page.check("#webapp-forge")
        await page.click("#menu-app-button")
        await app.locator("#status", has_text="Откройте эту страницу из бота").wait_for()
        assert await app.locator("#dashboard").is_hidden()
        assert any(url.endswith("/app/api/session") and code == 401 for url, code in statuses)
        assert not errors, errors

        phone, phone_errors = await open_page(driver, playground.url, 390, 844)
        await phone.click("#tabs button[data-tab=people]")
        await phone.locator("#users li[data-user-id='1002']").click()
        await phone.locator("#user-title", has_text="Ben").wait_for()
        await send(phone, "/app")
        await phone.locator("#user-messages .keyboard button", has_text="Open the wallet").click()
        app = phone.frame_locator("#webapp-frame")
        await app.locator("#balance", has_text="$0.00").wait_for()
        await app.locator("#certificates li", has_text="No certificates yet").wait_for()
        box = await phone.locator("#webapp-pane").bounding_box()
        assert box is not None and box["width"] == 390 and box["height"] >= 800
        await no_overflow(phone, "#webapp-pane")
        await phone.screenshot(path=str(ARTIFACTS / "miniapp-phone-390.png"))
        await app.locator("button[data-tab=orders]").click()
        await app.locator("#orders li", has_text="No orders yet").wait_for()
        assert not phone_errors, phone_errors


@pytest.mark.parametrize(("width", "height"), [(390, 844), (1280, 800)])
async def test_an_order_is_paid_in_the_mini_app_with_the_password_then_biometrics(
    playground: Playground, width: int, height: int
) -> None:
    """Анна pays one order with her password (and lets this phone use Face ID), a second one
    with Face ID approved; a third, denied, charges nothing. Then a gift and a cashback move."""
    playwright_api = pytest.importorskip("playwright.async_api")
    async with playwright_api.async_playwright() as driver:
        page, errors = await open_page(driver, playground.url, width, height)
        await pay_in_the_mini_app(page, playground, width)
        assert not errors, errors


async def pay_in_the_mini_app(page: Any, playground: Playground, width: int) -> None:
    from bot.domain.money import Money
    from bot.services.security import QUESTION_CODES

    ARTIFACTS.mkdir(exist_ok=True)
    assert playground.app is not None
    services = playground.app.services
    await send(page, "/start")
    await bot_reply(page, "Здравствуйте")
    answers = tuple([await services.security.hash_answer("ответ")] * 3)
    hashed = await services.security.hash_new_password("secret-pass-42")
    await services.security.set_up(1001, hashed, QUESTION_CODES[:3], answers)
    await send(page, "/buy")
    await buy_for_myself(page, "50,00", "Себе")
    await page.locator("#user-messages .keyboard button", has_text="Pay").last.click()
    await bot_reply(page, "На баланс зачислено")
    for title, cents in (("Лампа", 1201), ("Кабель", 300), ("Наклейка", 100)):
        await services.orders.create(1001, title, Money(cents, "USD"), actor="operator")

    async def balance() -> int:
        return (await services.ledger.balances(1001)).balance.minor

    await page.click("#menu-app-button")
    app = page.frame_locator("#webapp-frame")
    await app.locator("#balance", has_text="50,00").wait_for()
    await app.locator("button[data-tab=orders]").click()
    await app.locator("#orders li", has_text="Лампа").locator("button.pay").click()
    await app.locator("#confirm-amount", has_text="12,01").wait_for()
    # Telegram's main button under the app confirms; the sheet's own is for other clients.
    await page.locator("#webapp-main", has_text="12,01").wait_for()
    assert await app.locator("#confirm-submit").is_hidden()
    assert await page.locator("#webapp-back").is_visible()
    await app.locator("#confirm-password").fill("not-my-password")
    await page.click("#webapp-main")
    await app.locator("#confirm-error", has_text="Неверный").wait_for()
    await app.locator("#confirm-password").fill("secret-pass-42")
    await app.locator("#confirm-enroll").check()
    await page.screenshot(path=str(ARTIFACTS / f"miniapp-confirm-password-{width}.png"))
    await page.click("#webapp-main")
    await page.locator("#bio-text", has_text="Allow Giftwallet").wait_for()
    await page.click("#bio-approve")
    await app.locator("#toast", has_text="Оплачено").wait_for()
    paid = app.locator("#orders li", has_text="Лампа").locator("button.pay")
    await paid.wait_for(state="detached")
    assert await balance() == 5000 - 1201

    await app.locator("#orders li", has_text="Кабель").locator("button.pay").click()
    await app.locator("#confirm-biometric").click()
    await page.locator("#bio-text", has_text="Face ID").wait_for()
    await page.screenshot(path=str(ARTIFACTS / f"miniapp-biometric-prompt-{width}.png"))
    await page.click("#bio-approve")
    await app.locator("#toast", has_text="Оплачено").wait_for()
    assert await balance() == 5000 - 1201 - 300

    await app.locator("#orders li", has_text="Наклейка").locator("button.pay").click()
    await app.locator("#confirm-biometric").click()
    await page.click("#bio-deny")
    await app.locator("#confirm-error", has_text="Деньги не списаны").wait_for()
    assert await balance() == 5000 - 1201 - 300
    await page.screenshot(path=str(ARTIFACTS / f"miniapp-biometric-denied-{width}.png"))

    # A gift from the balance, confirmed with Face ID: its link is ready to share.
    await page.click("#webapp-back")  # Telegram's back button cancels, as the sheet's would
    await app.locator("#confirm").wait_for(state="hidden")
    assert await page.locator("#webapp-main").is_hidden()
    await app.locator("button[data-tab=overview]").click()
    await app.locator("#gift-amount").fill("5")
    await app.locator("#gift-note").fill("С праздником!")
    await app.locator("#gift-form button[type=submit]").click()
    await app.locator("#confirm-amount", has_text="5,00").wait_for()
    await app.locator("#confirm-biometric").click()
    await page.click("#bio-approve")
    await app.locator("#gift-link", has_text="?start=gift_").wait_for()
    await app.locator("#gift-share").click()  # the card, prepared by the bot, into a chat
    await page.locator("#toasts", has_text="Shared into a chat").wait_for()
    await app.locator("#toast", has_text="Отправлено").wait_for()
    assert await balance() == 5000 - 1201 - 300 - 500
    await page.screenshot(path=str(ARTIFACTS / f"miniapp-gift-ready-{width}.png"))
    # Cashback: half a dollar from the certificate, moved to the balance with the password.
    await app.locator("button[data-tab=cashback]").click()
    await app.locator("#cb-available-2", has_text="0,50").wait_for()
    assert await app.locator("#cb-no-cards").is_visible()
    await app.locator("#cb-move").click()
    await app.locator("#confirm-password").fill("secret-pass-42")
    await page.click("#webapp-main")
    await app.locator("#toast", has_text="кешбэк на вашем балансе").wait_for()
    await app.locator("#cb-available-2", has_text="0,00").wait_for()
    assert await balance() == 5000 - 1201 - 300 - 500 + 50
