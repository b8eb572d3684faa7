"""The dispatcher offers a keyed update only where it could match, in aiogram's order."""

from __future__ import annotations

import datetime
from enum import StrEnum
from typing import Any

import pytest
from aiogram import Bot, Dispatcher, F, Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.filters import Command, CommandStart, StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.state import State, StatesGroup
from aiogram.fsm.storage.base import StorageKey
from aiogram.types import CallbackQuery, Chat, Message, Update, User

from bot.handlers import create_root_router
from bot.handlers.index import IndexedDispatcher, event_key, named_keys
from bot.handlers.security import Change


class Alpha(CallbackData, prefix="a"):
    n: int


class Beta(CallbackData, prefix="b"):
    n: int


class Kind(StrEnum):
    X = "x"
    Y = "y"


class Pick(CallbackData, prefix="p"):
    kind: Kind
    n: int


PERSON = User(id=1, is_bot=False, first_name="A")
CHAT = Chat(id=1, type="private")


def message(text: str, update_id: int = 1) -> Update:
    sent = Message(message_id=1, date=datetime.datetime.now(datetime.UTC), chat=CHAT, text=text)
    return Update(update_id=update_id, message=sent)


def tap(data: str) -> Update:
    query = CallbackQuery(id="q", from_user=PERSON, chat_instance="c", data=data)
    return Update(update_id=1, callback_query=query)


def build() -> tuple[Dispatcher, list[str]]:
    """Five routers; each records its name when it checks or handles an update."""
    reached: list[str] = []

    def router(name: str) -> Router:
        made = Router(name=name)

        async def seen(event: Any) -> bool:
            reached.append(f"{name}?")
            return True

        made.message.filter(seen)
        made.callback_query.filter(seen)
        return made

    def handled(name: str) -> Any:
        async def handler(event: Any) -> str:
            reached.append(name)
            return name

        return handler

    alpha, start, text, both, last = (router(n) for n in ("alpha", "start", "text", "both", "last"))
    alpha.callback_query.register(handled("alpha"), Alpha.filter(F.n == 1))
    start.message.register(handled("start"), CommandStart())
    start.message.register(handled("help"), Command("help", "HELP"))
    text.message.register(handled("text"), F.text == "hello")
    both.callback_query.register(handled("both"), Alpha.filter())
    both.callback_query.register(handled("beta"), Beta.filter())
    last.callback_query.register(handled("last"))
    dispatcher = IndexedDispatcher()
    dispatcher.include_routers(alpha, start, text, both, last)
    return dispatcher, reached


@pytest.mark.parametrize(
    ("update", "expected"),
    [
        (tap("a:1"), ["alpha?", "alpha"]),
        (tap("a:2"), ["alpha?", "both?", "both"]),  # alpha is offered it and declines, as before
        (tap("b:5"), ["both?", "beta"]),
        (tap("zzz:forged"), ["last?", "last"]),
        (message("/start"), ["start?", "start"]),
        (message("/help now"), ["start?", "help"]),
        (message("/HELP"), ["start?", "help"]),
        (message("/Help"), ["start?", "text?"]),  # aiogram matches the case it was given
        (message("hello"), ["text?", "text"]),
        (message("/unknown"), ["text?"]),
    ],
)
async def test_an_update_reaches_the_handler_aiogram_would_pick(
    update: Update, expected: list[str]
) -> None:
    dispatcher, reached = build()
    await dispatcher.feed_update(Bot("42:TEST"), update)

    assert reached == expected


async def test_forged_keys_do_not_grow_the_index() -> None:
    dispatcher, _ = build()
    bot = Bot("42:TEST")
    for n in range(300):
        await dispatcher.feed_update(bot, tap(f"forged{n}:1"))
        await dispatcher.feed_update(bot, message(f"/forged{n}"))
    assert isinstance(dispatcher, IndexedDispatcher)
    assert sum(len(routes) for routes in dispatcher._routes.values()) <= 8


def offered(route: tuple[Any, ...]) -> list[str]:
    """The routers whose handlers a route offers an update to, in order."""
    return [
        name
        for offer in route
        for name in ([offer.router.name] if offer.handlers else []) + offered(offer.routers)
    ]


