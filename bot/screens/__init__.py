"""What a person sees: pure functions from a translator and a service result to a
:class:`Screen` (text and keyboard), and :func:`show`, which puts one in the chat.

Handlers call a service and show one screen; the notice sender draws cards with the same
functions, so an order looks the same in a reply, a notice and the operators' chat.
"""

from __future__ import annotations

from bot.screens.base import Screen, show

__all__ = ["Screen", "show"]
