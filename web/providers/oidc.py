"""Any OpenID Connect issuer, found by discovery from OIDC_ISSUER."""

from __future__ import annotations

from core.settings import Settings
from web.providers.cache import CachePolicy
from web.providers.openid import OpenIDProvider


def from_settings(settings: Settings) -> OpenIDProvider | None:
    if not (settings.oidc_issuer and settings.oidc_client_id):
        return None
    secret = settings.oidc_client_secret.get_secret_value() if settings.oidc_client_secret else ""
    return OpenIDProvider(
        settings.oidc_client_id,
        secret,
        trust_email=settings.oidc_trust_email,
        issuer=settings.oidc_issuer,
        name="oidc",
        title=settings.oidc_name,
        cache=CachePolicy.from_settings(settings),
    )
