"""Documents and photos: uploads, file ids and downloads."""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from bot.emulator.messages import MessagesMixin
from bot.emulator.records import StoredFile
from bot.emulator.wire import CAPTION_LIMIT, JSON, Args, Upload, bad_request, mime_type


class FilesMixin(MessagesMixin):
    def file_url(self, file_id: str) -> str:
        """Where a stored file is downloadable (what the bot gets via getFile + file URL)."""
        stored = self._files[file_id]
        return f"{self.base_url}/file/bot{self.token}/{stored.file_path}"

    def download(self, file_id: str) -> tuple[bytes, str, str] | None:
        """(content, mime type, file name) of a stored file, for the playground's page."""
        stored = self._files.get(file_id)
        return None if stored is None else (stored.data, stored.mime_type, stored.file_name)

    # ------------------------------------------------------------------ API: files

    def _store_file(self, upload: Upload, folder: str, prefix: str) -> StoredFile:
        self._serial += 1
        extension = ""
        if "." in upload.filename:
            extension = "." + upload.filename.rsplit(".", 1)[1]
        stored = StoredFile(
            file_id=prefix + secrets.token_urlsafe(24),
            file_unique_id="AgAD" + secrets.token_urlsafe(8),
            file_path=f"{folder}/file_{self._serial}{extension}",
            file_name=upload.filename,
            mime_type=mime_type(upload),
            data=upload.data,
        )
        self._files[stored.file_id] = stored
        self._files_by_path[stored.file_path] = stored
        return stored

    def _input_file(self, args: Args, name: str, folder: str, prefix: str) -> StoredFile:
        """An upload (attach://), a known file_id, or a URL (stored without content)."""
        value = args.opt_str(name)
        if not value:
            raise bad_request(f"there is no {name} in the request")
        if value.startswith("attach://"):
            upload = args.uploads.get(value.removeprefix("attach://"))
            if upload is None:
                raise bad_request(f"there is no {name} in the request")
            return self._store_file(upload, folder, prefix)
        if value in self._files:
            return self._files[value]
        if value.startswith(("http://", "https://")):
            file_name = urlsplit(value).path.rsplit("/", 1)[-1] or name
            return self._store_file(Upload(file_name, "", b""), folder, prefix)
        raise bad_request("wrong file identifier/HTTP URL specified")

    async def _send_document(self, args: Args) -> JSON:
        chat_id = self._sendable_chat(args)
        stored = self._input_file(args, "document", "documents", "BQACAgIAAxkDAAI")
        caption, markup, entities = self._formatted(
            args, "caption", limit=CAPTION_LIMIT, required=False
        )
        document = stored.public() | {"file_path": stored.file_path}
        return self._bot_message(
            chat_id,
            "document",
            args,
            document=document,
            caption=caption,
            caption_html=markup,
            caption_entities=entities,
            reply_markup=self._reply_markup(args),
        )

    async def _send_photo(self, args: Args) -> JSON:
        chat_id = self._sendable_chat(args)
        stored = self._input_file(args, "photo", "photos", "AgACAgIAAxkDAAI")
        caption, markup, entities = self._formatted(
            args, "caption", limit=CAPTION_LIMIT, required=False
        )
        size = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
            "width": 800,
            "height": 600,
            "file_path": stored.file_path,
        }
        return self._bot_message(
            chat_id,
            "photo",
            args,
            photo=[size],
            caption=caption,
            caption_html=markup,
            caption_entities=entities,
            reply_markup=self._reply_markup(args),
        )

    async def _get_file(self, args: Args) -> JSON:
        stored = self._files.get(args.req_str("file_id"))
        if stored is None:
            raise bad_request("invalid file_id")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
            "file_path": stored.file_path,
        }
