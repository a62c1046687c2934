"""OpenID Connect by discovery: metadata, JWKS and ID-token checks (OIDC Core §3.1.3.7)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

import aiohttp
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import (
    BadSignatureError,
    ClaimError,
    ExpiredTokenError,
    InvalidKeyIdError,
    JoseError,
)
from joserfc.jwk import KeySet

from core.domain.models import SocialProfile
from web.providers.base import Pending, Provider, ProviderError, post_form
from web.providers.cache import Cached, CachePolicy, fetch_document

ALGORITHMS = ["RS256", "ES256", "PS256"]
# Clocks of two honest servers drift; a minute is the usual allowance for exp/iat.
LEEWAY = 60

log = logging.getLogger(__name__)


class OpenIDProvider(Provider):
    """Any OIDC issuer: the code flow with PKCE, nonce and an ID token checked against its JWKS."""

    scope = "openid email profile"

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        *,
        trust_email: bool,
        issuer: str,
        name: str = "oidc",
        title: str = "OpenID Connect",
        also_issuers: tuple[str, ...] = (),
        now: Callable[[], float] = time.time,
        cache: CachePolicy | None = None,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        """`now` checks the ID token's times; `timer` ages the kept metadata and keys."""
        super().__init__(client_id, client_secret, trust_email=trust_email)
        self.issuer = issuer.rstrip("/")
        self.name = name
        self.title = title
        self.issuers = (self.issuer, *also_issuers)
        self.now = now
        self.timer = timer
        self.cache = cache or CachePolicy()
        self._metadata = Cached(
            f"{name} discovery", self._fetch_metadata, self.cache.metadata_ttl, self.cache, timer
        )
        self._keys = Cached(
            f"{name} JWKS", self._fetch_keys, self.cache.keys_ttl, self.cache, timer
        )
        self._refetched_at: float | None = None

    async def metadata(self, http: aiohttp.ClientSession) -> dict[str, Any]:
        """The issuer's discovery document (OIDC Discovery §4), kept for its lifetime."""
        return (await self._metadata.get(http))[0]

    async def _fetch_metadata(
        self, http: aiohttp.ClientSession
    ) -> tuple[dict[str, Any], str | None]:
        url = self.issuer + "/.well-known/openid-configuration"
        data, cache_control = await fetch_document(http, url, reason="discovery")
        # OIDC Discovery §4.3: the issuer in the document must be the one we asked.
        if not isinstance(data, dict) or data.get("issuer") not in self.issuers:
            raise ProviderError("discovery")
        return data, cache_control

    async def keys(self, http: aiohttp.ClientSession) -> KeySet:
        """The issuer's signing keys (its JWKS), kept for their lifetime."""
        return (await self._keys.get(http))[0]

    async def _fetch_keys(self, http: aiohttp.ClientSession) -> tuple[KeySet, str | None]:
        meta = await self.metadata(http)
        data, cache_control = await fetch_document(
            http, str(meta.get("jwks_uri", "")), reason="jwks"
        )
        try:
            return KeySet.import_key_set(data), cache_control
        except (JoseError, ValueError, TypeError, KeyError) as error:
            raise ProviderError("jwks") from error

    def _may_refetch(self) -> bool:
        """One forced JWKS fetch per PROVIDER_KEYS_REFETCH_INTERVAL: forged or broken tokens
        must not turn into a flood of requests to the provider."""
        moment = self.timer()
        last = self._refetched_at
        if last is not None and moment - last < self.cache.refetch_interval:
            log.warning("%s: a signature failed again; the keys were refetched just now", self.name)
            return False
        self._refetched_at = moment
        return True

    async def authorization_url(self, http: aiohttp.ClientSession, pending: Pending) -> str:
        meta = await self.metadata(http)
        return self.grant_uri(str(meta["authorization_endpoint"]), pending, nonce=pending.nonce)

    async def profile(
        self, http: aiohttp.ClientSession, params: Mapping[str, str], pending: Pending
    ) -> SocialProfile:
        meta = await self.metadata(http)
        self.check_issuer(params, meta)
        if not params.get("code"):
            raise ProviderError("missing_code")
        token = await post_form(
            http, str(meta["token_endpoint"]), self.token_request(params, pending)
        )
        id_token = token.get("id_token")
        if not isinstance(id_token, str):
            raise ProviderError("id_token")
        claims = await self.validate(http, id_token, pending.nonce)
        return self.to_profile(claims)

    def check_issuer(self, params: Mapping[str, str], meta: Mapping[str, Any]) -> None:
        """RFC 9207 §2.4: a sent `iss` must be the issuer; one that promises it must send it."""
        sent = params.get("iss")
        if sent is None:
            if meta.get("authorization_response_iss_parameter_supported") is True:
                raise ProviderError("wrong_issuer")
            return
        if sent not in self.issuers:
            raise ProviderError("wrong_issuer")

    async def validate(
        self, http: aiohttp.ClientSession, id_token: str, nonce: str
    ) -> dict[str, Any]:
        """OIDC Core §3.1.3.7: signature by the issuer's JWKS, iss, aud, exp, iat and nonce."""
        keys, version = await self._keys.get(http)
        try:
            decoded = jwt.decode(id_token, keys, algorithms=ALGORITHMS)
        except (InvalidKeyIdError, BadSignatureError):
            # A rotated key, under a new kid or the same one: fetch the JWKS again, once, before
            # refusing (OIDC Core §10.1.1); concurrent callbacks share one fetch.
            newer = await self._keys.newer(http, version, self._may_refetch)
            if newer is None:
                raise ProviderError("bad_signature") from None
            try:
                decoded = jwt.decode(id_token, newer, algorithms=ALGORITHMS)
            except (JoseError, ValueError) as error:
                raise ProviderError("bad_signature") from error
        except (JoseError, ValueError) as error:
            raise ProviderError("bad_signature") from error
        claims = CodeIDToken(
            decoded.claims,
            decoded.header,
            options={
                "iss": {"essential": True, "values": list(self.issuers)},
                "aud": {"essential": True, "value": self.client_id},
            },
            params={"nonce": nonce, "client_id": self.client_id},
        )
        try:
            claims.validate(now=int(self.now()), leeway=LEEWAY)
        except JoseError as error:
            raise ProviderError(_claim_reason(error)) from error
        if claims.get("nonce") != nonce:
            raise ProviderError("wrong_nonce")
        return dict(claims)

    def to_profile(self, claims: Mapping[str, Any]) -> SocialProfile:
        email = claims.get("email")
        return SocialProfile(
            provider=self.name,
            subject=str(claims["sub"]),
            name=str(claims.get("name") or claims.get("given_name") or ""),
            email=email if isinstance(email, str) and email else None,
            email_verified=bool(email) and self.verified(claims.get("email_verified")),
        )


_REASONS = {
    "nonce": "wrong_nonce",
    "aud": "wrong_audience",
    "azp": "wrong_audience",
    "iss": "wrong_issuer",
    "exp": "expired_token",
    "iat": "expired_token",
}


def _claim_reason(error: JoseError) -> str:
    if isinstance(error, ExpiredTokenError):
        return "expired_token"
    if isinstance(error, ClaimError):
        return _REASONS.get(error.claim, "id_token")
    return "id_token"
