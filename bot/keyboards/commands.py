"""The command list shown in the client's menu, per language (setMyCommands)."""

from __future__ import annotations

from aiogram import Bot
from aiogram.types import BotCommand, BotCommandScopeChat

from bot.i18n import Translator

PUBLIC_COMMANDS = (
    ("start", "cmd-start"),
    ("balance", "cmd-balance"),
    ("app", "cmd-app"),
    ("buy", "cmd-buy"),
    ("shop", "cmd-shop"),
    ("orders", "cmd-orders"),
    ("cashback", "cmd-cashback"),
    ("history", "cmd-history"),
    ("password", "cmd-password"),
    ("recover", "cmd-recover"),
    ("cards", "cmd-cards"),
    ("support", "cmd-support"),
    ("paysupport", "cmd-paysupport"),
    ("terms", "cmd-terms"),
    ("language", "cmd-language"),
    ("notifications", "cmd-notifications"),
    ("cancel", "cmd-cancel"),
    ("help", "cmd-help"),
    ("privacy", "cmd-privacy"),
)


# /help lists every command of the menu above, grouped; a test keeps the two in step.
HELP_GROUPS = (
    ("help-group-wallet", ("balance", "app", "buy", "history")),
    ("help-group-shop", ("shop", "orders")),
    ("help-group-cashback", ("cashback", "notifications")),
    ("help-group-security", ("password", "recover", "cards")),
    ("help-group-support", ("support", "paysupport")),
    ("help-group-info", ("start", "language", "terms", "privacy", "cancel", "help")),
)


def bot_commands(t: Translator) -> list[BotCommand]:
    return [BotCommand(command=name, description=t(key)) for name, key in PUBLIC_COMMANDS]


async def publish_chat_commands(bot: Bot, chat_id: int, t: Translator) -> None:
    """The command list of one chat, in the language its user chose over the client's."""
    await bot.set_my_commands(bot_commands(t), scope=BotCommandScopeChat(chat_id=chat_id))
