"""One-time codes and tokens: generated at random, kept only as keyed hashes (PRODUCT §1.9)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable

CodeGenerator = Callable[[], str]


def six_digits() -> str:
    """A 6-digit code, uniform over 000000–999999 (SP 800-63B §5.1.3.2: CSPRNG, ≥ 20 bits)."""
    return f"{secrets.randbelow(1_000_000):06d}"


def url_token() -> str:
    """A link token of 256 bits, URL-safe."""
    return secrets.token_urlsafe(32)


class Keyed:
    """HMAC-SHA256 under the server key: what is kept at rest instead of a code or token."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def digest(self, purpose: str, value: str) -> str:
        message = f"{purpose}\x00{value.strip()}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    @staticmethod
    def same(a: str, b: str) -> bool:
        """Constant-time comparison of two digests."""
        return hmac.compare_digest(a.encode(), b.encode())
