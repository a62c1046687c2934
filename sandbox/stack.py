"""The sandbox's assembly: the whole product and its stand-ins in one process, on one port.

The one module of the sandbox that sees every layer (the import contracts let it, and only it):
it builds the product's services, bot and web routes the way `accountbot.runner` does in
production, and puts Telegram's Bot API, the mailbox, the SMS outbox and the desk beside them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import signal
import socket
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from aiogram import Bot, Dispatcher
from aiohttp import web
from pydantic_settings import DotEnvSettingsSource, EnvSettingsSource

from accountbot.runner import start_housekeeping, stop_task
from bot.app import build_bot, build_dispatcher, set_commands
from bot.polling import poller
from core.adapters.db.migrate import upgrade
from core.bootstrap import Services, build_services
from core.notices import Notice, SignedIn
from core.ports import Clock, Notifier
from core.settings import Settings
from sandbox.botapi import SandboxState, register_botapi
from sandbox.botapi.flood import FloodLimits
from sandbox.botapi.storage import restore
from sandbox.demo_rp import mount as mount_demo_workspace
from sandbox.desk import register_desk, support_group
from sandbox.idp import client as dev_idp
from sandbox.idp.routes import mount as mount_idp
from sandbox.mailbox import Mailbox, register_mailbox
from sandbox.outbox import SmsOutbox, register_outbox
from sandbox.pages import register_pages
from sandbox.settling import report_handling
from web.app import register_web
from web.context import WebContext
from web.providers import Provider, build_registry
from web.providers.cache import CachePolicy
from web.providers.openid import OpenIDProvider
from web.security import MaskedAccessLogger

SANDBOX_TOKEN = "100200300:sandbox-token-not-a-secret"  # noqa: S105 - a local stand-in
SANDBOX_BOT = "account_assistant_bot"


@dataclass
class SandboxStack:
    """Everything `make sandbox` runs, in one process and on one port."""

    url: str
    services: Services
    state: SandboxState
    mailbox: Mailbox
    outbox: SmsOutbox
    bot: Bot
    dispatcher: Dispatcher
    runner: web.AppRunner
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)
    demo: bool = False
    housekeeping: asyncio.Task[None] | None = None
    catcher_port: int = 0  # the mailbox's SMTP port

    async def stop(self) -> None:
        await stop_task(self.housekeeping)
        await self._stop_bot()
        await self.runner.cleanup()
        await self.mailbox.stop()
        await self.services.close()

    async def restart_bot(self) -> None:
        """Stop the bot and start a new one, as a deploy would; the web side keeps running."""
        await self._stop_bot()
        self.bot, self.dispatcher = await _start_bot(
            self.services, self.tasks, demo=self.demo, state=self.state
        )

    async def _stop_bot(self) -> None:
        with contextlib.suppress(RuntimeError):  # not polling
            await self.dispatcher.stop_polling()
        for task in self.tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self.tasks.clear()
        await self.bot.session.close()


# The SMTP catcher's settings: dropped together when the environment names a mail server.
CATCHER = ("smtp_host", "smtp_port", "smtp_tls")


def environment_settings(env_file: Path | str | None = ".env") -> dict[str, Any]:
    """The settings the environment and the .env file give (empty values mean "the default")."""
    found: dict[str, Any] = {}
    if env_file is not None:
        found.update(DotEnvSettingsSource(Settings, env_file=env_file)())
    found.update(EnvSettingsSource(Settings)())
    return found


def sandbox_settings(
    url: str,
    data: Path,
    catcher_port: int,
    /,
    *,
    env_file: Path | str | None = ".env",
    **overrides: Any,
) -> Settings:
    """The sandbox's settings: its own parts as defaults, the environment and `env_file` over
    them, keyword arguments over both (docs/SANDBOX.md, "Settings"); `env_file=None` reads no
    file (tests). The secret key, unless given, is kept in the data folder."""
    given = {**environment_settings(env_file), **overrides}
    defaults: dict[str, Any] = {
        "database_url": f"sqlite+aiosqlite:///{(data / 'accounts.sqlite3').resolve()}",
        "redis_url": None,
        "smtp_host": "127.0.0.1",
        "smtp_port": catcher_port,
        "smtp_tls": "none",
        "smtp_from": "Account assistant <no-reply@sandbox.local>",
        "resend_cooldown": 30,
    }
    if "smtp_host" in given:  # a real mail server: none of the catcher's settings apply
        for key in CATCHER:
            defaults.pop(key)
    if "secret_key" not in given:
        key_file = data / "secret_key"
        if not key_file.exists():
            key_file.write_text(secrets.token_urlsafe(48))
        defaults["secret_key"] = key_file.read_text().strip()
    # What the sandbox *is*: its Telegram, its address, its SMS outbox and dev IdP. Only keyword
    # arguments change these, never the environment (a real BOT_TOKEN in .env must not point the
    # sandbox's bot at Telegram).
    fixed: dict[str, Any] = {
        "bot_token": SANDBOX_TOKEN,
        "telegram_api_url": url,
        "public_url": url,
        "sms_backend": "outbox",
        "dev_idp_enabled": True,
        "data_dir": data,
    }
    values = {key: value for key, value in defaults.items() if key not in given}
    return Settings(_env_file=env_file, **{**values, **fixed, **overrides})


def uses_catcher(settings: Settings, catcher_port: int) -> bool:
    """Whether the bot's letters go to the sandbox's own SMTP catcher."""
    return settings.smtp_host == "127.0.0.1" and settings.smtp_port == catcher_port


def describe_services(settings: Settings, catcher_port: int) -> list[str]:
    """What the sandbox runs on, one line each, passwords masked (printed at start)."""
    if uses_catcher(settings, catcher_port):
        mail = f"the sandbox's SMTP catcher on 127.0.0.1:{catcher_port} (read it at /mailbox)"
    else:
        mail = f"the SMTP server {settings.smtp_host}:{settings.smtp_port} (not the /mailbox)"
    redis = _masked(settings.redis_url) if settings.redis_url else "none (kept in memory)"
    return [
        f"Database: {_masked(settings.database_url)}",
        f"Redis:    {redis}",
        f"Mail:     {mail}",
        f"Resend cooldown: {settings.resend_cooldown} s",
    ]


def _masked(url: str) -> str:
    """A URL with its password left out."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def parse_bot(value: str) -> tuple[str, str]:
    """`TOKEN[=USERNAME]` of `accountbot sandbox --bot`: the token and the bot's username."""
    token, _, username = value.partition("=")
    bot_id, _, secret = token.partition(":")
    if not bot_id.isdigit() or not secret:
        raise ValueError("a bot token looks like <id>:<secret>")
    return token, username or f"bot{bot_id}_bot"


