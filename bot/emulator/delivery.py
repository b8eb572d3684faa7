"""Webhook delivery as Telegram does it: per-queue FIFO, one update in flight, retried.

Telegram keeps separate queues (a chat's messages; a user's callback queries; a user's
pre-checkout and shipping queries; a user's inline queries) and posts a queue's next update
only after the previous one was answered 2xx. Anything else (a non-2xx status, a refused
connection, a timeout) is retried after 1 s, doubling up to a cap. With several replica URLs
(:meth:`balance_webhook`) each post goes to the next one in turn, as a load balancer would.
"""

from __future__ import annotations

import asyncio
import contextlib
import json

import aiohttp

from bot.emulator.records import Post, QueueKey
from bot.emulator.updates import UpdatesMixin
from bot.emulator.wire import JSON, Args

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
REFUSED = "ConnectionRefused"  # nobody listens at the target (a replica is down)


class WebhookDeliveryMixin(UpdatesMixin):
    webhook_timeout = 10.0  # seconds a replica may take before the post counts as failed
    webhook_first_retry = 1.0
    webhook_max_retry = 60.0

    def balance_webhook(self, targets: list[str]) -> None:
        """Post to these URLs in turn instead of the webhook's own (a load balancer)."""
        self._hooks.targets = list(targets)
        self._hooks.turn = 0

    def posts(self) -> list[Post]:
        """Every webhook POST so far, in the order they were answered."""
        return list(self._hooks.posts)

    # ------------------------------------------------------------------ the Bot API side

    async def _set_webhook(self, args: Args) -> bool:
        done = await super()._set_webhook(args)
        allowed = args.structured("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = frozenset(map(str, allowed)) or None
        self._deliver()
        return done

    async def _get_webhook_info(self, args: Args) -> JSON:
        info = await super()._get_webhook_info(args)
        if self._hooks.last_error is not None:
            info["last_error_date"], info["last_error_message"] = self._hooks.last_error
        return info

    async def _enqueue(self, body: JSON) -> JSON:
        update = await super()._enqueue(body)
        self._deliver()
        return update

    async def _close_deliveries(self) -> None:
        tasks = list(self._hooks.in_flight.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._hooks.client is not None:
            await self._hooks.client.close()
            self._hooks.client = None

    # ------------------------------------------------------------------ delivery

    def _deliver(self) -> None:
        """Start a post for the head of every queue that has none in flight."""
        if not self._webhook["url"] or self._closing:
            return
        self._updates = [u for u in self._updates if self._is_allowed(u)]
        busy = set(self._hooks.in_flight)
        for update in self._updates:
            queue = self._queue_of(update)
            if queue in busy:
                continue  # FIFO: a queue's later updates wait for its head
            busy.add(queue)
            self._hooks.in_flight[queue] = asyncio.create_task(
                self._post(update, queue), name=f"webhook {queue}"
            )

    def _queue_of(self, update: JSON) -> QueueKey:
        kind = self._kind(update)
        body = update.get(kind)
        body = body if isinstance(body, dict) else {}
        sender = (body.get("from") or {}).get("id", 0)
        if kind == "callback_query":
            return ("callbacks", sender)
        if kind in ("pre_checkout_query", "shipping_query"):
            return ("checkout", sender)
        if kind in ("inline_query", "chosen_inline_result"):
            return ("inline", sender)
        chat = body.get("chat")
        if isinstance(chat, dict):
            return ("chat", int(chat["id"]))
        return ("user", sender or int(update["update_id"]))

    def _next_target(self) -> str:
        if not self._hooks.targets:
            return str(self._webhook["url"])
        target = self._hooks.targets[self._hooks.turn % len(self._hooks.targets)]
        self._hooks.turn += 1
        return target

    async def _post(self, update: JSON, queue: QueueKey) -> None:
        update_id = int(update["update_id"])
        body = json.dumps(update, ensure_ascii=False).encode()
        delay = self.webhook_first_retry
        try:
            while self._webhook["url"] and not self._closing:
                # A balancer passes a refused connection on to its next replica at once (as
                # nginx's proxy_next_upstream does); Telegram sees a failure only when none
                # took it, or when one answered with an error.
                for _ in range(max(1, len(self._hooks.targets))):
                    target = self._next_target()
                    sent_at = self.clock()
                    outcome = await self._attempt(target, body)
                    self._deliveries[update_id] = self._deliveries.get(update_id, 0) + 1
                    self._hooks.posts.append(Post(update_id, target, outcome, queue, sent_at))
                    if outcome != REFUSED:
                        break
                if isinstance(outcome, int) and 200 <= outcome < 300:
                    self._updates = [u for u in self._updates if u["update_id"] != update_id]
                    self._changed()
                    break
                error = f"Wrong response from the webhook: {outcome}"
                self._hooks.last_error = (int(self.clock()), error)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.webhook_max_retry)
        finally:
            self._hooks.in_flight.pop(queue, None)
            async with self._updates_changed:
                self._updates_changed.notify_all()
            self._deliver()

    async def _attempt(self, target: str, body: bytes) -> int | str:
        if self._hooks.client is None:
            self._hooks.client = aiohttp.ClientSession()
        headers = {"Content-Type": "application/json"}
        secret = self._webhook.get("secret_token")
        if secret:
            headers[SECRET_HEADER] = str(secret)
        try:
            async with self._hooks.client.post(
                target,
                data=body,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=self.webhook_timeout),
            ) as response:
                with contextlib.suppress(aiohttp.ClientError):
                    await response.read()
                return response.status
        except aiohttp.ClientConnectorError:
            return REFUSED
        except (aiohttp.ClientError, TimeoutError) as exc:
            return type(exc).__name__