def test_the_bots_keyed_routers_are_read() -> None:
    """The feature routers of the bot: commands and callback prefixes are read from filters."""
    root = create_root_router()
    dispatcher = IndexedDispatcher()
    dispatcher.include_router(root)
    by_name = {router.name: router for router in root.sub_routers}
    assert named_keys(by_name["start"], "message") == {("/", "start")}
    assert named_keys(by_name["history"], "callback_query") == {"hist"}
    assert named_keys(by_name["payments"], "callback_query") == set()
    # A History button goes to the history router, then to the one that takes any button (the
    # stale-button answer).
    assert offered(dispatcher._route("callback_query", ("hist", "2"), None)) == [
        "history",
        "fallback",
    ]
    # A menu button names its entry too (Menu.filter(F.action == MenuAction.SHOP)): other
    # entries' handlers are skipped.
    assert named_keys(by_name["shop"], "callback_query") >= {("m", "shop")}
    assert offered(dispatcher._route("callback_query", ("m", "shop"), None)) == ["shop", "fallback"]
    for forged in (("forged-prefix", "1"), ("m", "forged")):
        assert offered(dispatcher._route("callback_query", forged, None)) == ["fallback"]
    # Outside any conversation, a command skips every handler of a step; inside a step of the
    # password change, what is typed goes to that step's handlers.
    command = offered(dispatcher._route("message", ("/", "cashback"), None))
    assert "security" not in command and "cashback-private" in command
    # A payment's service message goes to the payments router; a command never does.
    assert "payments-private" not in command
    paid = offered(dispatcher._route("message", ("service", "successful_payment"), None))
    assert paid[0] == "payments-private"
    typed = dispatcher._route("message", ("s", "ecret"), Change.password.state)
    [security] = [offer for offer in typed[0].routers if offer.router.name == "security"]
    assert 1 <= len(security.handlers) < len(by_name["security"].message.handlers) // 3


def nested(dispatcher: Dispatcher) -> tuple[Dispatcher, list[str]]:
    """Routers within routers, router filters that add data, inner middlewares, a handler that
    skips itself: each records what aiogram hands it."""
    seen: list[str] = []

    def handler(name: str, skip: bool = False) -> Any:
        async def handle(event: Any, event_router: Router, handler: Any, **data: Any) -> str:
            extra = sorted(key for key in data if key.startswith("x_"))
            seen.append(f"{name} in {event_router.name} {handler.callback.__name__} {extra}")
            if skip:
                raise SkipHandler
            return name

        handle.__name__ = name
        return handle

    async def inner(handler: Any, event: Any, data: dict[str, Any]) -> Any:
        seen.append(f"inner {data['event_router'].name}")
        return await handler(event, data)

    def adds(key: str) -> Any:
        async def check(event: Any) -> dict[str, Any]:
            return {key: True}

        return check

    shop, orders, deep, menu = (Router(name=n) for n in ("shop", "orders", "deep", "menu"))
    shop.callback_query.filter(adds("x_shop"))
    shop.callback_query.middleware(inner)
    shop.callback_query.register(handler("shop_a", skip=True), adds("x_skip"), Alpha.filter())
    shop.callback_query.register(handler("shop_a2"), Alpha.filter(F.n == 2))
    orders.callback_query.filter(adds("x_orders"))
    orders.callback_query.register(handler("orders_b"), Beta.filter(F.n == 1))
    deep.callback_query.register(handler("deep_b"), Beta.filter())
    deep.callback_query.register(handler("deep_any"))
    orders.include_router(deep)
    shop.include_router(orders)
    menu.callback_query.register(handler("pick_x"), Pick.filter(F.kind == Kind.X))
    menu.callback_query.register(handler("pick_y_big"), Pick.filter((F.kind == Kind.Y) & (F.n > 5)))
    menu.callback_query.register(handler("pick_y"), Pick.filter(F.kind == Kind.Y))
    menu.callback_query.register(handler("pick_any"), Pick.filter())
    menu.message.register(handler("menu_start"), CommandStart())
    menu.message.register(handler("menu_text"), F.text)
    root = Router(name="root")
    root.include_routers(shop, menu)
    dispatcher.include_router(root)
    return dispatcher, seen


