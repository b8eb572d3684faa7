"""The command list shown in the client's menu, per language (setMyCommands)."""

from __future__ import annotations

from aiogram.types import BotCommand

from bot.i18n import Translator

PUBLIC_COMMANDS = (
    ("start", "cmd-start"),
    ("balance", "cmd-balance"),
    ("language", "cmd-language"),
    ("cancel", "cmd-cancel"),
    ("help", "cmd-help"),
)


def bot_commands(t: Translator) -> list[BotCommand]:
    return [BotCommand(command=name, description=t(key)) for name, key in PUBLIC_COMMANDS]
