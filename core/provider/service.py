"""The OpenID Provider's rules (PRODUCT §1.11), independent of HTTP, Authlib and SQL.

Codes and tokens are random, handed out once, and kept only as keyed hashes (HMAC under the
server key, `core.domain.secrets.Keyed`); client secrets are random 256-bit values kept as
SHA-256 (high entropy needs no key, so the operator's CLI does not need the server key).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from urllib.parse import urlsplit

from core.domain.models import AuditEvent
from core.domain.secrets import Keyed
from core.errors import DomainError
from core.ports import Clock
from core.provider.models import (
    AuthorizationCode,
    Client,
    Consent,
    RefreshToken,
    SigningKey,
    SubjectKind,
)
from core.provider.ports import ProviderStore


class ProviderError(DomainError):
    """A request the provider refuses; `error` is the OAuth 2.0 error code (RFC 6749 §5.2)."""

    def __init__(self, error: str, description: str = "") -> None:
        super().__init__(description or error)
        self.error = error
        self.description = description


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def s256(verifier: str) -> str:
    """The PKCE S256 challenge of a verifier (RFC 7636 §4.2)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _https_or_loopback(uri: str) -> bool:
    parts = urlsplit(uri)
    loopback = parts.hostname in ("127.0.0.1", "::1", "localhost")
    return bool(
        not parts.fragment
        and parts.netloc
        and (parts.scheme == "https" or (parts.scheme == "http" and loopback))
    )


def check_redirect_uri(uri: str) -> str:
    """An absolute https URI without a fragment, or http on the loopback (RFC 8252 §7.3)."""
    if not _https_or_loopback(uri):
        raise ProviderError("invalid_redirect_uri", f"not an acceptable redirect URI: {uri}")
    return uri


def check_notice_uri(uri: str) -> str:
    """Where notices are pushed (RFC 8935): https, or http on the loopback, as redirect URIs."""
    if not _https_or_loopback(uri):
        raise ProviderError("invalid_request", f"not an acceptable notice URI: {uri}")
    return uri


@dataclass(frozen=True)
class Lifetimes:
    code: timedelta
    access_token: timedelta
    refresh_token: timedelta


@dataclass(frozen=True)
class ClientView:
    client: Client
    workspace_slug: str
    workspace_title: str