@pytest.mark.parametrize(
    "update",
    [
        *(tap(data) for data in ("a:1", "a:2", "b:1", "b:2", "c:9")),
        *(tap(data) for data in ("p:x:1", "p:y:9", "p:y:1", "p:z:1", "p:x")),
        message("/start"),
        message("x"),
    ],
    ids=[
        *("a1-skipped", "a2", "b1", "b2-deeper", "unknown-prefix"),
        *("pick-x", "pick-y-big", "pick-y", "pick-unknown-value", "pick-short"),
        *("start", "text"),
    ],
)
async def test_nested_routers_see_what_aiogram_gives_them(update: Update) -> None:
    """The same tree under aiogram's own dispatcher and under the index: the same handler runs,
    with the same router, handler, filter data and inner middlewares, and answers the same."""
    plain, plain_seen = nested(Dispatcher())
    indexed, indexed_seen = nested(IndexedDispatcher())
    bot = Bot("42:TEST")

    expected = await plain.feed_update(bot, update)
    answered = await indexed.feed_update(bot, update)

    assert (answered, indexed_seen) == (expected, plain_seen)
    assert plain_seen  # each case reaches a handler


class Form(StatesGroup):
    name = State()
    age = State()


def in_states() -> tuple[Router, list[str]]:
    """Handlers keyed by state in each way StateFilter takes one, beside a command and text."""
    seen: list[str] = []

    def handler(name: str) -> Any:
        async def handle(event: Any) -> str:
            seen.append(name)
            return name

        return handle

    form = Router(name="form")
    form.message.register(handler("name"), StateFilter(Form.name), F.text == "x")
    form.message.register(handler("go-in-age"), Command("go"), StateFilter(Form.age))
    form.message.register(handler("any-form"), StateFilter(Form))
    form.message.register(handler("no-state"), StateFilter(None), F.text == "x")
    form.message.register(handler("by-name"), StateFilter("custom:step"))
    form.message.register(handler("star"), StateFilter("*"), Command("go"))
    form.message.register(handler("last"))
    return form, seen


@pytest.mark.parametrize("text", ["/go", "x", "y"])
@pytest.mark.parametrize("state", [None, Form.name, Form.age, "custom:step", "elsewhere:step"])
async def test_a_conversation_state_reaches_the_handler_aiogram_would_pick(
    text: str, state: Any
) -> None:
    bot = Bot("42:TEST")
    answers = []
    for dispatcher in (Dispatcher(), IndexedDispatcher()):
        form, seen = in_states()
        dispatcher.include_router(form)
        key = StorageKey(bot_id=bot.id, chat_id=CHAT.id, user_id=PERSON.id)
        await dispatcher.storage.set_state(key, state)
        sent = Message(
            message_id=1,
            date=datetime.datetime.now(datetime.UTC),
            chat=CHAT,
            from_user=PERSON,
            text=text,
        )
        answered = await dispatcher.feed_update(bot, Update(update_id=1, message=sent))
        answers.append((answered, seen))

    assert answers[0] == answers[1]


def test_a_payment_is_keyed_by_its_service_message() -> None:
    from aiogram.types import SuccessfulPayment

    payment = SuccessfulPayment(
        currency="XTR",
        total_amount=1,
        invoice_payload="p",
        telegram_payment_charge_id="c",
        provider_payment_charge_id="",
    )
    sent = Message(
        message_id=1,
        date=datetime.datetime.now(datetime.UTC),
        chat=CHAT,
        successful_payment=payment,
    )
    assert event_key("message", sent) == ("service", "successful_payment")
    command = message("/Start@Bot now").message
    assert command is not None
    assert event_key("message", command) == ("/", "start")


async def test_whole_updates_keep_their_middlewares_and_unknown_kinds_go_unhandled() -> None:
    from aiogram.dispatcher.event.bases import UNHANDLED

    bot = Bot("42:TEST")
    dispatcher, _ = build()
    seen: list[str] = []

    async def around(handler: Any, event: Any, data: dict[str, Any]) -> Any:
        seen.append("update middleware")
        return await handler(event, data)

    assert await dispatcher.feed_update(bot, tap("b:5")) == "beta"
    dispatcher.update.middleware(around)  # from now on, aiogram's own path
    assert await dispatcher.feed_update(bot, tap("b:5")) == "beta"
    assert seen == ["update middleware"]

    unknown = Update.model_validate({"update_id": 9, "brand_new_kind": {}})
    with pytest.warns(RuntimeWarning, match="unknown update type"):
        assert await IndexedDispatcher().feed_update(bot, unknown) is UNHANDLED
