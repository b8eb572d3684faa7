"""Slow salted hashes for passwords and answers: argon2id with OWASP's parameters and a pepper.

The pepper is a server secret mixed in (HMAC-SHA256) before argon2, so a stolen database alone
cannot be brute-forced. Hashing runs in a worker thread (argon2 releases the GIL), so one
user's 50 ms hash does not stall anyone else's update.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import os

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

# OWASP Password Storage Cheat Sheet: argon2id, m=19 MiB, t=2, p=1.
MEMORY_KIB = 19 * 1024
TIME_COST = 2
PARALLELISM = 1


class SecretHasher:
    def __init__(
        self,
        pepper: bytes,
        *,
        memory_kib: int = MEMORY_KIB,
        time_cost: int = TIME_COST,
        parallelism: int = PARALLELISM,
    ) -> None:
        if len(pepper) < 16:
            raise ValueError("the pepper must be at least 16 bytes")
        self._pepper = pepper
        # Hashes run in threads, but on a small machine many at once would starve the event
        # loop's own core: leave it one.
        self._slots = asyncio.Semaphore(max(1, (os.cpu_count() or 2) - 1))
        self._argon2 = PasswordHasher(
            time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism, type=Type.ID
        )

    def _peppered(self, secret: str) -> str:
        return hmac.new(self._pepper, secret.encode("utf-8"), hashlib.sha256).hexdigest()

    async def hash(self, secret: str) -> str:
        async with self._slots:
            return await asyncio.to_thread(self._argon2.hash, self._peppered(secret))

    async def verify(self, hashed: str, secret: str) -> bool:
        async with self._slots:
            return await asyncio.to_thread(self._verify, hashed, secret)

    def _verify(self, hashed: str, secret: str) -> bool:
        try:
            return bool(self._argon2.verify(hashed, self._peppered(secret)))
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, hashed: str) -> bool:
        """True when the hash was made with other (older) parameters than today's."""
        try:
            return bool(self._argon2.check_needs_rehash(hashed))
        except InvalidHashError:
            return True
