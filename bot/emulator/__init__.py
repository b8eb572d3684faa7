"""A fake Telegram Bot API server that keeps per-chat state.

The end-to-end tests point the real bot at it (``TelegramAPIServer.from_base(base_url)``) and the
browser playground mounts its routes and listens to its event feed. It behaves like Telegram where
a bot can tell the difference: Telegram-shaped JSON, multipart requests, long polling with offset
confirmation and redelivery, the usual 400/403/429 errors, and the Stars payment flow.

Everything lives on one instance and one event loop; there is no global state. Each area of the
Bot API is a mixin in its own module over ``EmulatorBase``, which holds the state.
"""

from __future__ import annotations

from bot.emulator.delivery import WebhookDeliveryMixin
from bot.emulator.entities import parse_html
from bot.emulator.files import FilesMixin
from bot.emulator.person import PersonMixin
from bot.emulator.records import Call, PaymentOutcome, Post
from bot.emulator.stars import StarsMixin
from bot.emulator.state import StateMixin
from bot.emulator.transport import TransportMixin
from bot.emulator.wire import JSON, ApiError, ApiMethod

__all__ = ["JSON", "ApiError", "BotAPIEmulator", "Call", "PaymentOutcome", "Post", "parse_html"]


class BotAPIEmulator(
    PersonMixin, StarsMixin, FilesMixin, WebhookDeliveryMixin, TransportMixin, StateMixin
):
    """A Bot API server with users, chats, messages, callback/inline queries and Stars payments."""

    def _api_methods(self) -> dict[str, ApiMethod]:
        return {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "deleteWebhook": self._delete_webhook,
            "setWebhook": self._set_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "setChatMenuButton": self._set_chat_menu_button,
            "getChatMenuButton": self._get_chat_menu_button,
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "editMessageCaption": self._edit_message_caption,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "deleteMessages": self._delete_messages,
            "answerCallbackQuery": self._answer_callback_query,
            "sendInvoice": self._send_invoice,
            "createInvoiceLink": self._create_invoice_link,
            "answerPreCheckoutQuery": self._answer_pre_checkout_query,
            "refundStarPayment": self._refund_star_payment,
            "getStarTransactions": self._get_star_transactions,
            "getMyStarBalance": self._get_my_star_balance,
            "sendDocument": self._send_document,
            "sendPhoto": self._send_photo,
            "getFile": self._get_file,
            "answerInlineQuery": self._answer_inline_query,
            "savePreparedInlineMessage": self._save_prepared_inline_message,
            "sendChatAction": self._send_chat_action,
            "copyMessage": self._copy_message,
            "forwardMessage": self._forward_message,
            "getChat": self._get_chat,
            "getChatMember": self._get_chat_member,
        }
