"""Short, plain HTML pages from web/templates: inline CSS and scripts under a per-response CSP
nonce, no assets; autoescaped, and translated by the request's language through the catalogs."""

from __future__ import annotations

import logging
import math
import secrets
from pathlib import Path
from typing import Any

import aiohttp_jinja2
import jinja2
from aiohttp import web
from aiohttp.typedefs import Handler

from core.errors import Busy, Unavailable
from core.i18n import translator
from web.context import context, locale_of
from web.security import FRAMEABLE

TEMPLATES_DIR = Path(__file__).parent / "templates"
# Our own key: an app shared with the sandbox keeps whatever templates it has as they are.
TEMPLATES = web.AppKey("accountbot_web_templates", jinja2.Environment)

# Telegram shows Web Apps in an iframe on its web clients; nothing else may frame us.
TELEGRAM_FRAMES = "https://web.telegram.org https://*.telegram.org"


@jinja2.pass_context
def _gettext(page: jinja2.runtime.Context, message: str) -> str:
    return str(page["translations"].gettext(message))


@jinja2.pass_context
def _ngettext(page: jinja2.runtime.Context, singular: str, plural: str, n: int) -> str:
    return str(page["translations"].ngettext(singular, plural, n))


def setup_templates(app: web.Application) -> jinja2.Environment:
    """The pages' environment on the app; `_()` in a template speaks the request's language."""
    environment = aiohttp_jinja2.setup(
        app,
        app_key=TEMPLATES,
        default_helpers=False,
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    environment.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=_gettext, ngettext=_ngettext, newstyle=False
    )
    return environment


def render(
    request: web.Request,
    template: str,
    /,
    *,
    status: int = 200,
    frameable: bool = False,
    **values: Any,
) -> web.Response:
    """A whole page from web/templates/`template` in the request's language."""
    nonce = secrets.token_urlsafe(16)
    locale = locale_of(request)
    page = {
        "locale": locale,
        "translations": translator(locale),
        "nonce": nonce,
        "bot_username": context(request).bot_username(),
        **values,
    }
    response = aiohttp_jinja2.render_template(
        template, request, page, status=status, app_key=TEMPLATES
    )
    ancestors = f"'self' {TELEGRAM_FRAMES}" if frameable else "'none'"
    response.headers["Content-Security-Policy"] = (
        f"default-src 'none'; style-src 'nonce-{nonce}'; script-src 'nonce-{nonce}'; "
        f"img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors {ancestors}"
    )
    if frameable:
        response[FRAMEABLE] = True
    return response


def redirect(location: str, *, status: int = 302) -> web.Response:
    """A redirect returned (not raised) so the security-headers middleware sees it."""
    return web.Response(status=status, headers={"Location": location})


def expired(request: web.Request) -> web.Response:
    return render(request, "expired.html", status=410)


def signed_in(request: web.Request) -> web.Response:
    return render(request, "signed_in.html")


def provider_error(request: web.Request, *, declined: bool = False) -> web.Response:
    return render(request, "provider_error.html", status=400, declined=declined)


log = logging.getLogger(__name__)


@web.middleware
async def unavailable(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The database or the store down: a short page, never a traceback (PRODUCT §3)."""
    try:
        return await handler(request)
    except web.HTTPException:
        raise
    except Busy as error:
        # Too many password checks at once: refused, not queued (issue #13); no traceback.
        context(request).metrics.failures.labels("busy").inc()
        retry = {"Retry-After": str(max(1, math.ceil(error.retry_in.total_seconds())))}
        if request.path == "/auth/login":
            body = {"error": "Too many requests at once; try again in a few seconds."}
            return web.json_response(body, status=503, headers=retry)
        response = render(request, "unavailable.html", status=503, busy=True)
        response.headers.update(retry)
        return response
    except Exception as error:
        if not isinstance(error, Unavailable):
            # The route pattern only: the path may carry a one-time token.
            log.exception("unhandled error in %s", request.match_info.route.resource)
        context(request).metrics.failures.labels("unavailable").inc()
        if request.path == "/auth/login":
            return web.json_response({"error": "Temporarily unavailable."}, status=503)
        return render(request, "unavailable.html", status=503)
