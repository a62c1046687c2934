"""What the project stores about an account, as plain values."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class AddressKind(StrEnum):
    EMAIL = "email"
    PHONE = "phone"


class BindingStatus(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"


@dataclass(frozen=True)
class SocialProfile:
    """What a provider told about the person after a successful sign-in."""

    provider: str
    subject: str
    name: str = ""
    email: str | None = None
    email_verified: bool = False


@dataclass(frozen=True)
class SocialIdentity:
    account_id: int
    provider: str
    subject: str
    email: str | None
    email_verified: bool
    created_at: datetime


@dataclass(frozen=True)
class Binding:
    """An email or phone of an account: pending until confirmed, then usable as a login."""

    account_id: int
    kind: AddressKind
    address: str  # normalized: email per email-validator, phone as E.164
    status: BindingStatus
    created_at: datetime
    confirmed_at: datetime | None = None
    expires_at: datetime | None = None  # pending only

    @property
    def confirmed(self) -> bool:
        return self.status is BindingStatus.CONFIRMED


@dataclass(frozen=True)
class Account:
    id: int
    name: str
    locale: str | None
    created_at: datetime
    terms_accepted_at: datetime | None = None


@dataclass(frozen=True)
class Workspace:
    id: int
    slug: str
    title: str


@dataclass(frozen=True)
class Membership:
    workspace: Workspace
    account_id: int
    contact_email: str | None
    contact_phone: str | None


@dataclass(frozen=True)
class AuditEvent:
    """Who did what, when; never a secret (PRODUCT §3, issue #3)."""

    action: str
    account_id: int | None
    at: datetime
    actor: str = ""  # "telegram:<id>", "web", "operator", "system"
    details: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class AccountView:
    """Everything the account card shows (PRODUCT §1.2)."""

    account: Account
    identities: tuple[SocialIdentity, ...]
    email: Binding | None
    pending_email: Binding | None
    phone: Binding | None
    pending_phone: Binding | None
    has_password: bool

    @property
    def sign_in_methods(self) -> int:
        """How many independent ways in the account has; never let it drop to zero."""
        with_password = int(self.email is not None) + int(self.phone is not None)
        return len(self.identities) + (with_password if self.has_password else 0)
