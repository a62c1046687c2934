"""`accountbot workspace client add|list|set-notice-uri|rotate-secret|remove` (PRODUCT §1.11)."""

from __future__ import annotations

import argparse
from datetime import timedelta

from core.adapters.db.engine import Database
from core.adapters.db.oidc import SqlProviderStore
from core.bootstrap import SystemClock
from core.domain.secrets import Keyed
from core.provider.models import SubjectKind
from core.provider.service import Lifetimes, ProviderError, ProviderService

# The operator's commands hash no code or token (client secrets are SHA-256, see the service),
# so they need neither the server key nor the lifetimes.
_UNUSED = Lifetimes(timedelta(0), timedelta(0), timedelta(0))


async def client_command(database_url: str, args: argparse.Namespace) -> int:
    database = Database(database_url)
    provider = ProviderService(SqlProviderStore(database), Keyed(b""), SystemClock(), _UNUSED)
    try:
        verb = args.client_verb
        if verb == "add":
            client, secret = await provider.add_client(
                args.slug,
                args.redirect_uris,
                confidential=not args.public,
                subject_kind=SubjectKind(args.subject),
                notice_uri=args.notice_uri,
            )
            print(f"client_id: {client.client_id}")
            if secret is not None:
                print(f"client_secret: {secret}")
                print("The secret is shown once: keep it in the workspace's configuration.")
        elif verb == "list":
            for view in await provider.clients():
                kind = "confidential" if view.client.confidential else "public"
                uris = " ".join(view.client.redirect_uris)
                subject = view.client.subject_kind.value
                notice = view.client.notice_uri or "-"
                print(
                    f"{view.client.client_id}\t{view.workspace_slug}\t{kind}\t{subject}\t{uris}"
                    f"\t{notice}"
                )
        elif verb == "set-notice-uri":
            await provider.set_notice_uri(args.client_id, args.notice_uri or None)
            print(f"Notices go to {args.notice_uri}." if args.notice_uri else "No notices.")
        elif verb == "rotate-secret":
            print(f"client_secret: {await provider.rotate_secret(args.client_id)}")
        else:
            if not await provider.remove_client(args.client_id):
                print(f"No client {args.client_id!r}.")
                return 1
            print("Removed.")
    except ProviderError as error:
        print(f"Refused: {error.description or error.error}")
        return 1
    finally:
        await database.dispose()
    return 0