class ProviderService:
    """Clients, consents, codes, refresh-token families and signing keys."""

    def __init__(
        self,
        store: ProviderStore,
        keyed: Keyed,
        clock: Clock,
        lifetimes: Lifetimes,
        *,
        pairwise: Keyed | None = None,
    ) -> None:
        self.store = store
        self.keyed = keyed
        # The pairwise subjects' key (OP_PAIRWISE_KEY): SECRET_KEY's unless set apart, so that
        # rotating SECRET_KEY need not change what a workspace knows everyone as.
        self.pairwise = pairwise or keyed
        self.clock = clock
        self.lifetimes = lifetimes

    async def _audit(self, action: str, account_id: int | None, actor: str, **details: str) -> None:
        await self.store.record(
            AuditEvent(action, account_id, self.clock.now(), actor, dict(details))
        )

    # --- clients (the operator's CLI) ----------------------------------------------------------

    async def add_client(
        self,
        workspace_slug: str,
        redirect_uris: Sequence[str],
        *,
        confidential: bool,
        subject_kind: SubjectKind = SubjectKind.PUBLIC,
        notice_uri: str | None = None,
    ) -> tuple[Client, str | None]:
        """The new client and its secret (shown once; None for a public client)."""
        if not redirect_uris:
            raise ProviderError("invalid_redirect_uri", "at least one redirect URI")
        uris = [check_redirect_uri(uri) for uri in redirect_uris]
        notice = check_notice_uri(notice_uri) if notice_uri else None
        secret = secrets.token_urlsafe(32) if confidential else None
        client_id = f"{workspace_slug}-{secrets.token_hex(6)}"
        client = await self.store.add_client(
            client_id,
            workspace_slug,
            uris,
            subject_kind,
            secret_hash(secret) if secret else None,
            self.clock.now(),
            notice,
        )
        if client is None:
            raise ProviderError("invalid_request", f"no workspace {workspace_slug!r}")
        await self._audit("oidc.client_added", None, "operator", client_id=client_id)
        return client, secret

    async def clients(self) -> list[ClientView]:
        return [ClientView(*row) for row in await self.store.clients()]

    async def rotate_secret(self, client_id: str) -> str:
        client = await self.store.client(client_id)
        if client is None or not client.confidential:
            raise ProviderError("invalid_client", "no confidential client with that id")
        secret = secrets.token_urlsafe(32)
        await self.store.set_client_secret(client_id, secret_hash(secret))
        await self._audit("oidc.client_secret_rotated", None, "operator", client_id=client_id)
        return secret

    async def set_notice_uri(self, client_id: str, notice_uri: str | None) -> None:
        """Where the client's back-channel notices go; None: none any more (the ones waiting
        are dropped)."""
        uri = check_notice_uri(notice_uri) if notice_uri else None
        if not await self.store.set_notice_uri(client_id, uri):
            raise ProviderError("invalid_client", "no client with that id")
        await self._audit(
            "oidc.client_notice_uri_set" if uri else "oidc.client_notice_uri_cleared",
            None,
            "operator",
            client_id=client_id,
        )

    async def remove_client(self, client_id: str) -> bool:
        removed = await self.store.remove_client(client_id)
        if removed:
            await self._audit("oidc.client_removed", None, "operator", client_id=client_id)
        return removed

    async def client(self, client_id: str) -> Client | None:
        return await self.store.client(client_id)

    @staticmethod
    def secret_matches(client: Client, secret: str) -> bool:
        if client.secret_hash is None:
            return False
        return hmac.compare_digest(client.secret_hash, secret_hash(secret))

    def subject(self, client: Client, account_id: int) -> str:
        """`sub`: the account id, or per workspace a keyed value no two workspaces share."""
        if client.subject_kind is SubjectKind.PAIRWISE:
            return self.pairwise.digest("oidc-pairwise", f"{client.workspace_id}:{account_id}")
        return str(account_id)

    # --- consents (the chat's card: "Signed in to: …") -----------------------------------------

    async def grant_consent(self, account_id: int, client_id: str, scope: str) -> None:
        await self.store.grant_consent(account_id, client_id, scope, self.clock.now())
        await self._audit("oidc.consent_granted", account_id, "web", client_id=client_id)

    async def consent(self, account_id: int, client_id: str) -> Consent | None:
        return await self.store.consent(account_id, client_id)

    async def consents(self, account_id: int) -> list[Consent]:
        """The workspaces this account signed in to (title, when), for the card."""
        return await self.store.consents(account_id)

    async def revoke_consent(self, account_id: int, client_id: str, actor: str) -> int:
        """Sign out of one workspace: the consent goes and its refresh tokens stop working."""
        ended = await self.store.revoke_consent(account_id, client_id, self.clock.now())
        await self._audit(
            "oidc.consent_revoked", account_id, actor, client_id=client_id, tokens=str(ended)
        )
        return ended

    # --- authorization codes -------------------------------------------------------------------

    async def issue_code(
        self,
        client: Client,
        account_id: int,
        redirect_uri: str,
        scope: str,
        nonce: str | None,
        code_challenge: str,
        code_challenge_method: str,
        auth_time: datetime,
        code: str | None = None,
    ) -> str:
        if code_challenge_method != "S256" or not code_challenge:
            raise ProviderError("invalid_request", "PKCE with S256 is required")
        code = code or secrets.token_urlsafe(32)
        now = self.clock.now()
        await self.store.add_code(
            AuthorizationCode(
                code_hash=self.keyed.digest("oidc-code", code),
                client_id=client.client_id,
                account_id=account_id,
                redirect_uri=redirect_uri,
                scope=scope,
                nonce=nonce,
                code_challenge=code_challenge,
                code_challenge_method=code_challenge_method,
                auth_time=auth_time,
                expires_at=now + self.lifetimes.code,
            )
        )
        await self._audit("oidc.code_issued", account_id, "web", client_id=client.client_id)
        return code

    async def take_code(self, code: str, client_id: str) -> AuthorizationCode | None:
        """The code's grant, used up whatever follows; None when unknown, used, expired or
        another client's. The caller checks the redirect URI and PKCE (Authlib does)."""
        found = await self.store.take_code(self.keyed.digest("oidc-code", code), self.clock.now())
        if found is None or not hmac.compare_digest(found.client_id, client_id):
            return None
        return found

    async def redeem_code(
        self, code: str, client_id: str, redirect_uri: str, code_verifier: str
    ) -> AuthorizationCode:
        """The code's grant, once: the same client, redirect URI, and the PKCE verifier."""
        found = await self.store.take_code(self.keyed.digest("oidc-code", code), self.clock.now())
        if found is None:
            raise ProviderError("invalid_grant", "unknown, used or expired code")
        if not hmac.compare_digest(found.client_id, client_id):
            raise ProviderError("invalid_grant", "the code is another client's")
        if found.redirect_uri != redirect_uri:
            raise ProviderError("invalid_grant", "redirect_uri differs from the authorization's")
        if not code_verifier or not hmac.compare_digest(s256(code_verifier), found.code_challenge):
            raise ProviderError("invalid_grant", "PKCE verifier does not match")
        return found

    # --- refresh tokens ------------------------------------------------------------------------

    async def issue_refresh(
        self,
        client_id: str,
        account_id: int,
        scope: str,
        family: str | None = None,
        token: str | None = None,
    ) -> str:
        """Keep a refresh token (`token`, or a new random one) as a keyed hash; return it."""
        token = token or secrets.token_urlsafe(32)
        now = self.clock.now()
        await self.store.add_refresh(
            RefreshToken(
                token_hash=self.keyed.digest("oidc-refresh", token),
                family=family or secrets.token_hex(16),
                client_id=client_id,
                account_id=account_id,
                scope=scope,
                issued_at=now,
                expires_at=now + self.lifetimes.refresh_token,
            )
        )
        await self._audit("oidc.refresh_issued", account_id, "web", client_id=client_id)
        return token

    async def consume_refresh(self, token: str, client_id: str) -> RefreshToken:
        """The token's grant, used up; a reused token revokes its whole family."""
        now = self.clock.now()
        found = await self.store.refresh(self.keyed.digest("oidc-refresh", token))
        if found is None or not hmac.compare_digest(found.client_id, client_id):
            raise ProviderError("invalid_grant", "unknown refresh token")
        if found.revoked_at is not None or found.expires_at <= now:
            raise ProviderError("invalid_grant", "refresh token revoked or expired")
        if await self.store.consent(found.account_id, client_id) is None:
            raise ProviderError("invalid_grant", "consent withdrawn")
        if not await self.store.use_refresh(found.token_hash, now):
            ended = await self.store.revoke_family(found.family, now)
            await self._audit(
                "oidc.refresh_reused",
                found.account_id,
                "web",
                client_id=client_id,
                tokens=str(ended),
            )
            raise ProviderError("invalid_grant", "refresh token reused; its family is revoked")
        return found

    async def rotate_refresh(self, token: str, client_id: str) -> tuple[RefreshToken, str]:
        """The token's grant and its successor in the same family."""
        found = await self.consume_refresh(token, client_id)
        successor = await self.issue_refresh(
            client_id, found.account_id, found.scope, family=found.family
        )
        return found, successor

    async def revoke_token(self, token: str, client_id: str) -> bool:
        """RFC 7009: revoke a refresh token (its family); unknown tokens are not an error."""
        found = await self.store.refresh(self.keyed.digest("oidc-refresh", token))
        if found is None or not hmac.compare_digest(found.client_id, client_id):
            return False
        await self.store.revoke_family(found.family, self.clock.now())
        await self._audit("oidc.token_revoked", found.account_id, "web", client_id=client_id)
        return True

    # --- signing keys --------------------------------------------------------------------------

    async def key_states(self) -> list[KeyStatus]:
        """Every stored key with its state now, in the order they sign (PRODUCT §1.11)."""
        return key_states(await self.store.keys(), self.clock.now(), self.lifetimes.access_token)

    async def published_keys(self) -> list[SigningKey]:
        """JWKS: every key whose ID tokens may still be valid, the next one before it signs."""
        return [s.key for s in await self.key_states() if s.state is not KeyState.EXPIRED]

    async def signing_key(self) -> SigningKey | None:
        """The newest key whose time to sign has come (read from the store at every call, so
        every instance starts signing with a rotated key at its time, without a restart)."""
        signing = [s.key for s in await self.key_states() if s.state is KeyState.SIGNING]
        return signing[0] if signing else None

    async def add_key(self, kid: str, jwk: dict[str, str], publish_ahead: timedelta) -> SigningKey:
        """A new key: published now, signing after `publish_ahead` (zero for the very first)."""
        now = self.clock.now()
        key = SigningKey(kid=kid, jwk=jwk, created_at=now, signs_from=now + publish_ahead)
        await self.store.add_key(key)
        await self._audit("oidc.key_added", None, "operator", kid=kid)
        return key

    async def replace_keys(self, kid: str, jwk: dict[str, str]) -> tuple[SigningKey, list[str]]:
        """An emergency rotation: the new key signs at once and every other key leaves JWKS at
        once, so the ID tokens they signed stop verifying (a compromised key must not)."""
        key = await self.add_key(kid, jwk, timedelta(0))
        dropped = [k.kid for k in await self.store.keys() if k.kid != kid]
        for old in dropped:
            await self.store.drop_key(old)
            await self._audit("oidc.key_removed", None, "operator", kid=old, reason="emergency")
        return key, dropped

    async def prune_keys(self) -> list[str]:
        """Mark when replaced keys stopped signing; drop them once their ID tokens expired."""
        dropped: list[str] = []
        for status in await self.key_states():
            if status.state is KeyState.EXPIRED:
                await self.store.drop_key(status.key.kid)
                await self._audit("oidc.key_removed", None, "operator", kid=status.key.kid)
                dropped.append(status.key.kid)
            elif status.state is KeyState.RETIRING and status.key.retired_at is None:
                assert status.stopped_at is not None
                await self.store.retire_key(status.key.kid, status.stopped_at)
        return dropped


