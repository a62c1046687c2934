"""Social sign-in (PRODUCT §1.1): a link made for one Telegram user, the browser's trip to the
provider and back, the consent, then an account found or made.

This flow owns every rule of the attempt: its state, PKCE verifier and nonce (RFC 6749 §10.10,
RFC 7636, OIDC Core §3.1.2.1), that only the browser that started it may use it, once (RFC 6749
§10.12), and the consent records. The web layer only carries them over HTTP, sets the browser's
cookie and talks to the provider.
"""

from __future__ import annotations

import contextlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

from core import letters
from core.domain.models import AddressKind, AuditEvent, SocialIdentity, SocialProfile
from core.domain.secrets import Keyed, url_token
from core.errors import CodeExpired, DomainError
from core.flows.kit import Kit
from core.notices import Reauthenticated, SignedIn, SignInFailed, TelegramLinked, Unlinked
from core.ports import Clock, Mailer, Notifier, TokenStore, UnitOfWorkFactory

# How long a spent or expired link is remembered, to offer a fresh one when it is clicked.
MEMORY = timedelta(hours=24)


def reauth_key(account_id: int) -> str:
    """Where a fresh sign-in that confirms deleting the account is kept (PRODUCT §1.12)."""
    return f"reauth:{account_id}"


@dataclass(frozen=True)
class TelegramUser:
    """Who asked for the link, as Telegram described them; shown on the consent page."""

    id: int
    first_name: str
    username: str | None = None
    language_code: str | None = None
    locale: str | None = None  # the language the chat speaks (chosen, else Telegram's)

    @property
    def display(self) -> str:
        return f"{self.first_name} (@{self.username})" if self.username else self.first_name

    @property
    def masked(self) -> str:
        """The name and username masked, for a letter (it travels further than a chat)."""
        name = f"{self.first_name[:1]}***"
        return f"{name} (@{self.username[:1]}***)" if self.username else name


@dataclass(frozen=True)
class SignInLink:
    """An open link: its token, who asked for it and which provider it signs in with."""

    token: str
    telegram: TelegramUser
    provider: str
    # A sign-in again to confirm deleting this account (PRODUCT §1.12): it signs nobody in.
    reauth: int | None = None

    @property
    def locale(self) -> str | None:
        """The language of the chat that asked for the link (PRODUCT §1.1, one language)."""
        return self.telegram.locale or self.telegram.language_code


class SignInResult(NamedTuple):
    """The account signed in; `created` when it is new."""

    account_id: int
    created: bool
    needs_terms: bool


def browser_digest(keyed: Keyed, cookie: str) -> str:
    """What an attempt keeps of the browser's cookie that started it."""
    return keyed.digest("oauth-browser", cookie)


def same_browser(keyed: Keyed, cookie: str | None, expected: str) -> bool:
    """The callback and the consent come from the browser that started (RFC 6749 §10.12)."""
    return bool(cookie) and hmac.compare_digest(browser_digest(keyed, cookie or ""), expected)


@dataclass(frozen=True)
class Attempt:
    """One trip of a browser to the provider and back, for one link (RFC 6749 §4.1)."""

    link: str  # the sign-in link's token
    provider: str
    telegram_user_id: int
    state: str
    verifier: str  # PKCE (RFC 7636 §4.1)
    nonce: str  # OIDC Core §3.1.2.1
    redirect_uri: str
    browser: str  # the browser's cookie: only this browser may come back with the state
    locale: str | None = None  # the language of the chat that asked for the link


@dataclass
class AttemptRefused(DomainError):
    """The callback may not use this state; `reason` says why (for the metrics only)."""

    reason: str  # "state", "state_provider", "state_browser"


@dataclass(frozen=True)
class Consent:
    """A checked profile waiting for the person's Confirm or Cancel (PRODUCT §1.1.5)."""

    id: str
    link: SignInLink
    profile: SocialProfile
    needs_terms: bool
    csrf: str
    # The social account already has an account here, used from other Telegram accounts and not
    # yet from this one: Confirm joins it, and its chats are told (PRODUCT §1.1.8).
    joins_existing: bool = False

    def form_ok(self, sent: str) -> bool:
        """The form carries this consent's own token, compared in constant time."""
        return hmac.compare_digest(sent.encode(), self.csrf.encode())


