"""The aiohttp application: every route of the web server, and one way to serve it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from aiohttp import web

from core.bootstrap import Services
from web.context import CONTEXT, WebContext
from web.health import register_health
from web.metrics import Metrics
from web.oidc import routes as oidc
from web.pages import setup_templates, unavailable
from web.providers import Provider, build_registry
from web.request_id import request_id
from web.routes import consent, email, login, ops, password, recover, signin
from web.security import MaskedAccessLogger, security_headers

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
BotUsername = str | Callable[[], str | None] | None


def register_web(
    app: web.Application,
    services: Services,
    *,
    webhook_handler: Handler | None = None,
    bot_username: BotUsername = None,
    providers: Mapping[str, Provider] | None = None,
) -> WebContext:
    """Add the web server's routes and middlewares to an existing (not yet started) app."""
    settings = services.settings
    if settings.dev_idp_enabled and providers is None:
        # The development identity provider is the sandbox's: `sandbox.stack` serves it.
        raise ValueError("DEV_IDP_ENABLED needs the sandbox: run `accountbot sandbox`")
    ctx = WebContext(
        services=services,
        providers=build_registry(settings) if providers is None else providers,
        metrics=Metrics(),
        bot_username=_username_source(bot_username),
    )
    app[CONTEXT] = ctx
    setup_templates(app)
    app.middlewares.append(request_id)  # every log line of a request carries its id
    app.middlewares.append(ctx.metrics.middleware())
    app.middlewares.append(security_headers)
    app.middlewares.append(unavailable)
    app.on_cleanup.append(lambda _app: ctx.close())

    router = app.router
    router.add_get("/auth/start/{token}", signin.start)
    router.add_get("/auth/callback/{provider}", signin.callback)
    router.add_route("GET", "/auth/consent/{id}", consent.page)
    router.add_route("POST", "/auth/consent/{id}", consent.page)
    router.add_route("GET", "/email/confirm/{token}", email.confirm)
    router.add_route("POST", "/email/confirm/{token}", email.confirm)
    router.add_route("GET", "/password/{token}", password.page)
    router.add_route("POST", "/password/{token}", password.page)
    router.add_post("/auth/login", login.api)
    router.add_route("GET", "/login", login.form)
    router.add_route("POST", "/login", login.form)
    router.add_route("GET", "/login/recover", recover.ask)
    router.add_route("POST", "/login/recover", recover.ask)
    router.add_post("/login/recover/code", recover.code)
    router.add_get("/healthz", ops.healthz)
    oidc.register(app)  # the OpenID Provider for the workspaces (PRODUCT §1.11)
    readiness = register_health(app, services)  # /livez, /readyz, /metrics if allowed here
    if webhook_handler is not None:  # bot.polling.webhook_handler: it checks the secret token
        # Refused with 503 once the instance is stopping (web.health.Drain).
        router.add_post("/telegram/webhook", readiness.drain.guard(ops.webhook(webhook_handler)))
    return ctx


def create_web_app(
    services: Services,
    *,
    webhook_handler: Handler | None = None,
    bot_username: BotUsername = None,
    providers: Mapping[str, Provider] | None = None,
) -> web.Application:
    """The web server alone; `bot_username` is a name or a callable (known once the bot is up)."""
    app = web.Application()
    register_web(
        app,
        services,
        webhook_handler=webhook_handler,
        bot_username=bot_username,
        providers=providers,
    )
    return app


async def start_web(
    app: web.Application, host: str, port: int, *, shutdown_timeout: float = 60.0
) -> web.AppRunner:
    """Serve the app with the access log that never shows a token; stop with `runner.cleanup()`,
    which lets requests still running finish for `shutdown_timeout` seconds."""
    runner = web.AppRunner(
        app, access_log_class=MaskedAccessLogger, shutdown_timeout=shutdown_timeout
    )
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner


def _username_source(value: BotUsername) -> Callable[[], str | None]:
    if callable(value):
        return value
    return lambda: value
