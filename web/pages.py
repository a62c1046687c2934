"""Short, plain HTML pages: inline CSS and scripts under a per-response CSP nonce, no assets."""

from __future__ import annotations

import logging
import secrets
from html import escape

from aiohttp import web
from aiohttp.typedefs import Handler

from core.errors import Unavailable
from web.context import context, gettext, locale_of
from web.security import FRAMEABLE

STYLE = """
body{font:16px/1.5 system-ui,sans-serif;margin:0;padding:1rem;background:#f5f6f8;color:#1d2330}
main{max-width:28rem;margin:2rem auto;background:#fff;border-radius:12px;padding:1.5rem;
box-shadow:0 1px 4px #0002}
h1{font-size:1.3rem;margin:0 0 1rem}
label{display:block;margin:.75rem 0 .25rem}
input[type=text],input[type=email],input[type=password]{width:100%;box-sizing:border-box;
padding:.6rem;font-size:1rem;border:1px solid #bbb;border-radius:8px}
button,.button{display:inline-block;margin:1rem .5rem 0 0;padding:.6rem 1.2rem;font-size:1rem;
border:0;border-radius:8px;background:#2a6df4;color:#fff;text-decoration:none;cursor:pointer}
button.secondary{background:#e4e7ee;color:#1d2330}
.error{color:#b00020}.muted{color:#667}.ok{color:#177245}
code{word-break:break-all;background:#eef;padding:.2rem;border-radius:4px}
ul.rules{padding-left:1.2rem}
"""

# Telegram shows Web Apps in an iframe on its web clients; nothing else may frame us.
TELEGRAM_FRAMES = "https://web.telegram.org https://*.telegram.org"


def e(value: object) -> str:
    return escape(str(value), quote=True)


def el(tag: str, text: str = "", /, *, html: str = "", **attrs: str | int | bool) -> str:
    """An element: `text` escaped, `html` as is; `class_` is class, `data_min` is data-min."""
    rendered = ""
    for name, value in attrs.items():
        key = name.rstrip("_").replace("_", "-")
        if value is True:
            rendered += f" {key}"
        elif value is not False:
            rendered += f' {key}="{e(value)}"'
    return f"<{tag}{rendered}>{e(text)}{html}</{tag}>"


def render(
    request: web.Request,
    title: str,
    body: str,
    *,
    status: int = 200,
    script: str = "",
    frameable: bool = False,
) -> web.Response:
    """A whole page in the request's language; `body` is already escaped HTML."""
    nonce = secrets.token_urlsafe(16)
    script_tag = f'<script nonce="{nonce}">{script}</script>' if script else ""
    html = (
        f'<!doctype html><html lang="{locale_of(request)}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f'<title>{e(title)}</title><style nonce="{nonce}">{STYLE}</style></head>'
        f"<body><main><h1>{e(title)}</h1>{body}</main>{script_tag}</body></html>"
    )
    response = web.Response(text=html, status=status, content_type="text/html")
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


def back_to_telegram(request: web.Request) -> str:
    """Links back to the bot's chat, or a plain line when its username is not known."""
    _ = gettext(request)
    username = context(request).bot_username()
    if not username:
        return el("p", _("Return to the chat with the bot."), class_="muted")
    app_link = el("a", _("Open Telegram"), class_="button", href=f"tg://resolve?domain={username}")
    web_link = el("a", f"t.me/{username}", href=f"https://t.me/{username}")
    return el("p", html=app_link) + el("p", html=web_link, class_="muted")


def expired(request: web.Request) -> web.Response:
    _ = gettext(request)
    text = _(
        "This link was already used or has expired. "
        "Go back to Telegram and ask the bot for a fresh link."
    )
    return render(
        request, _("Link expired"), f"<p>{e(text)}</p>{back_to_telegram(request)}", status=410
    )


def signed_in(request: web.Request) -> web.Response:
    _ = gettext(request)
    text = _("You are signed in, go back to Telegram.")
    return render(
        request, _("Signed in"), f'<p class="ok">{e(text)}</p>{back_to_telegram(request)}'
    )


def provider_error(request: web.Request, *, declined: bool = False) -> web.Response:
    _ = gettext(request)
    if declined:
        text = _("Sign-in was cancelled at the provider. Nothing was linked.")
    else:
        text = _("The sign-in provider answered with an error, so nothing was linked. Try again.")
    body = f"<p>{e(text)}</p>{back_to_telegram(request)}"
    return render(request, _("Sign-in failed"), body, status=400)


log = logging.getLogger(__name__)


@web.middleware
async def unavailable(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The database or the store down: a short page, never a traceback (PRODUCT §3)."""
    try:
        return await handler(request)
    except web.HTTPException:
        raise
    except Exception as error:
        if not isinstance(error, Unavailable):
            # The route pattern only: the path may carry a one-time token.
            log.exception("unhandled error in %s", request.match_info.route.resource)
        context(request).metrics.failures.labels("unavailable").inc()
        _ = gettext(request)
        if request.path == "/auth/login":
            return web.json_response({"error": "Temporarily unavailable."}, status=503)
        text = _("Temporarily unavailable, try again in a minute.")
        return render(request, _("Temporarily unavailable"), el("p", text), status=503)
