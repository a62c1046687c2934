"""`accountbot workspace ...`: the operator's workspaces and who is a member (PRODUCT §1.3.4)."""

from __future__ import annotations

import argparse

from core.adapters.db.engine import Database
from core.domain.addresses import mask, normalize_email, normalize_phone
from core.errors import DomainError


async def workspace_command(database_url: str, args: argparse.Namespace) -> int:
    if args.verb == "client":
        from accountbot.oidc_clients import client_command

        return await client_command(database_url, args)
    database = Database(database_url)
    try:
        async with database.uow() as uow:
            repo = uow.workspaces
            if args.verb == "create":
                created = await repo.create(args.slug, args.title)
                print(f"Workspace {created.slug} ({created.title}) created.")
            elif args.verb == "list":
                for item in await repo.all():
                    print(f"{item.slug}\t{item.title}")
            elif args.verb in ("add-member", "remove-member"):
                found = await repo.get(args.slug)
                if found is None:
                    print(f"No workspace {args.slug!r}.")
                    return 1
                if args.verb == "add-member":
                    email = normalize_email(args.email) if args.email else None
                    phone = normalize_phone(args.phone) if args.phone else None
                    await repo.add_member(found.id, args.account_id, email, phone)
                else:
                    await repo.remove_member(found.id, args.account_id)
                print("Done.")
            else:
                for member in await repo.memberships(args.account_id):
                    contacts = [mask(c) for c in (member.contact_email, member.contact_phone) if c]
                    print(f"{member.workspace.slug}\t{', '.join(contacts) or '-'}")
            await uow.commit()
    except DomainError as error:
        print(f"Refused: {error!r}")
        return 1
    finally:
        await database.dispose()
    return 0
