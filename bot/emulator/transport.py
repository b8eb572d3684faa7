"""HTTP: serving the Bot API routes, decoding requests, answering in Telegram's shape."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import web

from bot.emulator.calls import CallsMixin
from bot.emulator.records import Call
from bot.emulator.wire import JSON, UPLOAD_LIMIT, ApiError, Args, Upload, bad_request, decode_value

log = logging.getLogger(__name__)


class TransportMixin(CallsMixin):
    # ------------------------------------------------------------------ server lifecycle

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Serve on host:port; port 0 picks a free port (see ``base_url``)."""
        # A short shutdown timeout: long polls are woken on stop, nothing else lingers.
        self._runner = web.AppRunner(self.make_app(), access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound_port = self._runner.addresses[0][1]
        self._base_url = f"http://{host}:{bound_port}"

    async def stop(self) -> None:
        self._closing = True
        await self._close_deliveries()
        async with self._updates_changed:
            self._updates_changed.notify_all()
        for future in self._checkouts.values():
            future.cancel()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def make_app(self) -> web.Application:
        app = web.Application(client_max_size=UPLOAD_LIMIT)
        self.add_routes(app)
        return app

    def add_routes(self, app: web.Application, *, prefix: str = "") -> None:
        """Mount the Bot API under ``prefix`` (the bot then uses base_url + prefix)."""
        app.router.add_route("*", prefix + "/bot{token}/{method}", self._handle_api)
        app.router.add_get(prefix + "/file/bot{token}/{path:.+}", self._handle_file)

    def file_url(self, file_id: str) -> str:
        """Where a stored file is downloadable (what the bot gets via getFile + file URL)."""
        stored = self._files[file_id]
        return f"{self.base_url}/file/bot{self.token}/{stored.file_path}"

    def download(self, file_id: str) -> tuple[bytes, str, str] | None:
        """(content, mime type, file name) of a stored file, for the playground's page."""
        stored = self._files.get(file_id)
        return None if stored is None else (stored.data, stored.mime_type, stored.file_name)

    # ------------------------------------------------------------------ HTTP handlers

    async def _handle_api(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        name = self._canonical(request.match_info["method"])
        try:
            args = await self._read_args(request)
        except ApiError as error:
            return await self._finish(Call(name, {}, self.clock()), error=error)
        if self.latency > 0:
            await asyncio.sleep(self.latency)
        call = Call(name, args.values, self.clock())
        if self._page_faults.get(name.lower()):
            self._page_faults[name.lower()] -= 1
            call.ok, call.error_code, call.description = False, self._page_status, "HTML page"
            call.done = True
            await self._record(call)
            page = f"<html><body><h1>{self._page_status} Bad Gateway</h1></body></html>"
            return web.Response(text=page, status=self._page_status, content_type="text/html")
        handler = self._methods.get(name)
        if handler is None:
            return await self._finish(call, error=ApiError(404, "Not Found: method not found"))
        fault = self._take_fault(name, args.values.get("chat_id"))
        if fault is not None:
            return await self._finish(call, error=fault)
        if name == "getUpdates":
            # Recorded on arrival: tests wait for "the bot is polling" without a full long poll.
            await self._record(call)
        try:
            result = await handler(args)
        except ApiError as error:
            return await self._finish(call, error=error)
        except Exception as exc:
            # An emulator bug: answer in Telegram's shape so the bot reports it, and log it.
            log.exception("event=emulator_error method=%s", name)
            failure = ApiError(500, f"Internal Server Error: {type(exc).__name__}: {exc}")
            return await self._finish(call, error=failure)
        return await self._finish(call, result=result)

    async def _finish(
        self, call: Call, *, result: Any = None, error: ApiError | None = None
    ) -> web.Response:
        if error is None:
            call.ok, call.result = True, result
            body: JSON = {"ok": True, "result": result}
            status = 200
        else:
            call.ok, call.error_code, call.description = False, error.error_code, error.description
            body, status = error.body(), error.error_code
        call.done = True
        await self._record(call)
        return web.json_response(body, status=status)

    async def _read_args(self, request: web.Request) -> Args:
        """Query string, then the body: multipart/urlencoded form or JSON."""
        raw: dict[str, Any] = dict(request.query)
        uploads: dict[str, Upload] = {}
        if request.can_read_body:
            if request.content_type == "application/json":
                try:
                    body = await request.json()
                except ValueError:
                    raise bad_request("can't parse JSON body") from None
                if not isinstance(body, dict):
                    raise bad_request("JSON body must be an object")
                raw.update(body)
            else:
                form = await request.post()
                for key, value in form.items():
                    if isinstance(value, web.FileField):
                        data = value.file.read()
                        uploads[key] = Upload(value.filename, value.content_type, data)
                        raw[key] = f"attach://{key}"  # a file sent directly in its field
                    else:
                        raw[key] = value
        values = {
            key: decode_value(key, value) if isinstance(value, str) else value
            for key, value in raw.items()
        }

        def connected() -> bool:
            return request.transport is not None and not request.transport.is_closing()

        return Args(values, uploads, connected)

    async def _handle_file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        stored = self._files_by_path.get(request.match_info["path"])
        if stored is None:
            return web.json_response(
                {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
            )
        return web.Response(body=stored.data, content_type=stored.mime_type)
