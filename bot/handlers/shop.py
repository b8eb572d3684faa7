"""The shop: categories → a page of products → a product card with a quantity → an order."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot.domain.models import UserRecord
from bot.domain.money import Money
from bot.handlers.filters import PrivateChat
from bot.i18n import Translator
from bot.keyboards.callbacks import Menu, MenuAction, Shop, ShopStep
from bot.keyboards.orders import category_keyboard, product_keyboard, shop_keyboard
from bot.screens import orders as order_screens
from bot.screens import show
from bot.services import Services


async def shop_home(
    event: Message | CallbackQuery, t: Translator, services: Services, state: FSMContext
) -> None:
    await state.clear()
    categories = tuple((c.id, c.title(t.locale)) for c in services.catalog.categories())
    text = t("shop-home") if categories else t("shop-empty")
    await show(event, text, shop_keyboard(t, categories))


async def category(
    callback: CallbackQuery, callback_data: Shop, t: Translator, services: Services
) -> None:
    chosen = services.catalog.category(callback_data.category)
    offers = await services.catalog.page(chosen.id, callback_data.page)
    labels = [
        (
            offer.product.id,
            t(
                "shop-product-button" if offer.available else "shop-product-button-sold-out",
                title=offer.product.title(t.locale),
                price=t.money(offer.price),
            ),
        )
        for offer in offers.items
    ]
    text = t(
        "shop-category", title=chosen.title(t.locale), page=offers.number + 1, pages=offers.pages
    )
    await show(
        callback, text, category_keyboard(t, chosen.id, labels, offers.number, more=offers.more)
    )


async def product(
    callback: CallbackQuery, callback_data: Shop, t: Translator, services: Services
) -> None:
    offer = await services.catalog.offer(callback_data.product)
    quantity = min(max(callback_data.quantity, 1), 10)
    total = Money(offer.price.minor * quantity, offer.price.currency)
    text = t(
        "shop-product",
        title=offer.product.title(t.locale),
        description=offer.product.description(t.locale),
        price=t.money(offer.price),
        cashback=t.percent(offer.product.cashback_percent),
        stock=offer.available,
        quantity=quantity,
        total=t.money(total),
    )
    keyboard = product_keyboard(
        t, offer.product.category, offer.product.id, quantity, available=offer.available
    )
    await show(callback, text, keyboard)


async def buy(
    callback: CallbackQuery,
    callback_data: Shop,
    t: Translator,
    user: UserRecord,
    services: Services,
) -> None:
    card = callback.message.message_id if callback.message is not None else 0
    order = await services.catalog.order(
        user.id, callback_data.product, callback_data.quantity, t.locale, card=card
    )
    await show(callback, order_screens.card(t, await services.orders.card(user.id, order.id)))


def create_router() -> Router:
    router = Router(name="shop")
    router.message.filter(PrivateChat())
    router.callback_query.filter(PrivateChat())
    router.message.register(shop_home, Command("shop"))
    router.callback_query.register(shop_home, Menu.filter(F.action == MenuAction.SHOP))
    router.callback_query.register(category, Shop.filter(F.step == ShopStep.CATEGORY))
    router.callback_query.register(product, Shop.filter(F.step == ShopStep.PRODUCT))
    router.callback_query.register(buy, Shop.filter(F.step == ShopStep.BUY))
    return router
