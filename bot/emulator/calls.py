"""The call log tests wait on, and the fault switches that make the next call fail."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from bot.emulator.base import EmulatorBase
from bot.emulator.records import Call, Fault
from bot.emulator.wire import ApiError


class CallsMixin(EmulatorBase):
    # ------------------------------------------------------------------ calls

    def calls(self, method: str | None = None) -> list[Call]:
        if method is None:
            return list(self._calls)
        name = self._canonical(method)
        return [call for call in self._calls if call.method == name]

    def call_count(self) -> int:
        """The index the next recorded call will get: a mark for ``wait_for_call(after=...)``."""
        return len(self._calls)

    async def wait_until_polling(
        self, bot_task: asyncio.Task[Any], *, after: int = 0, limit: float = 30.0
    ) -> None:
        """Wait for the bot's first getUpdates (it has migrated and published its commands).

        If the bot's task ends first, its start-up failure is raised here instead.
        """
        await self._wait_for_start("getUpdates", bot_task, after, limit)

    async def wait_until_serving(
        self, bot_task: asyncio.Task[Any], *, after: int = 0, limit: float = 30.0
    ) -> None:
        """Wait for the bot's setWebhook (it has migrated and listens); as wait_until_polling."""
        await self._wait_for_start("setWebhook", bot_task, after, limit)

    async def _wait_for_start(
        self, method: str, bot_task: asyncio.Task[Any], after: int, limit: float
    ) -> None:
        waiter = asyncio.ensure_future(self.wait_for_call(method, after=after, timeout=limit))
        done, _ = await asyncio.wait({waiter, bot_task}, return_when=asyncio.FIRST_COMPLETED)
        if bot_task in done:
            waiter.cancel()
            bot_task.result()
            msg = f"the bot stopped before its first {method}"
            raise RuntimeError(msg)
        waiter.result()

    async def wait_until_confirmed(self, limit: float = 30.0) -> None:
        """Wait until the bot has confirmed every queued update: by polling past it, or by
        answering its webhook POST 2xx."""
        if self._webhook["url"]:
            async with self._updates_changed:
                await asyncio.wait_for(
                    self._updates_changed.wait_for(lambda: not self._updates), limit
                )
            return
        while self._updates:
            await self.wait_for_call("getUpdates", after=len(self._calls), timeout=limit)

    async def wait_for_call(
        self,
        method: str,
        predicate: Callable[[Call], bool] | None = None,
        *,
        timeout: float = 5.0,  # noqa: ASYNC109 -- a plain deadline reads best in tests
        after: int = 0,
    ) -> Call:
        """The first call of ``method`` with index >= ``after`` that matches ``predicate``."""
        name = self._canonical(method)

        def find() -> Call | None:
            for call in self._calls[after:]:
                if call.method == name and (predicate is None or predicate(call)):
                    return call
            return None

        async with self._calls_changed:
            try:
                await asyncio.wait_for(
                    self._calls_changed.wait_for(lambda: find() is not None), timeout
                )
            except TimeoutError:
                recent = ", ".join(
                    f"#{c.index} {c.method}{'' if c.ok else f' ({c.error_code})'}"
                    for c in self._calls[max(after, len(self._calls) - 15) :]
                )
                msg = f"no matching {name} call from #{after} within {timeout}s; since: {recent}"
                raise TimeoutError(msg) from None
        found = find()
        assert found is not None
        return found

    # ------------------------------------------------------------------ fault injection

    def fail_next(
        self,
        method: str | tuple[str, ...],
        *,
        error_code: int = 429,
        description: str | None = None,
        retry_after: int | None = 1,
        count: int = 1,
    ) -> None:
        """The next ``count`` calls of ``method`` fail with this error instead of running.

        Several methods share one fault: whichever is called first takes it. The default is
        flood control: 429 "Too Many Requests: retry after N" with retry_after=N.
        """
        if description is None:
            description = (
                f"Too Many Requests: retry after {retry_after}"
                if error_code == 429
                else f"Error {error_code}"
            )
        fault = Fault(ApiError(error_code, description, retry_after=retry_after), count)
        for name in (method,) if isinstance(method, str) else method:
            self._faults.setdefault(name.lower(), []).append(fault)

    def heal(self) -> None:
        """Every armed fault is forgotten: Telegram answers normally again."""
        self._faults.clear()
        self._page_faults.clear()

    def fail_next_with_page(self, method: str, *, status: int = 502, count: int = 1) -> None:
        """The next ``count`` calls of ``method`` get an HTML error page, as a proxy in front of
        the Bot API sends when the server behind it is down: not JSON at all."""
        self._page_faults[method.lower()] = self._page_faults.get(method.lower(), 0) + count
        self._page_status = status

    def duplicate_next_payment(self) -> None:
        """The next successful_payment is delivered twice with the same charge id."""
        self._duplicate_payments += 1

    def _take_fault(self, method: str, chat_id: object = None) -> ApiError | None:
        faults = self._faults.get(method.lower(), [])
        while faults and faults[0].remaining <= 0:
            faults.pop(0)  # spent through another method that shared it
        if not faults:
            return None
        fault = faults[0]
        fault.remaining -= 1
        if fault.remaining <= 0:
            faults.pop(0)
        chat = chat_id if isinstance(chat_id, int) else None
        self._publish(
            "fault", chat, method=method, error_code=fault.error.error_code, left=fault.remaining
        )
        return fault.error