async def start_sandbox(
    host: str = "127.0.0.1",
    port: int = 8080,
    data: Path | str = "var/sandbox",
    *,
    flood_limits: bool = True,
    flood: Mapping[str, Any] | None = None,
    state: SandboxState | None = None,
    demo: bool = False,
    clock: Clock | None = None,
    bots: Sequence[tuple[str, str]] = (),
    env_file: Path | str | None = ".env",
    **overrides: Any,
) -> SandboxStack:
    """Start the sandbox; port 0 picks a free one (tests); `state` keeps Telegram's side;
    `bots` are more bots (token, username) to register beside the product's; `env_file` is
    read for settings as `accountbot run` reads .env (None: none, as tests want); `flood`
    overrides the flood limits (`FloodLimits` fields; else `SANDBOX_FLOOD_*`, else Telegram's).

    `clock` (tests) is the one clock of Telegram's side and of the services, so a test moves
    time for codes, links and cooldowns instead of sleeping.
    """
    folder = Path(data)
    folder.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 - once, at start-up
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    url = f"http://{host}:{sock.getsockname()[1]}"

    mailbox = Mailbox(folder / "mail")
    smtp_port = await mailbox.start(host)
    if state is None:
        limits = FloodLimits(_env_file=env_file, **(flood or {}))
        state = SandboxState(clock, flood_limits=flood_limits, flood=limits)
        state.add_bot(SANDBOX_TOKEN, username=SANDBOX_BOT, first_name="Account assistant")
        for token, username in bots:
            state.add_bot(token, username=username, first_name=username)
        # People and chats survive a restart, so an account's Telegram id is never handed out
        # again to a new person.
        restore(state, folder / "telegram.json")
    state.closing = False
    if clock is not None:  # one clock for Telegram's side and ours (tests move it)
        state.clock = clock
    # The forum support group exists before the settings name it (PRODUCT §1.8).
    overrides.setdefault("support_chat_id", support_group(state))
    settings = sandbox_settings(url, folder, smtp_port, env_file=env_file, **overrides)
    await upgrade(settings.database_url)
    outbox = SmsOutbox(state.clock)  # the one clock of Telegram's side and of the services
    services = build_services(settings, clock=clock, sms=outbox)
    if demo:
        await demo_workspaces(services)

    app = web.Application()
    register_botapi(app, state)
    register_desk(app, state)
    register_pages(app)
    register_mailbox(app, mailbox)
    register_outbox(app, outbox)
    register_site(app, services, bot_username=SANDBOX_BOT)
    # The demo workspace signing in through the provider (issue #16, 6), made a client once.
    demo_workspace = mount_demo_workspace(app, services, url)
    if demo:
        await demo_workspace.register()
    app.router.add_get("/", _to_index)

    # Long polls end with their client: handler_cancellation frees them at shutdown at once.
    runner = web.AppRunner(
        app, access_log_class=MaskedAccessLogger, handler_cancellation=True, shutdown_timeout=2.0
    )
    await runner.setup()
    await web.SockSite(runner, sock).start()

    tasks: list[asyncio.Task[Any]] = []
    bot, dp = await _start_bot(services, tasks, demo=demo, state=state)
    stack = SandboxStack(url, services, state, mailbox, outbox, bot, dp, runner, tasks, demo)
    stack.catcher_port = smtp_port
    stack.housekeeping = start_housekeeping(services)
    return stack


