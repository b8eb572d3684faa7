"""Domain errors raised by services and mapped to localized messages in one place.

Each error names a message key in ``locales/*/*.ftl`` and carries the parameters of that message.
Services never format text themselves.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # money's parser raises InvalidAmount from here
    from bot.domain.money import Money


class TransientFault(Exception):
    """A fault that may clear by itself (storage, network): handling the update again later
    may succeed, so it is retried from the inbox rather than answered as a failure."""


class DomainError(Exception):
    """A refusal the user should hear about; nothing was changed."""

    key: str = "error-domain"

    def __init__(self, key: str | None = None, **params: Any) -> None:
        if key is not None:
            self.key = key
        self.params = params
        super().__init__(self.key, params)


class RefusedInput(DomainError):
    """Something the user typed breaks a rule; the ``reason`` code picks the message
    ``<prefix>-<reason>`` (underscores become dashes)."""

    prefix: str = "input"

    def __init__(self, reason: str, **params: Any) -> None:
        self.reason = reason
        super().__init__(f"{self.prefix}-{reason.replace('_', '-')}", **params)


class InvalidAmount(RefusedInput):
    """User-typed amount is malformed."""

    prefix = "amount"


class InsufficientFunds(DomainError):
    """The balance does not cover a spend: how much was needed, and how much there is."""

    key = "error-insufficient-funds"

    def __init__(self, *, needed: Money, available: Money) -> None:
        super().__init__(needed=needed, available=available)
        self.needed = needed
        self.available = available


class IdempotencyConflict(DomainError):
    """The same idempotency key was reused for a different operation."""

    key = "error-idempotency-conflict"


class WrongPassword(DomainError):
    """The payment password did not match; ``attempts_left`` before the lockout."""

    key = "error-wrong-password"


class AccountLocked(DomainError):
    """Too many failures: spending and recovery wait ``until`` (a datetime), ``left`` from now."""

    key = "error-locked"


class NoPassword(DomainError):
    key = "error-no-password"


class PasswordAlreadySet(DomainError):
    key = "error-password-already-set"


class WeakPassword(RefusedInput):
    """A new password breaks a rule."""

    prefix = "password-weak"


class InvalidAnswer(DomainError):
    key = "error-answer-invalid"


class WrongAnswers(DomainError):
    """At least one security answer was wrong (never which); ``attempts_left``."""

    key = "error-wrong-answers"


class OperationGone(DomainError):
    """The pending operation is someone else's, expired, cancelled or already done."""

    key = "error-operation-gone"


class ConfirmationRefused(DomainError):
    """A Mini App confirmation whose nonce is unknown, used or expired, or whose biometric
    token is not this device's current one: nothing ran, and the app starts the step again."""

    key = "error-confirmation-refused"


class CardInvalid(RefusedInput):
    """A card number or expiry that cannot be saved."""

    prefix = "card-invalid"


class CardLimit(DomainError):
    key = "error-card-limit"


class CardDuplicate(DomainError):
    key = "error-card-duplicate"


class StaleButton(DomainError):
    """A button for something that is gone or is not the user's: forged or outdated."""

    key = "error-stale-action"


class BalanceCapExceeded(DomainError):
    """The certificate balance would pass BALANCE_MAX; ``cap`` and the ``room`` left."""

    key = "error-balance-cap"


class CheckoutRefused(RefusedInput):
    """Pre-checkout says no: the purchase is unknown, paid already, or not what is charged."""

    prefix = "checkout"


class PaymentUnmatched(DomainError):
    """Money arrived that matches no unpaid purchase; operators sort it out by ``charge_id``."""

    key = "payment-unmatched"


class RefundRefused(RefusedInput):
    """A charge whose money cannot be taken back: unknown, spent, or a gift already claimed."""

    prefix = "refund-refused"


class GiftCodeInvalid(DomainError):
    """No such gift code; ``attempts_left`` before the guessing lock."""

    key = "gift-code-invalid"


class GiftCodeLocked(DomainError):
    """Too many wrong gift codes: claiming waits ``until``, ``left`` from now."""

    key = "gift-code-locked"


class GiftOwnCode(DomainError):
    key = "gift-own-code"


class GiftUnavailable(RefusedInput):
    """The gift was claimed by someone, expired, or refunded: ``reason`` says which."""

    prefix = "gift-unavailable"


class GiftNoteInvalid(RefusedInput):
    prefix = "gift-note"


class OrderRefused(RefusedInput):
    """An order that is not there (or not the user's), or a change its status does not allow."""

    prefix = "order-refused"


class CashbackRefused(RefusedInput):
    """A withdrawal or a move that cannot happen: below the minimum, nothing available, no
    card, the balance cap, or a request already decided."""

    prefix = "cashback-refused"


class SupportTextTooLong(DomainError):
    """A support message longer than one relayed message holds: nothing was sent."""

    key = "support-too-long"
