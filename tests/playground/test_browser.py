"""The playground page in a real headless Chromium (Debian's package, driven by Playwright)."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
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
        context = await browser.new_context(viewport={"width": 1400, "height": 860})
        tab = await context.new_page()
        errors: list[str] = []
        tab.on("pageerror", lambda error: errors.append(str(error)))
        await tab.goto(playground.url + "/")
        await tab.wait_for_selector("body[data-ready=true]")
        yield tab
        await browser.close()
        assert not errors, errors


async def send(page: Any, text: str) -> None:
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

    # A section that has not landed yet answers with a toast, and nothing spins.
    await edited.locator("button[data-callback='m:orders']").click()
    await page.locator(".toast", has_text="coming soon").wait_for()

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


async def test_invoice_card_pays_and_shows_a_refusal(page: Any, playground: Playground) -> None:
    """The Stars flow from the page. No feature sends invoices yet, so the test plays the bot."""
    from aiogram.types import LabeledPrice

    assert playground.app is not None
    bot = playground.app.bot
    for title in ("Gift certificate $25", "Gift certificate $50"):
        await bot.send_invoice(
            chat_id=1001,
            title=title,
            description="Adds to your one balance",
            payload=f"demo:{title}",
            currency="XTR",
            prices=[LabeledPrice(label=title, amount=250)],
        )
    cards = page.locator("#user-messages .invoice")
    await cards.nth(1).wait_for()
    assert "⭐️ 250" in await cards.first.inner_text()

    async def answer_checkout(ok: bool, reason: str | None = None) -> None:
        emulator = playground.emulator
        while not [p for p in emulator.payments() if p["status"] == "pending"]:
            await emulator.wait_for_call("getUpdates", after=emulator.call_count(), timeout=5)
        pending = next(p for p in emulator.payments() if p["status"] == "pending")
        await bot.answer_pre_checkout_query(
            pending["pre_checkout_query_id"], ok=ok, error_message=reason
        )

    pay_buttons = page.locator("#user-messages .keyboard button", has_text="Pay")
    await pay_buttons.first.click()
    await answer_checkout(False, "This certificate is sold out")
    await page.locator("#alert-text", has_text="sold out").wait_for()
    await page.locator("#alert-dialog button").click()

    await pay_buttons.nth(1).click()
    await answer_checkout(True)
    await page.locator("#user-messages .service", has_text="You paid ⭐️ 250").wait_for()
    await page.locator(".invoice-status.paid").wait_for()
    # No feature claims the payment yet: the bot logs it rather than answering "I didn't
    # understand". One chat is handled in order, so once /balance is answered, so was that.
    await send(page, "/balance")
    await page.locator("#user-messages .bubble", has_text="Ваш баланс").wait_for()
    assert not await page.locator("#user-messages .bubble", has_text="Не понял").count()
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "playground-invoice.png"))


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
    await page.locator("#ops-messages .bubble", has_text="Delivered to ticket #1").wait_for()
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "support-relay.png"))
