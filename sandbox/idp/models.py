"""The dev IdP's client, people and codes as Authlib's server mixins want them."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field

from authlib.oauth2.rfc6749 import ClientMixin
from authlib.oidc.core import AuthorizationCodeMixin

SCOPES = ("openid", "email", "profile")


@dataclass(frozen=True)
class DevUser:
    """Whoever one types on the authorize page."""

    sub: str
    name: str
    email: str
    email_verified: bool

    @classmethod
    def typed(cls, name: str, email: str, verified: bool) -> DevUser:
        # The same email (or name) is the same person on every sign-in, as with a real provider.
        seed = (email.strip().lower() or name.strip()).encode()
        return cls(
            "dev-" + hashlib.sha256(seed).hexdigest()[:16], name.strip(), email.strip(), verified
        )


@dataclass(frozen=True)
class DevClient(ClientMixin):  # type: ignore[misc]
    """The one registered client: this project's own callback, a confidential client."""

    client_id: str
    client_secret: str
    redirect_uri: str

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_allowed_scope(self, scope: str) -> str:
        return " ".join(s for s in (scope or "").split() if s in SCOPES)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        # RFC 9700 §4.1.3: exact string matching of redirect URIs.
        return redirect_uri == self.redirect_uri

    def check_client_secret(self, client_secret: str) -> bool:
        return hmac.compare_digest(client_secret.encode(), self.client_secret.encode())

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "authorization_code"


@dataclass
class DevCode(AuthorizationCodeMixin):  # type: ignore[misc]
    """An issued authorization code, kept until used or ten minutes pass (RFC 6749 §4.1.2)."""

    code: str
    client_id: str
    redirect_uri: str
    scope: str
    user: DevUser
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    auth_time: int
    expires_at: float = field(default=0.0)

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.auth_time
