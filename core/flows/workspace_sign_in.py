"""Social sign-in on the provider's own sign-in page (PRODUCT §1.11).

The same providers, the same callback (`/auth/callback/<provider>`, the one redirect URI the
operator registered with each provider) and the same browser cookie as the chat's sign-in
(PRODUCT §1.1): a random state of 256 bits, a PKCE verifier and a nonce per attempt, spent once,
only by the browser that started it (RFC 6749 §10.12), within OAUTH_STATE_TTL. What the attempt
carries back is not a chat's link but the workspace's authorization request, kept here keyed by
the state: the callback goes back to the provider's own authorization endpoint with it, whatever
the provider's answer says, so no parameter of the answer can send the browser anywhere else (no
open redirect), and the request is checked again there (client, exact redirect URI, PKCE).

An identity with no account signs nobody in and makes no account: accounts are made in the chat,
where the person is linked, told and can recover (PRODUCT §1.11).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from core.domain.models import SocialProfile
from core.domain.secrets import Keyed
from core.errors import DomainError
from core.flows.kit import Kit
from core.flows.sign_in import MEMORY, browser_digest, same_browser
from core.ports import Clock, TokenStore


@dataclass(frozen=True)
class WorkspaceAttempt:
    """One trip of a browser to the provider and back, for a workspace's authorization request."""

    provider: str
    state: str
    verifier: str  # PKCE (RFC 7636 §4.1)
    nonce: str  # OIDC Core §3.1.2.1
    redirect_uri: str
    browser: str  # the browser's cookie: only this browser may come back with the state
    request: dict[str, str]  # the workspace's authorization request, as the page had it
    locale: str | None


@dataclass
class WorkspaceAttemptRefused(DomainError):
    """The state is one of ours but may not be used here; `reason` goes to the metrics."""

    reason: str  # "state", "state_provider", "state_browser", as the chat's
    # The workspace's request when the browser is the one that started: it may start again.
    request: dict[str, str] | None
    locale: str | None


@dataclass(frozen=True)
class WorkspaceSignIn:
    """The attempts begun on the provider's sign-in page, in the token store, and the account a
    returning social identity signs in to."""

    kit: Kit

    @classmethod
    def from_kit(cls, kit: Kit) -> WorkspaceSignIn:
        return cls(kit)

    @property
    def ttl(self) -> timedelta:
        """OAUTH_STATE_TTL, the chat's sign-in's own."""
        return self.kit.limits.oauth_state_ttl

    @property
    def keyed(self) -> Keyed:
        return self.kit.keyed

    @property
    def tokens(self) -> TokenStore:
        return self.kit.tokens

    @property
    def clock(self) -> Clock:
        return self.kit.clock

    @property
    def new_token(self) -> Callable[[], str]:
        return self.kit.new_token

    def _key(self, state: str) -> str:
        return "oidc-social:" + self.keyed.digest("oidc-social", state)

    def _redirect_uri(self, provider: str) -> str:
        return self.kit.url(f"/auth/callback/{provider}")

    async def begin(
        self,
        provider: str,
        browser: str | None,
        request: Mapping[str, str],
        locale: str | None,
    ) -> WorkspaceAttempt:
        """A new attempt for `provider`, carrying the workspace's `request`; `browser` is the
        browser's cookie, a new one when it has none (the caller sets `attempt.browser`).

        The record outlives the attempt by a day (as a chat's link does), so a late or second
        use is told apart from a chat's state and answered with the provider's own page;
        `expires_at` decides validity, not the store.
        """
        # RFC 6749 §10.10: at least 128 bits; each of these has 256.
        attempt = WorkspaceAttempt(
            provider=provider,
            state=self.new_token(),
            verifier=self.new_token(),
            nonce=self.new_token(),
            redirect_uri=self._redirect_uri(provider),
            browser=browser or self.new_token(),
            request=dict(request),
            locale=locale,
        )
        record = {
            "provider": provider,
            "verifier": attempt.verifier,
            "nonce": attempt.nonce,
            "browser": browser_digest(self.keyed, attempt.browser),
            "request": json.dumps(attempt.request),
            "locale": locale or "",
            "expires_at": (self.clock.now() + self.ttl).isoformat(),
        }
        await self.tokens.put(self._key(attempt.state), record, self.ttl + MEMORY)
        return attempt

    async def claim(
        self, state: str, provider: str, browser: str | None
    ) -> WorkspaceAttempt | None:
        """Use the attempt up for the provider's callback; None when the state is not one of
        ours (the chat's sign-in then looks at it), WorkspaceAttemptRefused when it may not be
        used.

        As the chat's: look before using it up, so that whoever fetches the callback URL first
        (a link preview, a stranger) cannot spoil the person's own sign-in; of two requests from
        the person's browser one wins.
        """
        key = self._key(state)
        record = await self.tokens.peek(key) if state else None
        if record is None:
            return None
        self._check(record, provider, browser)
        taken = await self.tokens.pop(key)
        if taken is None or "used" in taken:  # the other of two requests won
            if taken is not None:
                await self.tokens.put(key, taken, MEMORY)
            raise WorkspaceAttemptRefused("state", _request(record), record.get("locale") or None)
        # Spent: a second use is refused with the provider's page, not the chat's.
        await self.tokens.put(key, {**taken, "used": "1", "verifier": "", "nonce": ""}, MEMORY)
        return WorkspaceAttempt(
            provider=provider,
            state=state,
            verifier=taken["verifier"],
            nonce=taken["nonce"],
            redirect_uri=self._redirect_uri(provider),
            browser=browser or "",
            request=_request(taken),
            locale=taken.get("locale") or None,
        )

    def _check(self, record: Mapping[str, str], provider: str, browser: str | None) -> None:
        locale = record.get("locale") or None
        if record.get("provider") != provider:
            raise WorkspaceAttemptRefused("state_provider", None, locale)  # mix-up (RFC 9700 §4.4)
        if not same_browser(self.keyed, browser, record.get("browser", "")):
            raise WorkspaceAttemptRefused("state_browser", None, locale)
        expires_at = datetime.fromisoformat(record["expires_at"])
        if "used" in record or self.clock.now() >= expires_at:
            raise WorkspaceAttemptRefused("state", _request(record), locale)

    async def account_of(self, profile: SocialProfile) -> int | None:
        """The account this social identity signs in to, its sign-in an audit event; None when
        it has none (none is made here, see the module's docstring)."""
        kit = self.kit
        async with kit.reader() as uow:
            identity = await uow.identities.find(profile.provider, profile.subject)
        if identity is None:
            return None
        async with kit.unit() as uow:
            event = kit.event(
                "signed_in.social", identity.account_id, "web", provider=profile.provider
            )
            await uow.audit.record(event)
            await uow.commit()
        return identity.account_id


def _request(record: Mapping[str, str]) -> dict[str, str]:
    loaded = json.loads(record.get("request") or "{}")
    if not isinstance(loaded, dict):
        return {}
    return {str(k): str(v) for k, v in loaded.items()}
