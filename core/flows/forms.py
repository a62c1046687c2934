"""One-time tokens for the web forms (OWASP CSRF cheat sheet: synchronizer tokens)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from core.domain.secrets import Keyed, url_token
from core.flows.kit import Kit
from core.ports import TokenStore

# How long a shown form may wait before it is sent.
FORM_TTL = timedelta(hours=1)


@dataclass(frozen=True)
class FormTokens:
    """A token per shown form, kept in the token store, good once and for its scope only."""

    tokens: TokenStore
    keyed: Keyed
    new_token: Callable[[], str] = url_token
    ttl: timedelta = FORM_TTL

    @classmethod
    def from_kit(cls, kit: Kit) -> FormTokens:
        return cls(kit.tokens, kit.keyed, kit.new_token)

    def _key(self, scope: str, value: str) -> str:
        return "csrf:" + self.keyed.digest("csrf", scope + "\x00" + value)

    async def issue(self, scope: str) -> str:
        value = self.new_token()
        await self.tokens.put(self._key(scope, value), {"scope": scope}, self.ttl)
        return value

    async def check(self, scope: str, value: str | None) -> bool:
        """True once for a token issued for this scope; a missing or foreign one is refused."""
        if not value:
            return False
        return await self.tokens.pop(self._key(scope, value)) is not None