def register_site(
    app: web.Application,
    services: Services,
    *,
    providers: Mapping[str, Provider] | None = None,
    **options: Any,
) -> WebContext:
    """`web.app.register_web` as the sandbox serves it (`options` are its): with the development
    identity provider (its /idp pages and the "dev" sign-in) when DEV_IDP_ENABLED, loopback
    only."""
    settings = services.settings
    if settings.dev_idp_enabled:
        mount_idp(app, settings)  # refuses unless PUBLIC_URL is on loopback
        if providers is None:
            providers = site_providers(settings)
    return register_web(app, services, providers=providers, **options)


def create_site(services: Services, **options: Any) -> web.Application:
    """`register_site` on a new app: `web.app.create_web_app` with the dev IdP."""
    app = web.Application()
    register_site(app, services, **options)
    return app


def site_providers(settings: Settings) -> dict[str, Provider]:
    """The product's configured providers, then Dev ID (last in the menu, as the bot lists it)."""
    providers = build_registry(settings)
    if settings.dev_idp_enabled:
        dev_idp.check_loopback(settings)
        providers["dev"] = OpenIDProvider(
            dev_idp.CLIENT_ID,
            dev_idp.client_secret(settings),
            trust_email=True,
            issuer=dev_idp.issuer(settings),
            name="dev",
            title="Dev ID",
            cache=CachePolicy.from_settings(settings),
        )
    return providers


async def _start_bot(
    services: Services,
    tasks: list[asyncio.Task[Any]],
    *,
    demo: bool = False,
    state: SandboxState | None = None,
) -> tuple[Bot, Dispatcher]:
    bot = build_bot(services.settings)
    dp, i18n = build_dispatcher(services, bot)
    if demo and services.notifier.target is not None:
        services.notifier.target = DemoMemberships(services, services.notifier.target)
    if state is not None and bot.id in state.bots:  # the sandbox's settle barrier hears of it
        tasks.append(report_handling(dp, services, state.bots[bot.id].handling))
    await set_commands(bot, i18n)
    tasks.append(asyncio.create_task(poller(dp, bot, services.settings).run()))
    return bot, dp


DEMO_WORKSPACES = (("portal", "Company portal"), ("shop", "Online shop"))


async def demo_workspaces(services: Services) -> None:
    """The sandbox's two demo workspaces (PRODUCT §1.3 step 4), made once."""
    async with services.kit.unit() as uow:
        for slug, title in DEMO_WORKSPACES:
            if await uow.workspaces.get(slug) is None:
                await uow.workspaces.create(slug, title)
        await uow.commit()


class DemoMemberships:
    """Sandbox only: a new account joins the demo workspaces, so the option has something to do."""

    def __init__(self, services: Services, target: Notifier) -> None:
        self.services, self.target = services, target

    async def notify(self, notice: Notice) -> None:
        if isinstance(notice, SignedIn) and notice.created:
            async with self.services.kit.unit() as uow:
                emails = [i.email for i in await uow.identities.for_account(notice.account_id)]
                for slug, _ in DEMO_WORKSPACES:
                    found = await uow.workspaces.get(slug)
                    if found is not None:
                        email = next((e for e in emails if e), None)
                        await uow.workspaces.add_member(found.id, notice.account_id, email, None)
                await uow.commit()
        await self.target.notify(notice)


async def _to_index(request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound("/sandbox")


async def run_sandbox(host: str, port: int, data: str, bots: Sequence[tuple[str, str]] = ()) -> int:
    """`accountbot sandbox`: run until SIGTERM or SIGINT (also in the background, where a shell
    makes SIGINT ignored), then stop cleanly."""
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)  # the bot's polls, every second
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)
    stack = await start_sandbox(host, port, data, demo=True, bots=bots)
    lines = describe_services(stack.services.settings, stack.catcher_port)
    lines.append(stack.state.flood.limits.describe())
    for token, username in bots:
        lines.append(f"Bot:      @{username} (token {token.partition(':')[0]}:…)")
    print("\n".join(["", *lines]), flush=True)
    print(f"\nThe sandbox is running. Open {stack.url}/ in your browser.\n", flush=True)
    try:
        await stopping.wait()
    finally:
        await stack.stop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
    print("The sandbox has stopped.", flush=True)
    return 0


__all__ = [
    "SANDBOX_BOT",
    "SANDBOX_TOKEN",
    "SandboxStack",
    "create_site",
    "describe_services",
    "parse_bot",
    "register_site",
    "run_sandbox",
    "sandbox_settings",
    "site_providers",
    "start_sandbox",
]
