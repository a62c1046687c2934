"""Password hashing with argon2id (PRODUCT §1.6), run in a worker thread off the event loop."""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher as _Argon2
from argon2 import Type
from argon2.exceptions import InvalidHashError, VerificationError


class Argon2Hasher:
    """argon2id hashes with parameters from settings; old hashes are flagged for a rehash."""

    def __init__(self, memory_kib: int, time_cost: int, parallelism: int) -> None:
        self._hasher = _Argon2(
            time_cost=time_cost,
            memory_cost=memory_kib,
            parallelism=parallelism,
            type=Type.ID,
        )

    async def hash(self, password: str) -> str:
        # Hashing takes tens of milliseconds and 19 MiB on purpose; keep the loop free meanwhile.
        return await asyncio.to_thread(self._hasher.hash, password)

    async def verify(self, password_hash: str, password: str) -> bool:
        return await asyncio.to_thread(self._verify, password_hash, password)

    def needs_rehash(self, password_hash: str) -> bool:
        try:
            return self._hasher.check_needs_rehash(password_hash)
        except InvalidHashError:
            # A hash we cannot read cannot be kept either (PRODUCT §1.6: rehash on new parameters).
            return True

    def _verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            # VerifyMismatchError and the other argon2 failures mean "not this password".
            return False
