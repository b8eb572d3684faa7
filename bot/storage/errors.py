"""Storage failures, the same on every backend: callers never see a driver's exception types."""

from __future__ import annotations

from bot.domain.errors import TransientFault


class StorageError(TransientFault):
    """The database refused or failed an operation; the update that met it is tried again."""


class IntegrityViolation(StorageError):
    """A constraint (CHECK, UNIQUE, FOREIGN KEY) refused a write; the transaction rolls back."""


class TransientConflict(StorageError):
    """A deadlock or serialization failure: running the whole operation again may succeed."""


class StorageUnavailable(StorageError):
    """The database cannot be opened or written: a wrong URL, a read-only disk, a down server."""


class SharedStoreUnavailable(StorageUnavailable):
    """Redis (REDIS_URL), where replicas count Telegram's limits together, does not answer."""
