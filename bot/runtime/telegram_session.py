"""The Bot API session every Bot of the application uses.

aiogram builds each request by dumping the method's pydantic model, walking the dump, and
url-encoding it as a form, then parses the answer twice (``json.loads``, then validation). That
is about half of what a plain aiogram bot spends on an update. This session keeps aiogram's
interface (handlers, session middlewares and errors are unchanged) and sends the same call leaner:

- the method's fields are read as they are and written as one JSON body by orjson;
- a keyboard built once (``seal``) is turned into its wire form once, not at every send;
- the answer is validated straight from its bytes by pydantic-core.

A call carrying a file, and any answer that is not a plain success, take aiogram's own path.
"""

from __future__ import annotations

import datetime
import weakref
from enum import Enum
from http import HTTPStatus
from typing import Any, ClassVar, cast

import orjson
from aiogram import Bot
from aiogram.client.default import Default
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramNetworkError
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import InlineKeyboardMarkup, InputFile, TelegramObject
from aiohttp import ClientError, ClientTimeout
from pydantic import ValidationError

JSON_HEADERS = {"Content-Type": "application/json"}

# id(markup) -> (a weak reference that proves it is the same object, its wire form once built)
_sealed: dict[int, list[Any]] = {}


def seal(markup: InlineKeyboardMarkup) -> InlineKeyboardMarkup:
    """Promise that ``markup`` never changes again, so its wire form can be kept.

    Keyboards built once (``bot.keyboards.cache``) answer everyone with the same object.
    """
    key = id(markup)
    if key not in _sealed:
        ref = weakref.ref(markup, lambda _ref: _sealed.pop(key, None))
        _sealed[key] = [ref, None]
    return markup


class _NeedsForm(Exception):
    """The call carries a file: only a multipart form can send it."""


def wire(value: Any, bot: Bot) -> Any:
    """``value`` as JSON-ready data, the way aiogram's ``prepare_value`` would send it."""
    if value is None or isinstance(value, str | int | float):
        return value
    if isinstance(value, TelegramObject):
        entry = _sealed.get(id(value))
        if entry is not None and entry[0]() is value:
            if entry[1] is None:
                entry[1] = wire(value.model_dump(warnings=False, exclude_none=True), bot)
            return entry[1]
        return wire(value.model_dump(warnings=False, exclude_none=True), bot)
    if isinstance(value, dict):
        return {key: item for key, raw in value.items() if (item := wire(raw, bot)) is not None}
    if isinstance(value, list | tuple):
        return [item for raw in value if (item := wire(raw, bot)) is not None]
    if isinstance(value, Default):
        return wire(bot.default[value.name], bot)
    if isinstance(value, Enum):
        return wire(value.value, bot)
    if isinstance(value, datetime.timedelta):
        return round((datetime.datetime.now() + value).timestamp())  # as aiogram: local time
    if isinstance(value, datetime.datetime):
        return round(value.timestamp())
    if isinstance(value, InputFile):
        raise _NeedsForm
    return value


def request_body(method: TelegramMethod[Any], bot: Bot) -> bytes:
    fields = {**method.__dict__, **(method.__pydantic_extra__ or {})}
    return orjson.dumps(
        {
            key: item
            for key, raw in fields.items()
            if (item := wire(raw, bot)) is not None and item != ""
        }
    )


class TelegramSession(AiohttpSession):
    """aiogram's aiohttp session, sending JSON bodies and parsing answers in one step.

    aiogram parses each answer as ``Response[T]``, and pydantic keeps such parametrized models
    only weakly: once the garbage collector drops one, the next call builds it again, about 3 ms
    of schema generation. A strong reference per result type makes it a dictionary lookup.
    """

    _response_types: ClassVar[dict[Any, type[Response[Any]]]] = {}

    async def close(self) -> None:
        """aiogram waits 250 ms after closing for TLS connections to shut down gracefully; a
        plain-HTTP Bot API server (a local one, the emulator) has none to wait for."""
        if self.api.base.startswith("http://"):
            if self._session is not None and not self._session.closed:
                await self._session.close()
            return
        await super().close()

    def response_type(self, method: TelegramMethod[TelegramType]) -> type[Response[TelegramType]]:
        returning = method.__returning__
        known = self._response_types.get(returning)
        if known is None:
            known = self._response_types[returning] = Response[returning]  # type: ignore[valid-type]
        return known

    def check_response(
        self, bot: Bot, method: TelegramMethod[TelegramType], status_code: int, content: str
    ) -> Response[TelegramType]:
        self.response_type(method)
        return super().check_response(bot, method, status_code, content)

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        timeout: int | None = None,  # noqa: ASYNC109 - aiogram's session interface
    ) -> TelegramType:
        try:
            body = request_body(method, bot)
        except _NeedsForm:
            return await super().make_request(bot, method, timeout)
        session = await self.create_session()
        url = self.api.api_url(token=bot.token, method=method.__api_method__)
        try:
            async with session.post(
                url,
                data=body,
                headers=JSON_HEADERS,
                timeout=ClientTimeout(total=self.timeout if timeout is None else timeout),
            ) as answer:
                status, content = answer.status, await answer.read()
        except TimeoutError as exc:
            raise TelegramNetworkError(method=method, message="Request timeout error") from exc
        except ClientError as exc:
            raise TelegramNetworkError(
                method=method, message=f"{type(exc).__name__}: {exc}"
            ) from exc
        if status == HTTPStatus.OK:
            try:
                response = self.response_type(method).model_validate_json(
                    content, context={"bot": bot}
                )
            except ValidationError:
                response = None
            if response is not None and response.ok:
                return cast(TelegramType, response.result)
        # An error, or an answer that doesn't parse: aiogram's checks raise what they always did.
        text = content.decode("utf-8", errors="replace")
        return cast(TelegramType, self.check_response(bot, method, status, text).result)


def telegram_session(api_url: str | None) -> TelegramSession:
    if api_url:
        return TelegramSession(api=TelegramAPIServer.from_base(api_url))
    return TelegramSession()