class KeyState(StrEnum):
    SIGNING = "signing"
    AHEAD = "published-ahead"  # in JWKS, signs from `until`
    RETIRING = "retiring"  # no longer signs; in JWKS until `until`, when its last token expires
    EXPIRED = "expired"  # every token it signed has expired: out of JWKS, dropped at the next prune


@dataclass(frozen=True)
class KeyStatus:
    key: SigningKey
    state: KeyState
    until: datetime | None = None
    stopped_at: datetime | None = None  # when a retiring or expired key signed for the last time


def key_states(
    keys: Sequence[SigningKey], now: datetime, token_lifetime: timedelta
) -> list[KeyStatus]:
    """The state of each key at `now`: in the order they sign (`signs_from`, then the one added
    last), each signs until the next one's time comes; an ID token lives `token_lifetime`, so a
    replaced key stays published that long after it stopped signing."""
    ordered = sorted(keys, key=lambda k: (k.signs_from, k.created_at))
    states: list[KeyStatus] = []
    for index, key in enumerate(ordered):
        if key.signs_from > now:
            states.append(KeyStatus(key, KeyState.AHEAD, until=key.signs_from))
            continue
        later = ordered[index + 1] if index + 1 < len(ordered) else None
        stopped = later.signs_from if later is not None and later.signs_from <= now else None
        if key.retired_at is not None:
            stopped = min(stopped, key.retired_at) if stopped else key.retired_at
        if stopped is None:
            states.append(KeyStatus(key, KeyState.SIGNING))
            continue
        until = stopped + token_lifetime
        state = KeyState.RETIRING if until > now else KeyState.EXPIRED
        states.append(KeyStatus(key, state, until=until, stopped_at=stopped))
    return states
