"""GitHub: OAuth 2.0 (with PKCE), then api.github.com/user and its primary verified email."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aiohttp

from core.domain.models import SocialProfile
from core.settings import Settings
from web.providers.base import OAuth2Provider, Pending, ProviderError, access_token, get_json

SITE = "https://github.com"
API = "https://api.github.com"


class GitHub(OAuth2Provider):
    """Sign in with GitHub (docs.github.com: authorizing OAuth apps, REST users and emails)."""

    name = "github"
    title = "GitHub"
    scope = "read:user user:email"

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        *,
        trust_email: bool,
        site_url: str = SITE,
        api_url: str = API,
    ) -> None:
        super().__init__(client_id, client_secret, trust_email=trust_email)
        self.authorize_endpoint = site_url + "/login/oauth/authorize"
        self.token_endpoint = site_url + "/login/oauth/access_token"
        self.api_url = api_url

    async def read_profile(
        self, http: aiohttp.ClientSession, token: Mapping[str, Any], pending: Pending
    ) -> SocialProfile:
        headers = {
            "Authorization": "Bearer " + access_token(token),
            "Accept": "application/vnd.github+json",
            "User-Agent": "accountbot",
        }
        user = await get_json(http, self.api_url + "/user", headers=headers)
        if not isinstance(user, dict) or not user.get("id"):
            raise ProviderError("userinfo")
        emails = await get_json(http, self.api_url + "/user/emails", headers=headers)
        primary = next(
            (
                item
                for item in emails
                if isinstance(emails, list)
                if isinstance(item, dict) and item.get("primary") and item.get("verified")
            ),
            None,
        )
        email = str(primary["email"]) if primary else None
        return SocialProfile(
            provider=self.name,
            subject=str(user["id"]),
            name=str(user.get("name") or user.get("login") or ""),
            email=email,
            email_verified=email is not None and self.verified(True),
        )


def from_settings(settings: Settings) -> GitHub | None:
    credentials = settings.provider_credentials("github")
    if credentials is None:
        return None
    return GitHub(*credentials, trust_email=settings.oauth_github_trust_email)
