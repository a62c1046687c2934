"""Social sign-in on the provider's own sign-in page (PRODUCT §1.11).

The same providers, the same callback (`/auth/callback/<provider>`, the one redirect URI the
operator registered with each provider) and the same browser cookie as the chat's sign-in
(PRODUCT §1.1): a random state of 256 bits, a PKCE verifier and a nonce per attempt, spent once,
only by the browser that started it (RFC 6749 §10.12), within OAUTH_STATE_TTL. What the attempt
carries back is not a chat's link but the workspace's authorization request, kept here keyed by
the state: the callback goes back to our own `/oidc/authorize` with it, whatever the provider's
answer says, so no parameter of the answer can send the browser anywhere else (no open redirect),
and Authlib checks the request again there (client, exact redirect URI, PKCE).
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode

from core.bootstrap import Services
from core.domain.secrets import Keyed
from core.flows.sign_in import MEMORY
from core.ports import Clock, TokenStore
from web.providers import Pending

AUTHORIZE = "/oidc/authorize"


def sign_in_page(request: Mapping[str, str]) -> str:
    """Our own authorization endpoint with the workspace's request: the only way back."""
    return f"{AUTHORIZE}?{urlencode(dict(request))}"


def start_path(provider: str, request: Mapping[str, str]) -> str:
    """Where a button of the sign-in page leads: the attempt begins there."""
    return f"/oidc/social/{provider}?{urlencode(dict(request))}"


@dataclass(frozen=True)
class Begun:
    """A new attempt: what the provider's request needs, and the browser's cookie to set."""

    pending: Pending
    browser: str


@dataclass(frozen=True)
class Returned:
    """The attempt the provider's answer belongs to, used up by this callback."""

    provider: str
    pending: Pending
    request: dict[str, str]  # the workspace's authorization request, as the page had it
    locale: str | None


class Refused(Exception):
    """The state is one of ours but may not be used here; `reason` goes to the metrics."""

    def __init__(self, reason: str, request: dict[str, str] | None, locale: str | None) -> None:
        super().__init__(reason)
        self.reason = reason  # "state", "state_provider", "state_browser", as the chat's
        # The workspace's request when the browser is the one that started: it may start again.
        self.request = request
        self.locale = locale


@dataclass(frozen=True)
class SocialAttempts:
    """The attempts begun on the provider's sign-in page, in the token store."""

    tokens: TokenStore
    keyed: Keyed
    clock: Clock
    new_token: Callable[[], str]
    ttl: timedelta  # OAUTH_STATE_TTL, the chat's sign-in's own
    public_url: str

    @classmethod
    def of(cls, services: Services) -> SocialAttempts:
        kit = services.kit
        return cls(
            kit.tokens,
            kit.keyed,
            kit.clock,
            kit.new_token,
            services.sign_in.ttl,
            services.settings.public_url,
        )

    def _key(self, state: str) -> str:
        return "oidc-social:" + self.keyed.digest("oidc-social", state)

    def _browser(self, cookie: str) -> str:
        # The chat's binding (core.flows.sign_in): the same cookie, digested the same way.
        return self.keyed.digest("oauth-browser", cookie)

    def _same_browser(self, cookie: str | None, expected: str) -> bool:
        return bool(cookie) and hmac.compare_digest(self._browser(cookie or ""), expected)

    def _redirect_uri(self, provider: str) -> str:
        return self.public_url.rstrip("/") + f"/auth/callback/{provider}"

    async def begin(
        self,
        provider: str,
        browser: str | None,
        request: Mapping[str, str],
        locale: str | None,
    ) -> Begun:
        """A new attempt for `provider`, carrying the workspace's `request`; `browser` is the
        browser's cookie, a new one when it has none.

        The record outlives the attempt by a day (as a chat's link does), so a late or second
        use is told apart from a chat's state and answered with the provider's own page;
        `expires_at` decides validity, not the store.
        """
        # RFC 6749 §10.10: at least 128 bits; each of these has 256.
        state, verifier, nonce = self.new_token(), self.new_token(), self.new_token()
        cookie = browser or self.new_token()
        record = {
            "provider": provider,
            "verifier": verifier,
            "nonce": nonce,
            "browser": self._browser(cookie),
            "request": json.dumps(dict(request)),
            "locale": locale or "",
            "expires_at": (self.clock.now() + self.ttl).isoformat(),
        }
        await self.tokens.put(self._key(state), record, self.ttl + MEMORY)
        return Begun(Pending(state, verifier, nonce, self._redirect_uri(provider)), cookie)

    async def claim(self, state: str, provider: str, browser: str | None) -> Returned | None:
        """Use the attempt up for the provider's callback; None when the state is not one of
        ours (the chat's sign-in then looks at it), Refused when it may not be used.

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
            raise Refused("state", _request(record), record.get("locale") or None)
        # Spent: a second use is refused with the provider's page, not the chat's.
        await self.tokens.put(key, {**taken, "used": "1", "verifier": "", "nonce": ""}, MEMORY)
        pending = Pending(state, taken["verifier"], taken["nonce"], self._redirect_uri(provider))
        return Returned(provider, pending, _request(taken), taken.get("locale") or None)

    def _check(self, record: Mapping[str, str], provider: str, browser: str | None) -> None:
        locale = record.get("locale") or None
        if record.get("provider") != provider:
            raise Refused("state_provider", None, locale)  # mix-up (RFC 9700 §4.4)
        if not self._same_browser(browser, record.get("browser", "")):
            raise Refused("state_browser", None, locale)
        expires_at = datetime.fromisoformat(record["expires_at"])
        if "used" in record or self.clock.now() >= expires_at:
            raise Refused("state", _request(record), locale)


def _request(record: Mapping[str, str]) -> dict[str, str]:
    loaded = json.loads(record.get("request") or "{}")
    if not isinstance(loaded, dict):
        return {}
    return {str(k): str(v) for k, v in loaded.items()}
