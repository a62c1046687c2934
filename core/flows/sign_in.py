"""Social sign-in (PRODUCT §1.1): a link made for one Telegram user, then an account found or made.

The OAuth protocol itself (state, PKCE, nonce, token checks) lives in the web layer; this flow
owns the link's life and what a sign-in does to the accounts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from core.domain.models import SocialIdentity, SocialProfile
from core.errors import CodeExpired
from core.flows.kit import Kit
from core.notices import SignedIn, SignInFailed

# How long a spent or expired link is remembered, to offer a fresh one when it is clicked.
MEMORY = timedelta(hours=24)


@dataclass(frozen=True)
class TelegramUser:
    """Who asked for the link, as Telegram described them; shown on the consent page."""

    id: int
    first_name: str
    username: str | None = None
    language_code: str | None = None

    @property
    def display(self) -> str:
        return f"{self.first_name} (@{self.username})" if self.username else self.first_name


@dataclass(frozen=True)
class SignInLink:
    token: str
    telegram: TelegramUser
    provider: str


@dataclass(frozen=True)
class SignInResult:
    account_id: int
    created: bool
    needs_terms: bool


@dataclass(frozen=True)
class SignInFlow:
    """Makes sign-in links and turns a confirmed social profile into a signed-in chat."""

    kit: Kit

    def _key(self, token: str) -> str:
        return "signin:" + self.kit.keyed.digest("signin", token)

    async def create_link(self, telegram: TelegramUser, provider: str) -> str:
        """The URL of the project's start page for this person and provider, valid 10 min.

        The record outlives its validity by a day, so a late or second click can still tell the
        chat to offer a fresh link (PRODUCT §1.1); `expires_at` decides validity, not the store.
        """
        token = self.kit.new_token()
        expires_at = self.kit.clock.now() + self.kit.limits.oauth_state_ttl
        data = {
            "expires_at": expires_at.isoformat(),
            "telegram_user_id": str(telegram.id),
            "first_name": telegram.first_name,
            "username": telegram.username or "",
            "language_code": telegram.language_code or "",
            "provider": provider,
        }
        await self.kit.tokens.put(self._key(token), data, self.kit.limits.oauth_state_ttl + MEMORY)
        return self.kit.url(f"/auth/start/{token}")

    async def open_link(self, token: str) -> SignInLink | None:
        """The link's request while it is unused and fresh; None otherwise."""
        data = await self.kit.tokens.peek(self._key(token))
        return _link(token, data) if data and self._fresh(data) else None

    async def report_stale(self, token: str) -> bool:
        """A used or expired link was opened: the chat offers a fresh one, once per link."""
        data = await self.kit.tokens.pop(self._key(token))
        if not data or self._fresh(data):
            if data:  # still valid after all: put it back untouched
                await self.kit.tokens.put(self._key(token), data, self.kit.limits.oauth_state_ttl)
            return False
        await self.kit.notifier.notify(SignInFailed(int(data["telegram_user_id"]), "expired"))
        return True

    def _fresh(self, data: dict[str, str]) -> bool:
        return "used" not in data and self.kit.clock.now() < datetime.fromisoformat(
            data["expires_at"]
        )

    async def complete(
        self, token: str, profile: SocialProfile, *, terms_accepted: bool = False
    ) -> SignInResult:
        """Use the link once: find or make the account by (provider, subject); sign the chat in."""
        data = await self.kit.tokens.pop(self._key(token))
        if not data or not self._fresh(data):
            if data:
                await self.kit.tokens.put(self._key(token), data, MEMORY)  # report_stale finds it
            raise CodeExpired()
        link = _link(token, data)
        used = {"telegram_user_id": data["telegram_user_id"], "used": "1"}
        await self.kit.tokens.put(self._key(token), used, MEMORY)
        now = self.kit.clock.now()
        actor = f"telegram:{link.telegram.id}"
        async with self.kit.unit() as uow:
            identity = await uow.identities.find(profile.provider, profile.subject)
            created = identity is None
            if identity is None:
                name = profile.name or link.telegram.first_name
                account = await uow.accounts.add(name, link.telegram.language_code or None, now)
                account_id = account.id
                await uow.identities.add(
                    SocialIdentity(
                        account_id,
                        profile.provider,
                        profile.subject,
                        profile.email,
                        profile.email_verified,
                        now,
                    )
                )
                await uow.audit.record(
                    self.kit.event("account.created", account_id, actor, provider=profile.provider)
                )
            else:
                account_id = identity.account_id
                await uow.identities.update_email(
                    profile.provider, profile.subject, profile.email, profile.email_verified
                )
            await uow.telegram.link(link.telegram.id, account_id, now)
            terms = self.kit.options.terms_url
            stored = await uow.accounts.get(account_id)
            needs_terms = bool(terms) and stored is not None and not stored.terms_accepted_at
            if needs_terms and terms_accepted and terms:
                await uow.accounts.accept_terms(account_id, terms, now)
                await uow.audit.record(self.kit.event("terms.accepted", account_id, actor))
                needs_terms = False
            await uow.audit.record(
                self.kit.event("signed_in", account_id, actor, provider=profile.provider)
            )
            await uow.commit()
        await self.kit.notifier.notify(
            SignedIn(link.telegram.id, account_id, profile.provider, created)
        )
        return SignInResult(account_id, created, needs_terms)

    async def needs_terms(self, profile: SocialProfile) -> bool:
        """Whether signing in with this profile must accept the user agreement first: a new
        account, or one that never accepted it, while TERMS_URL is set (PRODUCT §1.1)."""
        if not self.kit.options.terms_url:
            return False
        async with self.kit.unit() as uow:
            identity = await uow.identities.find(profile.provider, profile.subject)
            if identity is None:
                return True
            account = await uow.accounts.get(identity.account_id)
        return account is None or account.terms_accepted_at is None

    async def accept_terms(self, account_id: int, actor: str) -> None:
        """Record that the person accepted the operator's user agreement."""
        terms = self.kit.options.terms_url
        if not terms:
            return
        async with self.kit.unit() as uow:
            await uow.accounts.accept_terms(account_id, terms, self.kit.clock.now())
            await uow.audit.record(self.kit.event("terms.accepted", account_id, actor))
            await uow.commit()


def _link(token: str, data: dict[str, str]) -> SignInLink:
    telegram = TelegramUser(
        id=int(data["telegram_user_id"]),
        first_name=data.get("first_name", ""),
        username=data.get("username") or None,
        language_code=data.get("language_code") or None,
    )
    return SignInLink(token, telegram, data["provider"])