@dataclass(frozen=True)
class SignInFlow:
    """Makes sign-in links, keeps each attempt and consent, and turns a confirmed social profile
    into a signed-in chat."""

    uow: UnitOfWorkFactory
    tokens: TokenStore
    notifier: Notifier
    clock: Clock
    keyed: Keyed
    public_url: str
    terms_url: str | None = None
    # How long a link, an attempt and a consent are good for (OAUTH_STATE_TTL).
    ttl: timedelta = timedelta(minutes=10)
    new_token: Callable[[], str] = url_token
    # The bound emails hear of a newcomer Telegram account too (PRODUCT §1.10); None: no letter.
    mailer: Mailer | None = None
    default_locale: str = "en"

    @classmethod
    def from_kit(cls, kit: Kit) -> SignInFlow:
        options = kit.options
        ports = (kit.uow, kit.tokens, kit.notifier, kit.clock, kit.keyed)
        return cls(
            *ports,
            options.public_url,
            options.terms_url,
            kit.limits.oauth_state_ttl,
            kit.new_token,
            mailer=kit.mailer,
            default_locale=options.default_locale,
        )

    def _key(self, token: str) -> str:
        return "signin:" + self.keyed.digest("signin", token)

    def _url(self, path: str) -> str:
        return self.public_url.rstrip("/") + path

    def _event(self, action: str, account_id: int, actor: str, **details: str) -> AuditEvent:
        return AuditEvent(action, account_id, self.clock.now(), actor, dict(details))

    async def create_link(
        self, telegram: TelegramUser, provider: str, *, reauth: int | None = None
    ) -> str:
        """The URL of the project's start page for this person and provider, valid 10 min.

        The record outlives its validity by a day, so a late or second click can still tell the
        chat to offer a fresh link (PRODUCT §1.1); `expires_at` decides validity, not the store.
        With `reauth` (an account id) the link only proves, once, that the person still controls
        one of that account's social accounts (PRODUCT §1.12).
        """
        token = self.new_token()
        expires_at = self.clock.now() + self.ttl
        data = {
            "expires_at": expires_at.isoformat(),
            "telegram_user_id": str(telegram.id),
            "first_name": telegram.first_name,
            "username": telegram.username or "",
            "language_code": telegram.language_code or "",
            "locale": telegram.locale or "",
            "provider": provider,
            "reauth": str(reauth) if reauth is not None else "",
        }
        await self.tokens.put(self._key(token), data, self.ttl + MEMORY)
        return self._url(f"/auth/start/{token}")

    async def open_link(self, token: str) -> SignInLink | None:
        """The link's request while it is unused and fresh; None otherwise."""
        data = await self.tokens.peek(self._key(token))
        return _link(token, data) if data and self._fresh(data) else None

    async def link_locale(self, token: str) -> str | None:
        """The language of the chat a link was made for, fresh or not, while it is remembered:
        the used-link page speaks it too (PRODUCT §1.1.7)."""
        data = await self.tokens.peek(self._key(token))
        return _locale(data) if data else None

    async def report_stale(self, token: str) -> bool:
        """A used or expired link was opened: the chat offers a fresh one, once per link."""
        data = await self.tokens.pop(self._key(token))
        if not data or self._fresh(data):
            if data:  # still valid after all: put it back untouched
                await self.tokens.put(self._key(token), data, self.ttl)
            return False
        user, locale = int(data["telegram_user_id"]), _locale(data)
        await self.notifier.notify(SignInFailed(user, "expired", locale=locale))
        return True

    def _fresh(self, data: dict[str, str]) -> bool:
        return "used" not in data and self.clock.now() < datetime.fromisoformat(data["expires_at"])

    async def complete(
        self, token: str, profile: SocialProfile, *, terms_accepted: bool = False
    ) -> SignInResult:
        """Use the link once: find or make the account by (provider, subject); sign the chat in."""
        data = await self.tokens.pop(self._key(token))
        if not data or not self._fresh(data):
            if data:
                await self.tokens.put(self._key(token), data, MEMORY)  # report_stale finds it
            raise CodeExpired()
        link = _link(token, data)
        await self._spend(token, data)
        if link.reauth is not None:
            return await self._reauthenticated(link, profile)
        now = self.clock.now()
        actor = f"telegram:{link.telegram.id}"
        async with self.uow() as uow:
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
                    self._event("account.created", account_id, actor, provider=profile.provider)
                )
            else:
                account_id = identity.account_id
                await uow.identities.update_email(
                    profile.provider, profile.subject, profile.email, profile.email_verified
                )
            # Joined: other Telegram users already use the account, this one did not (§1.1.8).
            others = await uow.telegram.users_of(account_id)
            joined = bool(others) and link.telegram.id not in others
            await uow.telegram.link(link.telegram.id, account_id, now)
            terms = self.terms_url
            stored = await uow.accounts.get(account_id)
            bindings = await uow.bindings.for_account(account_id) if joined else []
            needs_terms = bool(terms) and stored is not None and not stored.terms_accepted_at
            if needs_terms and terms_accepted and terms:
                await uow.accounts.accept_terms(account_id, terms, now)
                await uow.audit.record(self._event("terms.accepted", account_id, actor))
                needs_terms = False
            await uow.audit.record(
                self._event("signed_in", account_id, actor, provider=profile.provider)
            )
            await uow.commit()
        # PRODUCT §1.1.8, §1.10: every chat already linked hears of the newcomer, in its own
        # account's language, with a button to unlink it.
        for other in others if joined else []:
            await self.notifier.notify(
                TelegramLinked(other, account_id, link.telegram.id, link.telegram.display)
            )
        emails = [b.address for b in bindings if b.kind is AddressKind.EMAIL and b.confirmed]
        locale = (stored.locale if stored else None) or self.default_locale
        await self._tell_emails(emails, locale, link.telegram)
        await self.notifier.notify(
            SignedIn(
                link.telegram.id, account_id, profile.provider, created, joined, locale=link.locale
            )
        )
        return SignInResult(account_id, created, needs_terms)

    async def _tell_emails(self, emails: list[str], locale: str, newcomer: TelegramUser) -> None:
        """PRODUCT §1.10: each confirmed email hears of the newcomer too, its name masked, with
        the way to unlink it; in the account's language."""
        if self.mailer is None:
            return
        for email in emails:
            letter = letters.telegram_linked_notice(locale, email, newcomer.masked)
            with contextlib.suppress(Exception):  # linked already; a lost letter undoes nothing
                await self.mailer.send(letter)

    async def _reauthenticated(self, link: SignInLink, profile: SocialProfile) -> SignInResult:
        """A sign-in again for deleting the account: it counts only with one of the account's
        own social accounts, and only for a few minutes (DELETE_REAUTH_MAX_AGE, checked when the
        deletion is confirmed). Nothing is linked or created (PRODUCT §1.12)."""
        account_id = link.reauth
        assert account_id is not None
        async with self.uow() as uow:
            identity = await uow.identities.find(profile.provider, profile.subject)
        matched = identity is not None and identity.account_id == account_id
        if matched:
            record = {
                "at": self.clock.now().isoformat(),
                "telegram_user_id": str(link.telegram.id),
            }
            await self.tokens.put(reauth_key(account_id), record, MEMORY)
        await self.notifier.notify(
            Reauthenticated(link.telegram.id, account_id, matched, locale=link.locale)
        )
        return SignInResult(account_id, False, False)

    async def _spend(self, token: str, data: dict[str, str]) -> None:
        """The link is used: a second click shows the used-link page and offers a fresh one."""
        used = {
            "telegram_user_id": data["telegram_user_id"],
            "locale": _locale(data) or "",
            "used": "1",
        }
        await self.tokens.put(self._key(token), used, MEMORY)

    async def unlink_newcomer(self, account_id: int, newcomer_id: int, by: int) -> bool:
        """A chat of the account unlinks another Telegram user that joined it (PRODUCT §1.1.8).

        Only a chat linked to the account may, and only a Telegram user linked to the same one
        is unlinked; False when there is nothing to do (already unlinked, or not this account's).
        """
        async with self.uow() as uow:
            linked = await uow.telegram.users_of(account_id)
            if by not in linked or newcomer_id not in linked or newcomer_id == by:
                return False
            account = await uow.accounts.get(account_id)
            await uow.telegram.unlink(newcomer_id)
            actor = f"telegram:{by}"
            await uow.audit.record(
                self._event("telegram.unlinked", account_id, actor, telegram=str(newcomer_id))
            )
            await uow.commit()
        # Signed out now, the chat still speaks the account's language.
        await self.notifier.notify(
            Unlinked(newcomer_id, locale=account.locale if account else None)
        )
        return True

    async def needs_terms(self, profile: SocialProfile) -> bool:
        """Whether signing in with this profile must accept the user agreement first: a new
        account, or one that never accepted it, while TERMS_URL is set (PRODUCT §1.1)."""
        if not self.terms_url:
            return False
        async with self.uow() as uow:
            identity = await uow.identities.find(profile.provider, profile.subject)
            if identity is None:
                return True
            account = await uow.accounts.get(identity.account_id)
        return account is None or account.terms_accepted_at is None

    async def accept_terms(self, account_id: int, actor: str) -> None:
        """Record that the person accepted the operator's user agreement."""
        terms = self.terms_url
        if not terms:
            return
        async with self.uow() as uow:
            await uow.accounts.accept_terms(account_id, terms, self.clock.now())
            await uow.audit.record(self._event("terms.accepted", account_id, actor))
            await uow.commit()

    # The attempt: the start page sends the browser off, the callback brings it back.

    def _attempt_key(self, state: str) -> str:
        return "oauth:" + self.keyed.digest("oauth", state)

    def _browser(self, cookie: str) -> str:
        return browser_digest(self.keyed, cookie)

    def _same_browser(self, cookie: str | None, expected: str) -> bool:
        return same_browser(self.keyed, cookie, expected)

    async def begin(self, link: SignInLink, browser: str | None) -> Attempt:
        """A new attempt for an open link, remembered for `ttl`; `browser` is the browser's
        cookie, a new one when it has none (the caller sets `attempt.browser` as the cookie)."""
        # RFC 6749 §10.10: at least 128 bits; each of these has 256.
        attempt = Attempt(
            link=link.token,
            provider=link.provider,
            telegram_user_id=link.telegram.id,
            state=self.new_token(),
            verifier=self.new_token(),  # 43 URL-safe characters: RFC 7636 §4.1's shortest
            nonce=self.new_token(),
            redirect_uri=self._url(f"/auth/callback/{link.provider}"),
            browser=browser or self.new_token(),
            locale=link.locale,
        )
        record = {
            "link": attempt.link,
            "provider": attempt.provider,
            "telegram_user_id": str(attempt.telegram_user_id),
            "verifier": attempt.verifier,
            "nonce": attempt.nonce,
            "browser": self._browser(attempt.browser),
            "locale": attempt.locale or "",
        }
        await self.tokens.put(self._attempt_key(attempt.state), record, self.ttl)
        return attempt

    async def claim(self, state: str, provider: str, browser: str | None) -> Attempt:
        """Use the attempt up for the provider's callback, or AttemptRefused(reason).

        Look before using it up: only the browser that started may spend the state (RFC 6749
        §10.12), so whoever fetches the callback URL first (a link preview, a proxy, a stranger)
        cannot spoil the person's own sign-in. Two requests from that browser: one wins.
        Tampered, replayed, expired, another provider's (mix-up) or another browser's: refused.
        """
        key = self._attempt_key(state)
        record = await self.tokens.peek(key) if state else None
        if record is None:
            raise AttemptRefused("state")
        if record.get("provider") != provider:
            raise AttemptRefused("state_provider")
        if not self._same_browser(browser, record["browser"]):
            raise AttemptRefused("state_browser")
        if await self.tokens.pop(key) is None:
            raise AttemptRefused("state")
        return Attempt(
            link=record["link"],
            provider=provider,
            telegram_user_id=int(record["telegram_user_id"]),
            state=state,
            verifier=record["verifier"],
            nonce=record["nonce"],
            redirect_uri=self._url(f"/auth/callback/{provider}"),
            browser=browser or "",
            locale=record.get("locale") or None,
        )

    async def failed(self, attempt: Attempt, reason: str) -> None:
        """The attempt ended at the provider ("declined", "provider_error"): the chat hears it."""
        await self.notifier.notify(
            SignInFailed(attempt.telegram_user_id, reason, locale=attempt.locale)
        )

    # The consent: the checked profile waits for the person's Confirm or Cancel.

    def _consent_key(self, consent_id: str) -> str:
        return "consent:" + self.keyed.digest("consent", consent_id)

    async def hold_consent(self, attempt: Attempt, profile: SocialProfile) -> str:
        """Keep the checked profile until the person confirms; returns the consent's id."""
        consent_id = self.new_token()
        record = {
            "link": attempt.link,
            "browser": self._browser(attempt.browser),
            "telegram_user_id": str(attempt.telegram_user_id),
            "provider": profile.provider,
            "subject": profile.subject,
            "name": profile.name,
            "email": profile.email or "",
            "email_verified": "1" if profile.email_verified else "",
            "csrf": self.new_token(),
        }
        await self.tokens.put(self._consent_key(consent_id), record, self.ttl)
        return consent_id

    async def open_consent(self, consent_id: str, browser: str | None) -> Consent | None:
        """The consent while it and its link are unused, for the browser that started only."""
        record = await self.tokens.peek(self._consent_key(consent_id))
        link = await self.open_link(record["link"]) if record else None
        if record is None or link is None or not self._same_browser(browser, record["browser"]):
            return None
        profile = SocialProfile(
            record["provider"],
            record["subject"],
            record["name"],
            record["email"] or None,
            record["email_verified"] == "1",
        )
        reauth = link.reauth is not None  # signs nobody in: no terms, nobody joins
        needs_terms = not reauth and await self.needs_terms(profile)
        joins = not reauth and await self._joins_existing(profile, link.telegram.id)
        return Consent(consent_id, link, profile, needs_terms, record["csrf"], joins)

    async def _joins_existing(self, profile: SocialProfile, telegram_user_id: int) -> bool:
        """The profile has an account here that other Telegram users are linked to, and this
        one is not yet: Confirm makes it join them (PRODUCT §1.1.8), as `complete` decides."""
        async with self.uow() as uow:
            identity = await uow.identities.find(profile.provider, profile.subject)
            if identity is None:
                return False
            users = await uow.telegram.users_of(identity.account_id)
        return bool(users) and telegram_user_id not in users

    async def confirm(self, consent: Consent, *, terms_accepted: bool = False) -> SignInResult:
        """Confirm was pressed: use the consent and its link once, or CodeExpired."""
        if await self.tokens.pop(self._consent_key(consent.id)) is None:
            raise CodeExpired()
        return await self.complete(
            consent.link.token, consent.profile, terms_accepted=terms_accepted
        )

    async def cancel(self, consent: Consent) -> None:
        """Cancel was pressed: nothing is linked, the link is spent (a second use shows the
        used-link page), and the chat hears it was declined, with a fresh link."""
        if await self.tokens.pop(self._consent_key(consent.id)) is None:
            return  # a second Cancel: the first one spoke already
        data = await self.tokens.pop(self._key(consent.link.token))
        if data is not None:
            await self._spend(consent.link.token, data)
        link = consent.link
        await self.notifier.notify(SignInFailed(link.telegram.id, "declined", locale=link.locale))


def _link(token: str, data: dict[str, str]) -> SignInLink:
    telegram = TelegramUser(
        id=int(data["telegram_user_id"]),
        first_name=data.get("first_name", ""),
        username=data.get("username") or None,
        language_code=data.get("language_code") or None,
        locale=data.get("locale") or None,
    )
    reauth = data.get("reauth")
    return SignInLink(token, telegram, data["provider"], int(reauth) if reauth else None)


def _locale(data: dict[str, str]) -> str | None:
    """The chat's language a link's record carries (older records: Telegram's language)."""
    return data.get("locale") or data.get("language_code") or None
