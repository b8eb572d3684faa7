"""The update queue: long polling with offset confirmation and redelivery, and webhooks."""

from __future__ import annotations

import asyncio
import contextlib
import copy
from urllib.parse import urlsplit

from bot.emulator.calls import CallsMixin
from bot.emulator.wire import JSON, OPT_IN_UPDATES, ApiError, Args, bad_request, json_copy


class UpdatesMixin(CallsMixin):
    def webhook(self) -> JSON:
        return copy.deepcopy(self._webhook)

    def pending_updates(self) -> int:
        """Updates queued and not yet confirmed by a getUpdates offset."""
        return len(self._updates)

    def deliveries(self, update_id: int) -> int:
        """How many getUpdates responses carried this update."""
        return self._deliveries.get(update_id, 0)

    def update_log(self) -> list[JSON]:
        """Every update ever queued (confirmed or not), in order."""
        return [copy.deepcopy(update) for update in self._update_log.values()]

    # ------------------------------------------------------------------ getUpdates

    async def _get_updates(self, args: Args) -> list[JSON]:
        if self._webhook["url"]:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = args.opt_int("offset") or 0
        limit = min(max(args.opt_int("limit") or 100, 1), 100)
        timeout = max(args.opt_int("timeout") or 0, 0)
        allowed = args.structured("allowed_updates")
        if isinstance(allowed, list):
            # Telegram remembers the last allowed_updates; an empty list means the default.
            self._allowed_updates = frozenset(map(str, allowed)) or None
        self._confirm(offset)
        self._poll_generation += 1
        generation = self._poll_generation
        async with self._updates_changed:
            self._updates_changed.notify_all()  # an older long poll ends with 409
            if timeout and not self._select(offset, limit):
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        self._updates_changed.wait_for(
                            lambda: (
                                self._closing
                                or generation != self._poll_generation
                                or bool(self._select(offset, limit))
                            )
                        ),
                        timeout,
                    )
                if generation != self._poll_generation:
                    raise ApiError(
                        409,
                        "Conflict: terminated by other getUpdates request; "
                        "make sure that only one bot instance is running",
                    )
        batch = self._select(offset, limit)
        # Updates sent to a client that already hung up were not delivered.
        if args.connected():
            for update in batch:
                self._deliveries[update["update_id"]] += 1
        return json_copy(batch)

    def _confirm(self, offset: int) -> None:
        if offset > 0:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        elif offset < 0:
            # A negative offset keeps only the last -offset updates, as on Telegram.
            self._updates = self._updates[offset:]

    def _select(self, offset: int, limit: int) -> list[JSON]:
        allowed = self._allowed_updates
        if allowed is not None or any(self._kind(u) in OPT_IN_UPDATES for u in self._updates):
            # Telegram never stores updates of kinds the bot did not ask for.
            self._updates = [u for u in self._updates if self._is_allowed(u)]
        return [u for u in self._updates if u["update_id"] >= offset][:limit]

    @staticmethod
    def _kind(update: JSON) -> str:
        return next((key for key in update if key != "update_id"), "")

    def _is_allowed(self, update: JSON) -> bool:
        kind = self._kind(update)
        if self._allowed_updates is None:
            return kind not in OPT_IN_UPDATES
        return kind in self._allowed_updates

    async def _delete_webhook(self, args: Args) -> bool:
        self._webhook = {"url": ""}
        if args.flag("drop_pending_updates"):
            self._updates.clear()
        return True

    async def _set_webhook(self, args: Args) -> bool:
        url = args.opt_str("url") or ""
        parts = urlsplit(url)
        local = parts.hostname in ("127.0.0.1", "localhost")
        if url and not (parts.scheme == "https" or (parts.scheme == "http" and local)):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        self._webhook = {"url": url}
        for key in ("max_connections", "allowed_updates", "secret_token"):
            if args.has(key):
                self._webhook[key] = args.get(key)
        if args.flag("drop_pending_updates"):
            self._updates.clear()
        return True

    async def _get_webhook_info(self, args: Args) -> JSON:
        info: JSON = {
            "url": self._webhook["url"],
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        for key in ("max_connections", "allowed_updates"):
            if key in self._webhook:
                info[key] = self._webhook[key]
        return info
