"""Google: OpenID Connect at accounts.google.com, ID token checked against Google's JWKS."""

from __future__ import annotations

import time
from collections.abc import Callable

from core.settings import Settings
from web.providers.cache import CachePolicy
from web.providers.openid import OpenIDProvider

ISSUER = "https://accounts.google.com"


class Google(OpenIDProvider):
    """Sign in with Google (OIDC; Google signs ID tokens as either form of its issuer)."""

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        *,
        trust_email: bool,
        issuer: str = ISSUER,
        cache: CachePolicy | None = None,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        # developers.google.com/identity/openid-connect: `iss` is https://accounts.google.com
        # or accounts.google.com.
        also = ("accounts.google.com",) if issuer == ISSUER else ()
        super().__init__(
            client_id,
            client_secret,
            trust_email=trust_email,
            issuer=issuer,
            name="google",
            title="Google",
            also_issuers=also,
            cache=cache,
            timer=timer,
        )


def from_settings(settings: Settings) -> Google | None:
    credentials = settings.provider_credentials("google")
    if credentials is None:
        return None
    return Google(
        *credentials,
        trust_email=settings.oauth_google_trust_email,
        cache=CachePolicy.from_settings(settings),
    )
