"""What the OpenID Provider keeps (PRODUCT §1.11): clients, consents, codes, token families."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class SubjectKind(StrEnum):
    """The `sub` a workspace sees: the account id as is, or one of its own (pairwise)."""

    PUBLIC = "public"
    PAIRWISE = "pairwise"


@dataclass(frozen=True)
class Client:
    """A workspace registered as an OpenID Connect client."""

    client_id: str
    workspace_id: int
    redirect_uris: tuple[str, ...]
    subject_kind: SubjectKind
    secret_hash: str | None  # None: a public client (PKCE only)
    created_at: datetime
    notice_uri: str | None = None  # where back-channel notices go (None: none are sent)

    @property
    def confidential(self) -> bool:
        return self.secret_hash is not None


@dataclass(frozen=True)
class Consent:
    """A person's consent to one workspace, given once (PRODUCT §1.11)."""

    account_id: int
    client_id: str
    workspace_title: str
    scope: str
    granted_at: datetime


@dataclass(frozen=True)
class AuthorizationCode:
    """A code at rest: only its keyed hash; single use, short-lived, bound to all of this."""

    code_hash: str
    client_id: str
    account_id: int
    redirect_uri: str
    scope: str
    nonce: str | None
    code_challenge: str
    code_challenge_method: str
    auth_time: datetime
    expires_at: datetime


@dataclass(frozen=True)
class RefreshToken:
    """A refresh token at rest: its keyed hash and the family it was rotated from."""

    token_hash: str
    family: str
    client_id: str
    account_id: int
    scope: str
    issued_at: datetime
    expires_at: datetime
    used_at: datetime | None = None
    revoked_at: datetime | None = None


@dataclass(frozen=True)
class SigningKey:
    """A private JWK (as a dict) and from when it signs; published in JWKS from `created_at`."""

    kid: str
    jwk: dict[str, str] = field(repr=False)
    created_at: datetime = field(default_factory=lambda: datetime.min)
    signs_from: datetime = field(default_factory=lambda: datetime.min)
    retired_at: datetime | None = None


@dataclass(frozen=True)
class PendingNotice:
    """A back-channel notice claimed for a send: the client it goes to, the new address, and
    which attempt this is (1 for the first). `jti` and `created_at` stay the same on every retry,
    so a workspace that got a notice twice (a lost answer) recognises it."""

    notice_id: int
    jti: str
    client: Client
    account_id: int
    kind: str  # "email" or "phone"
    address: str
    created_at: datetime
    attempt: int
