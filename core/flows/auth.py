"""Sign-in with a login and a password (PRODUCT §1.7), throttled per login and per address."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from core.domain.addresses import parse_login
from core.domain.models import AddressKind
from core.domain.passwords import normalize
from core.errors import AuthenticationFailed, DomainError, Throttled
from core.flows.kit import Kit
from core.i18n import SUPPORTED
from core.ports import Rule


def login_key(login: str, *locales: str | None) -> tuple[AddressKind, str] | None:
    """The kind and normalized form of a login, or None when it is neither email nor phone.

    PRODUCT §1.7: read as the bot reads it. A phone without "+" is tried with the region of
    `locales` first, then of every language the bot speaks, so a number the bot accepted in a
    national format from anyone signs in typed the same way.
    """
    try:
        return parse_login(login, [*locales, *SUPPORTED])
    except DomainError:
        return None


@dataclass(frozen=True)
class AuthFlow:
    """Checks a login and a password; one generic failure whatever was wrong."""

    kit: Kit
    _dummy: list[str] = field(default_factory=list, repr=False, compare=False)

    def _rules(self, login: str, client_address: str) -> list[Rule]:
        limits = self.kit.limits
        window = limits.login_failures_window
        digest = self.kit.keyed.digest("login", login)
        return [
            Rule(f"login:{digest}", limits.login_failures_per_login, window),
            Rule(f"login-addr:{client_address}", limits.login_failures_per_address, window),
        ]

    async def authenticate(
        self, login: str, password: str, client_address: str, locale: str | None = None
    ) -> int:
        """The account id, or AuthenticationFailed / Throttled(retry_in); `locale`: the page's.

        PRODUCT §1.7: the slot is taken before the password is checked, so a storm of concurrent
        guesses gets exactly `login_failures_per_login` checks and the rest are throttled.
        """
        key = login_key(login, locale, self.kit.options.default_locale)
        normalized = key[1] if key else login.strip().casefold()
        rules = self._rules(normalized, client_address)
        slot = secrets.token_hex(8)
        blocked = await self.kit.limiter.reserve(rules, slot)
        if blocked is not None:
            self.kit.metrics.login_failures.labels("throttled").inc()
            raise Throttled(blocked - self.kit.clock.now())
        try:
            account_id, stored = None, None
            if key is not None:
                async with self.kit.reader() as uow:
                    account_id = await uow.bindings.owner(*key)
                    if account_id is not None:
                        stored = await uow.passwords.get(account_id)
            # Verify against a dummy hash when there is none, so timing does not tell who exists.
            ok = await self.kit.hasher.verify(
                stored or await self._dummy_hash(), normalize(password)
            )
        except BaseException:
            # Nothing was learnt about the password (an outage, a cancelled request).
            await self.kit.limiter.release(rules, slot)
            raise
        if not ok or account_id is None or stored is None:
            await self.kit.limiter.confirm(rules, slot)
            self.kit.metrics.login_failures.labels("wrong").inc()
            raise AuthenticationFailed()
        # A success is no failure: its slot goes back and the login's past failures are
        # forgotten, while the slots of guesses still being checked stay held.
        await self.kit.limiter.release(rules, slot)
        await self.kit.limiter.reset(rules[0].key)
        await self._after_success(account_id, stored, password)
        return account_id

    async def _after_success(self, account_id: int, stored: str, password: str) -> None:
        """Rehash when the argon2 parameters changed (PRODUCT §1.6); record the sign-in."""
        async with self.kit.unit() as uow:
            if self.kit.hasher.needs_rehash(stored):
                fresh = await self.kit.hasher.hash(normalize(password))
                await uow.passwords.set(account_id, fresh, self.kit.clock.now())
                await uow.audit.record(self.kit.event("password.rehashed", account_id, "system"))
            await uow.audit.record(self.kit.event("signed_in.password", account_id, "web"))
            await uow.commit()

    async def _dummy_hash(self) -> str:
        if not self._dummy:
            self._dummy.append(await self.kit.hasher.hash("not a real password"))
        return self._dummy[0]
