"""VK ID: OAuth 2.1 with PKCE at id.vk.com; the token exchange needs the callback's device_id."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aiohttp

from core.domain.models import SocialProfile
from core.settings import Settings
from web.providers.base import OAuth2Provider, Pending, ProviderError, access_token, post_form

VK_ID = "https://id.vk.com"


class VkId(OAuth2Provider):
    """Sign in with VK ID (id.vk.com docs: authorize, oauth2/auth, oauth2/user_info)."""

    name = "vk"
    title = "VK ID"
    scope = "vkid.personal_info email"

    def __init__(
        self, client_id: str, client_secret: str, *, trust_email: bool, base_url: str = VK_ID
    ) -> None:
        super().__init__(client_id, client_secret, trust_email=trust_email)
        self.authorize_endpoint = base_url + "/authorize"
        self.token_endpoint = base_url + "/oauth2/auth"
        self.info_endpoint = base_url + "/oauth2/user_info"

    def token_fields(self, params: Mapping[str, str], pending: Pending) -> dict[str, str | None]:
        if not params.get("device_id"):
            raise ProviderError("missing_code")
        fields = super().token_fields(params, pending)
        # VK ID 2.1 exchanges by PKCE; the secret stays home.
        return fields | {
            "client_secret": None,
            "device_id": params["device_id"],
            "state": pending.state,
        }

    async def read_profile(
        self, http: aiohttp.ClientSession, token: Mapping[str, Any], pending: Pending
    ) -> SocialProfile:
        # VK echoes the state in the token answer; a different one is someone else's exchange.
        if token.get("state") not in (None, pending.state):
            raise ProviderError("state_mismatch")
        answer = await post_form(
            http,
            self.info_endpoint,
            {"client_id": self.client_id, "access_token": access_token(token)},
            reason="userinfo",
        )
        user = answer.get("user")
        if not isinstance(user, dict) or not user.get("user_id"):
            raise ProviderError("userinfo")
        email = user.get("email") or None
        name = " ".join(
            str(part) for part in (user.get("first_name"), user.get("last_name")) if part
        )
        return SocialProfile(
            provider=self.name,
            subject=str(user["user_id"]),
            name=name,
            email=email,
            email_verified=bool(email) and self.verified(True),
        )


def from_settings(settings: Settings) -> VkId | None:
    credentials = settings.provider_credentials("vk")
    if credentials is None:
        return None
    return VkId(*credentials, trust_email=settings.oauth_vk_trust_email)
