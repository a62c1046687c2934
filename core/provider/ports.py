"""What the provider needs from storage (PRODUCT §1.11); `core.adapters.db.oidc` is the SQL one."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from core.domain.models import AddressKind, AuditEvent
from core.provider.models import (
    AuthorizationCode,
    Client,
    Consent,
    PendingNotice,
    RefreshToken,
    SigningKey,
    SubjectKind,
)


class ProviderStore(Protocol):
    """Every method is one transaction."""

    # clients
    async def add_client(
        self,
        client_id: str,
        workspace_slug: str,
        redirect_uris: Sequence[str],
        subject_kind: SubjectKind,
        secret_hash: str | None,
        at: datetime,
        notice_uri: str | None = None,
    ) -> Client | None: ...  # None: no such workspace

    async def client(self, client_id: str) -> Client | None: ...
    async def clients(self) -> list[tuple[Client, str, str]]: ...  # the workspace's slug, title
    async def set_client_secret(self, client_id: str, secret_hash: str) -> bool: ...
    async def set_notice_uri(self, client_id: str, notice_uri: str | None) -> bool: ...
    async def remove_client(self, client_id: str) -> bool: ...

    # consents
    async def grant_consent(
        self, account_id: int, client_id: str, scope: str, at: datetime
    ) -> None: ...
    async def consent(self, account_id: int, client_id: str) -> Consent | None: ...
    async def consents(self, account_id: int) -> list[Consent]: ...

    async def revoke_consent(self, account_id: int, client_id: str, at: datetime) -> int:
        """Delete the consent and revoke its refresh tokens; how many tokens were live."""
        ...

    # codes
    async def add_code(self, code: AuthorizationCode) -> None: ...

    async def take_code(self, code_hash: str, at: datetime) -> AuthorizationCode | None:
        """The code, marked used; None when unknown, already used or expired."""
        ...

    # refresh tokens
    async def add_refresh(self, token: RefreshToken) -> None: ...
    async def refresh(self, token_hash: str) -> RefreshToken | None: ...

    async def use_refresh(self, token_hash: str, at: datetime) -> bool:
        """Mark used; False when it already was (a reuse) or was revoked."""
        ...

    async def revoke_family(self, family: str, at: datetime) -> int: ...

    # signing keys
    async def keys(self) -> list[SigningKey]: ...
    async def add_key(self, key: SigningKey) -> None: ...
    async def retire_key(self, kid: str, at: datetime) -> None: ...
    async def drop_key(self, kid: str) -> None: ...

    # back-channel notices (the outbox; `NoticeOutbox` writes it)
    async def notices_due(self, at: datetime) -> bool: ...

    async def claim_notices(
        self, at: datetime, lease_until: datetime, limit: int
    ) -> tuple[list[PendingNotice], int]:
        """Due notices, each leased to this caller until `lease_until` and its attempt counted;
        of several callers at once each notice goes to one (PostgreSQL: SKIP LOCKED). A notice
        no longer to send (the address changed again or went, the client's URI cleared) is
        deleted instead; the second value counts those."""
        ...

    async def finish_notice(
        self, notice_id: int, attempt: int, retry_at: datetime | None, error: str | None
    ) -> None:
        """After a send: delete the notice (`retry_at` None), or make it due again then; nothing
        when the notice is no longer at that attempt (superseded meanwhile)."""
        ...

    # audit
    async def record(self, event: AuditEvent) -> None: ...


class NoticeOutbox(Protocol):
    """The outbox inside a unit of work (`UnitOfWork.notices`): a notice is queued in the very
    transaction that changed the address, so it is kept exactly when the change is."""

    async def enqueue(self, account_id: int, kind: AddressKind, address: str, at: datetime) -> int:
        """A notice to every client with a notice URI whose workspace the account is a member
        of or consented to; one not yet delivered for the same client and kind is replaced.
        How many were queued."""
        ...
