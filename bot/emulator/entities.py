"""Telegram's HTML parse mode: the text a client shows and its entities."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Final

from bot.emulator.wire import JSON, ApiError, bad_request, u16


class TelegramHTML(HTMLParser):
    """Telegram's HTML parse mode: plain text plus entities, or a "can't parse entities" error."""

    _SIMPLE: Final = {
        "b": "bold",
        "strong": "bold",
        "i": "italic",
        "em": "italic",
        "u": "underline",
        "ins": "underline",
        "s": "strikethrough",
        "strike": "strikethrough",
        "del": "strikethrough",
        "tg-spoiler": "spoiler",
        "code": "code",
        "pre": "pre",
    }
    _OTHER: Final = frozenset({"a", "span", "blockquote", "tg-emoji", "tg-time"})
    _DATE_TIME_FORMAT: Final = re.compile(r"^(r|w?[dD]?[tT]?)$")

    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=True)
        self.source = source
        self.parts: list[str] = []
        self.length = 0
        self.stack: list[tuple[str, JSON | None]] = []
        self.entities: list[JSON] = []
        self._line_starts = [0]
        for match in re.finditer("\n", source):
            self._line_starts.append(match.end())

    def _byte_offset(self) -> int:
        line, column = self.getpos()
        return len(self.source[: self._line_starts[line - 1] + column].encode())

    def _fail(self, detail: str) -> ApiError:
        return bad_request(f"can't parse entities: {detail}")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)
        self.length += u16(data)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {key: value or "" for key, value in attrs}
        unsupported = f'Unsupported start tag "{tag}" at byte offset {self._byte_offset()}'
        if tag not in self._SIMPLE and tag not in self._OTHER:
            raise self._fail(unsupported)
        extra: JSON = {}
        if tag in self._SIMPLE:
            kind: str | None = self._SIMPLE[tag]
            language = attributes.get("class", "")
            pre = self.stack[-1][1] if self.stack and self.stack[-1][0] == "pre" else None
            if tag == "code" and pre is not None and language.startswith("language-"):
                # <pre><code class="language-x"> is one pre entity with a language.
                pre["language"] = language.removeprefix("language-")
                kind = None
        elif tag == "a":
            href = attributes.get("href", "")
            kind, extra = ("text_link", {"url": href}) if href else (None, {})
        elif tag == "span":
            if attributes.get("class") != "tg-spoiler":
                raise self._fail(unsupported)
            kind = "spoiler"
        elif tag == "blockquote":
            kind = "expandable_blockquote" if "expandable" in attributes else "blockquote"
        elif tag == "tg-time":
            unix, style = attributes.get("unix", ""), attributes.get("format", "")
            if not unix.isdigit() or not self._DATE_TIME_FORMAT.match(style):
                raise self._fail(f"invalid date-time entity at byte offset {self._byte_offset()}")
            kind, extra = "date_time", {"unix_time": int(unix)}
            if style:
                extra["date_time_format"] = style
        else:  # tg-emoji
            kind, extra = "custom_emoji", {"custom_emoji_id": attributes.get("emoji-id", "")}
        entity = None if kind is None else {"type": kind, "offset": self.length} | extra
        self.stack.append((tag, entity))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        raise self._fail(f'Unsupported start tag "{tag}" at byte offset {self._byte_offset()}')

    def handle_endtag(self, tag: str) -> None:
        if not self.stack:
            raise self._fail(f"Unexpected end tag at byte offset {self._byte_offset()}")
        open_tag, entity = self.stack.pop()
        if open_tag != tag:
            raise self._fail(
                f"Unmatched end tag at byte offset {self._byte_offset()}, "
                f'expected "</{open_tag}>", found "</{tag}>"'
            )
        if entity is not None:
            entity["length"] = self.length - entity["offset"]
            if entity["length"] > 0:  # Telegram drops empty entities
                self.entities.append(entity)

    def handle_comment(self, data: str) -> None:
        raise self._fail(f'Unsupported start tag "!--" at byte offset {self._byte_offset()}')

    def parse(self) -> tuple[str, list[JSON]]:
        self.feed(self.source)
        self.close()
        if self.stack:
            raise self._fail(
                f'Can\'t find end tag corresponding to start tag "{self.stack[-1][0]}"'
            )
        ordered = sorted(self.entities, key=lambda e: (e["offset"], -e["length"]))
        return "".join(self.parts), [
            {"type": e["type"], "offset": e["offset"], "length": e["length"]}
            | {k: v for k, v in e.items() if k not in ("type", "offset", "length")}
            for e in ordered
        ]


def parse_html(source: str) -> tuple[str, list[JSON]]:
    """Plain text and entities of a parse_mode="HTML" text; raises ApiError like Telegram."""
    return TelegramHTML(source).parse()
