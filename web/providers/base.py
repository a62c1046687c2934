"""The client side of OAuth 2.0 shared by every provider (RFC 6749 §4.1, RFC 7636 PKCE)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri, prepare_token_request
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from core.domain.models import SocialProfile

# Token and user-info calls are short; a provider that hangs must not hold the callback forever.
TIMEOUT = aiohttp.ClientTimeout(total=15)


class ProviderError(Exception):
    """The provider refused, or answered something that cannot be trusted; `reason` names which."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Pending:
    """What the start page remembered for the callback (RFC 6749 §10.12, RFC 7636 §4.1)."""

    state: str
    verifier: str
    nonce: str
    redirect_uri: str


class Provider(ABC):
    """One social sign-in provider: the authorization URL, then a callback turned into a profile."""

    name: str = ""
    title: str = ""
    scope: str = ""

    def __init__(self, client_id: str, client_secret: str, *, trust_email: bool) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.trust_email = trust_email

    @abstractmethod
    async def authorization_url(self, http: aiohttp.ClientSession, pending: Pending) -> str:
        """Where to send the browser: the provider's authorization endpoint with the request."""

    @abstractmethod
    async def profile(
        self, http: aiohttp.ClientSession, params: Mapping[str, str], pending: Pending
    ) -> SocialProfile:
        """Check the callback's parameters, exchange the code, read who signed in."""

    def grant_uri(self, endpoint: str, pending: Pending, **extra: str) -> str:
        """The authorization request of RFC 6749 §4.1.1 with PKCE S256 (RFC 7636 §4.3)."""
        return str(
            prepare_grant_uri(
                endpoint,
                self.client_id,
                "code",
                redirect_uri=pending.redirect_uri,
                scope=self.scope,
                state=pending.state,
                code_challenge=create_s256_code_challenge(pending.verifier),
                code_challenge_method="S256",
                **extra,
            )
        )

    def token_fields(self, params: Mapping[str, str], pending: Pending) -> dict[str, str | None]:
        """The code exchange's fields (RFC 6749 §4.1.3, PKCE RFC 7636 §4.5), client_secret_post;
        a field set to None is left out."""
        return {
            "code": params.get("code", ""),
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "code_verifier": pending.verifier,
        }

    def token_request(self, params: Mapping[str, str], pending: Pending) -> str:
        """The token request's form body, encoded by Authlib."""
        fields = self.token_fields(params, pending)
        return str(
            prepare_token_request("authorization_code", redirect_uri=pending.redirect_uri, **fields)
        )

    def verified(self, claimed: object) -> bool:
        """email_verified counts only when the operator trusts this provider (PRODUCT §1.3.6)."""
        return self.trust_email and claimed is True


async def read_json(response: aiohttp.ClientResponse, reason: str) -> dict[str, Any]:
    """The JSON object of a 2xx answer, or a ProviderError naming the step that failed."""
    if response.status >= 400:
        raise ProviderError(reason)
    try:
        data = await response.json(content_type=None)
    except (ValueError, aiohttp.ClientError) as error:
        raise ProviderError(reason) from error
    if not isinstance(data, dict) or "error" in data:
        raise ProviderError(reason)
    return data


async def post_form(
    http: aiohttp.ClientSession,
    url: str,
    data: Mapping[str, str] | str,
    *,
    reason: str = "token_exchange",
    headers: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """POST a form (fields, or a body already encoded) and read the JSON answer."""
    form = {"Content-Type": "application/x-www-form-urlencoded"} if isinstance(data, str) else {}
    try:
        async with http.post(
            url,
            data=data if isinstance(data, str) else dict(data),
            headers={"Accept": "application/json", **form, **(headers or {})},
            timeout=TIMEOUT,
        ) as response:
            return await read_json(response, reason)
    except (aiohttp.ClientError, TimeoutError) as error:
        raise ProviderError(reason) from error


async def get_json(
    http: aiohttp.ClientSession,
    url: str,
    *,
    reason: str = "userinfo",
    headers: Mapping[str, str] | None = None,
) -> Any:
    try:
        async with http.get(url, headers=dict(headers or {}), timeout=TIMEOUT) as response:
            if response.status >= 400:
                raise ProviderError(reason)
            return await response.json(content_type=None)
    except (aiohttp.ClientError, TimeoutError, ValueError) as error:
        raise ProviderError(reason) from error


def access_token(token: Mapping[str, Any]) -> str:
    value = token.get("access_token")
    if not isinstance(value, str) or not value:
        raise ProviderError("token_exchange")
    return value


class OAuth2Provider(Provider):
    """A provider without OIDC: code exchange, then its own user-info endpoint."""

    authorize_endpoint: str = ""
    token_endpoint: str = ""

    async def authorization_url(self, http: aiohttp.ClientSession, pending: Pending) -> str:
        return self.grant_uri(self.authorize_endpoint, pending)

    async def profile(
        self, http: aiohttp.ClientSession, params: Mapping[str, str], pending: Pending
    ) -> SocialProfile:
        if not params.get("code"):
            raise ProviderError("missing_code")
        token = await post_form(http, self.token_endpoint, self.token_request(params, pending))
        return await self.read_profile(http, token, pending)

    @abstractmethod
    async def read_profile(
        self, http: aiohttp.ClientSession, token: Mapping[str, Any], pending: Pending
    ) -> SocialProfile:
        """Who signed in, from the token response (ID token or user-info endpoint)."""
