"""/help: every command the menu registers, grouped, in the reader's language."""

from __future__ import annotations

from html import escape

from bot.i18n import Translator
from bot.keyboards.commands import HELP_GROUPS, PUBLIC_COMMANDS
from bot.keyboards.menu import back_to_menu
from bot.screens.base import Screen


def help_screen(t: Translator) -> Screen:
    described = dict(PUBLIC_COMMANDS)
    groups = [
        "\n".join(
            [f"<b>{escape(t(group))}</b>"]
            + [f"/{name} — {escape(t(described[name]))}" for name in names]
        )
        for group, names in HELP_GROUPS
    ]
    text = "\n\n".join([t("help-intro"), *groups, t("help-outro")])
    return Screen(text, back_to_menu(t))
