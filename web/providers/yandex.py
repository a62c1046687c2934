"""Yandex ID: OAuth 2.0 with PKCE, then login.yandex.ru/info for who signed in."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aiohttp

from core.domain.models import SocialProfile
from core.settings import Settings
from web.providers.base import OAuth2Provider, Pending, ProviderError, access_token, get_json

OAUTH = "https://oauth.yandex.ru"
LOGIN = "https://login.yandex.ru"


class Yandex(OAuth2Provider):
    """Sign in with Yandex ID (yandex.ru/dev/id/doc: authorize, token, info?format=json)."""

    name = "yandex"
    title = "Yandex ID"
    scope = "login:info login:email"

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        *,
        trust_email: bool,
        oauth_url: str = OAUTH,
        login_url: str = LOGIN,
    ) -> None:
        super().__init__(client_id, client_secret, trust_email=trust_email)
        self.authorize_endpoint = oauth_url + "/authorize"
        self.token_endpoint = oauth_url + "/token"
        self.info_endpoint = login_url + "/info?format=json"

    async def read_profile(
        self, http: aiohttp.ClientSession, token: Mapping[str, Any], pending: Pending
    ) -> SocialProfile:
        # Yandex takes its own "OAuth" scheme for the access token.
        headers = {"Authorization": "OAuth " + access_token(token)}
        info = await get_json(http, self.info_endpoint, headers=headers)
        if not isinstance(info, dict) or not info.get("id"):
            raise ProviderError("userinfo")
        email = info.get("default_email") or None
        name = info.get("real_name") or info.get("display_name") or info.get("login") or ""
        # Yandex only reports the account's own confirmed addresses as default_email.
        return SocialProfile(
            provider=self.name,
            subject=str(info["id"]),
            name=str(name),
            email=email,
            email_verified=bool(email) and self.verified(True),
        )


def from_settings(settings: Settings) -> Yandex | None:
    credentials = settings.provider_credentials("yandex")
    if credentials is None:
        return None
    return Yandex(*credentials, trust_email=settings.oauth_yandex_trust_email)
