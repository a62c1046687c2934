"""`accountbot`: run the bot, the sandbox, migrations and operator commands.

It reads settings, builds the services with `core.bootstrap`, and hands them to the Telegram
layer and the web server (`accountbot.runner`); `accountbot sandbox` runs the sandbox, which is
its own distribution (`sandbox.stack`) and says how to install it when it is missing.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Coroutine, Sequence
from types import ModuleType
from typing import Any

from pydantic import ValidationError

from accountbot import logs, webhook
from core.settings import Settings, StorageSettings, describe_error

Command = Callable[[argparse.Namespace], Coroutine[Any, Any, int]]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="accountbot", description="Telegram bot that adds a login and a password to accounts"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="the bot and the web server, from the environment / .env")
    sandbox = commands.add_parser(
        "sandbox",
        help="everything on this machine, nothing to set up",
        description="Telegram, mail, SMS, a support desk and the product on one port.",
        epilog=SANDBOX_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sandbox.add_argument("--port", type=int, default=8080, help="0 picks a free one")
    sandbox.add_argument("--host", default="127.0.0.1")
    sandbox.add_argument("--data", default="var/sandbox", help="folder kept between runs")
    sandbox.add_argument(
        "--bot",
        action="append",
        default=[],
        metavar="TOKEN[=USERNAME]",
        help="register one more bot (repeatable), to run a bot of one's own against the sandbox",
    )
    migrate = commands.add_parser("migrate", help="create or upgrade the database schema")
    migrate.add_argument("--revision", default="head")
    commands.add_parser("check-config", help="read the settings and say what is wrong")
    webhook.add_parser(commands)
    workspace = commands.add_parser("workspace", help="manage workspaces and memberships")
    verbs = workspace.add_subparsers(dest="verb", required=True)
    create = verbs.add_parser("create", help="add a workspace")
    create.add_argument("slug")
    create.add_argument("title")
    verbs.add_parser("list", help="list workspaces")
    add = verbs.add_parser("add-member", help="make an account a member")
    add.add_argument("slug")
    add.add_argument("account_id", type=int)
    add.add_argument("--email")
    add.add_argument("--phone")
    remove = verbs.add_parser("remove-member", help="remove an account from a workspace")
    remove.add_argument("slug")
    remove.add_argument("account_id", type=int)
    members = verbs.add_parser("memberships", help="an account's workspaces and contacts")
    members.add_argument("account_id", type=int)
    _client_parser(verbs)
    _keys_parser(verbs)
    return parser


def _client_parser(verbs: Any) -> None:
    """`accountbot workspace client ...`: workspaces as OpenID Connect clients (PRODUCT §1.11)."""
    client = verbs.add_parser("client", help="the workspace's OpenID Connect clients")
    actions = client.add_subparsers(dest="client_verb", required=True)
    add = actions.add_parser("add", help="register a client; prints its id (and secret) once")
    add.add_argument("slug", help="the workspace")
    add.add_argument("--redirect-uri", action="append", required=True, dest="redirect_uris")
    add.add_argument("--public", action="store_true", help="no secret: a public client (PKCE)")
    add.add_argument("--subject", choices=["public", "pairwise"], default="public")
    add.add_argument(
        "--notice-uri",
        help="where back-channel notices of a changed email or phone are pushed (RFC 8935)",
    )
    actions.add_parser("list", help="every client with its workspace, redirect and notice URIs")
    notice = actions.add_parser(
        "set-notice-uri", help="set the client's notice URI; without one, it gets no notices"
    )
    notice.add_argument("client_id")
    notice.add_argument("notice_uri", nargs="?")
    rotate = actions.add_parser("rotate-secret", help="a new secret; the old stops working")
    rotate.add_argument("client_id")
    remove = actions.add_parser("remove", help="remove a client, its consents and tokens")
    remove.add_argument("client_id")


def _keys_parser(verbs: Any) -> None:
    """`accountbot workspace keys ...`: the provider's signing keys (PRODUCT §1.11)."""
    keys = verbs.add_parser("keys", help="the OpenID Provider's signing keys")
    actions = keys.add_subparsers(dest="keys_verb", required=True)
    actions.add_parser("list", help="every key: signing, published ahead or retiring, and until")
    ahead = (
        "a new signing key: in JWKS at once, signing after OP_KEY_PUBLISH_AHEAD; the key it"
        " replaces stays in JWKS until every ID token it signed has expired (OP_ACCESS_TOKEN_TTL)"
    )
    rotate = actions.add_parser("rotate", help=ahead, description=ahead)
    rotate.add_argument(
        "--now",
        action="store_true",
        help="emergency (a leaked key): the new key signs at once and every other key leaves"
        " JWKS at once, so the ID tokens they signed stop verifying; relying parties that"
        " cached JWKS may trust the old key up to 5 minutes more",
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    # Production logs are JSON lines; the sandbox's are for a person at a terminal.
    logs.configure("INFO", as_json=args.command == "run")
    handlers: dict[str, Command] = {
        "run": _run,
        "sandbox": _sandbox,
        "migrate": _migrate,
        "check-config": _check_config,
        "workspace": _workspace,
        "webhook": webhook.webhook_command,
    }
    try:
        return asyncio.run(handlers[args.command](args))
    except ValidationError as error:
        print(describe_error(error), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0


async def _migrate(args: argparse.Namespace) -> int:
    from core.adapters.db.migrate import current, upgrade

    url = StorageSettings().database_url
    await upgrade(url, args.revision)
    print(f"Database schema is at revision {await current(url)}.")
    return 0


async def _check_config(_: argparse.Namespace) -> int:
    from core.settings import load_settings

    settings = load_settings()
    print("Configuration is complete.")
    # Then the stores it names must answer, with the pool and timeouts it sets (issue #14).
    return 0 if await _check_stores(settings) else 1


async def _check_stores(settings: Settings) -> bool:
    """One line for the database and one for Redis: answers or not, and with what settings."""
    from sqlalchemy.engine import make_url

    from core.adapters.db.engine import Database
    from core.bootstrap import pg_pool, pg_timeouts, redis_options

    ok = True
    backend = make_url(settings.database_url).get_backend_name()
    database = Database(
        settings.database_url,
        timeouts=pg_timeouts(settings),
        pool=pg_pool(settings),
        sqlite_busy_timeout=settings.sqlite_busy_timeout,
    )
    detail = backend
    if backend == "postgresql":
        seconds = settings.database_statement_timeout
        statement = f"{seconds} s" if seconds else "the server's own"
        detail += (
            f", pool {settings.database_pool_size} + {settings.database_max_overflow} overflow"
            f", timeouts: connect {settings.database_connect_timeout} s"
            f", pool {settings.database_pool_timeout} s"
            f", command {settings.database_command_timeout} s"
            f", statement {statement}"
        )
    try:
        await database.ping()
        print(f"Database ({detail}): answers.")
    except Exception as error:  # any failure is the operator's to read, in one line
        ok = False
        print(f"Database ({detail}): does not answer ({type(error).__name__}).", file=sys.stderr)
    finally:
        await database.dispose()
    if not settings.redis_url:
        print("Redis: not set; limits, codes and conversations live in this process's memory.")
        return ok
    from core.adapters.redis.connection import (
        ClusterRefused,
        is_sentinel_url,
        make_client,
        parse_sentinel_url,
        refuse_cluster,
    )

    if is_sentinel_url(settings.redis_url):
        target = parse_sentinel_url(settings.redis_url)
        where = f"Sentinel, master {target.service_name!r} of {len(target.sentinels)} sentinel(s)"
    else:
        where = "one node"
    client = make_client(settings.redis_url, redis_options(settings))
    try:
        await client.ping()
        await refuse_cluster(client)
        print(f"Redis ({where}, pool {settings.redis_max_connections}): answers.")
    except ClusterRefused as error:
        ok = False
        print(f"Redis: {error}.", file=sys.stderr)
    except Exception as error:  # any failure is the operator's to read, in one line
        ok = False
        print(f"Redis ({where}): does not answer ({type(error).__name__}).", file=sys.stderr)
    finally:
        await client.aclose()
    return ok


async def _workspace(args: argparse.Namespace) -> int:
    if args.verb == "keys":
        from accountbot.oidc_keys import keys_command

        return await keys_command(args)
    from accountbot.workspaces import workspace_command

    return await workspace_command(StorageSettings().database_url, args)


async def _run(_: argparse.Namespace) -> int:
    from accountbot.runner import create_web_app, run_production
    from core.settings import load_settings

    if not load_settings().dev_idp_enabled:
        return await run_production(create_web_app)
    # Development on loopback: the development identity provider is the sandbox's.
    stack = _sandbox_stack("DEV_IDP_ENABLED is the sandbox's development identity provider. ")
    return 2 if stack is None else await run_production(stack.create_site)


SANDBOX_EPILOG = """\
The sandbox supplies defaults only; the environment and .env win over them:
  DATABASE_URL     sqlite in --data (accounts.sqlite3)
  REDIS_URL        none: rate limits, locks and cooldowns in memory
  SMTP_*           the sandbox's own SMTP catcher (read at /mailbox)
  SECRET_KEY       made once and kept in --data (secret_key)
  RESEND_COOLDOWN  30 seconds
It always sets: BOT_TOKEN, TELEGRAM_API_URL and PUBLIC_URL (itself), SMS_BACKEND=outbox,
DEV_IDP_ENABLED, DATA_DIR (--data) and SUPPORT_CHAT_ID (its "Support" group).
Its Bot API answers 429 as Telegram does (docs/SANDBOX.md), within these limits (env, .env):
  SANDBOX_FLOOD_PRIVATE_RATE      1 message a second per private chat, in the long run
  SANDBOX_FLOOD_PRIVATE_BURST     4 messages at once in a private chat that was quiet
  SANDBOX_FLOOD_GROUP_PER_MINUTE  20 messages a minute per group
  SANDBOX_FLOOD_BOT_PER_SECOND    30 messages a second per bot, in all chats
At start it prints which services it uses. SIGTERM or Ctrl+C stops it cleanly; Telegram's side
(people, chats, next ids) is written on every change, so even a kill -9 keeps it."""

SANDBOX_MISSING = """The sandbox is not installed: it is a distribution of its own.
From a clone of the repository, `make sandbox` installs it and starts it;
or install it by hand:  pip install -e ./sandbox"""


def _sandbox_stack(why: str = "") -> ModuleType | None:
    """`sandbox.stack`, or None when its distribution is missing (and how to install it told)."""
    try:  # the sandbox's own distribution (sandbox/pyproject.toml), never in the product's wheel
        from sandbox import stack
    except ModuleNotFoundError as error:
        if (error.name or "").partition(".")[0] not in {"sandbox", "aiosmtpd"}:
            raise
        print(why + SANDBOX_MISSING, file=sys.stderr)
        return None
    return stack


async def _sandbox(args: argparse.Namespace) -> int:
    stack = _sandbox_stack()
    if stack is None:
        return 2
    try:
        bots = [stack.parse_bot(value) for value in args.bot]
    except ValueError as error:
        print(f"--bot: {error}", file=sys.stderr)
        return 2
    code: int = await stack.run_sandbox(host=args.host, port=args.port, data=args.data, bots=bots)
    return code
