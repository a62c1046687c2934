"""The secure password page (PRODUCT §1.6): one-time, CSRF-protected, Web App initData checked.

Telegram passes a Web App its signed initData in the URL fragment (`tgWebAppData`), which only
the page's script sees; it posts it with the form and the server checks the signature.
"""

from __future__ import annotations

from aiogram.utils.web_app import safe_parse_webapp_init_data
from aiohttp import web

from core.errors import CodeExpired, WeakPassword
from core.flows.password import SecurePage
from web.context import WebContext, context, speak
from web.pages import expired, render


async def page(request: web.Request) -> web.Response:
    ctx = context(request)
    token = request.match_info["token"]
    secure_page = await ctx.services.password.open_page(token)
    if secure_page is None:
        return expired(request)
    speak(request, secure_page.locale)
    if request.method != "POST":
        return await _form(request, token)
    form = await request.post()
    if not await ctx.services.forms.check("password:" + token, str(form.get("csrf", ""))):
        return _refused(request, "csrf")
    if not _init_data_ok(ctx, str(form.get("init_data", "")), secure_page):
        return _refused(request, "init_data")
    password, repeat = str(form.get("password", "")), str(form.get("repeat", ""))
    if password != repeat:
        return await _form(request, token, "differ")
    try:
        await ctx.services.password.submit_page(token, password)
    except CodeExpired:
        return expired(request)
    except WeakPassword as weak:
        return await _form(request, token, weak.reason, weak.limit)
    return render(request, "password_saved.html", frameable=True)


def _init_data_ok(ctx: WebContext, init_data: str, page: SecurePage) -> bool:
    """No initData: a plain browser tab. Sent: it must be Telegram's and the page's own user."""
    if not init_data:
        return True
    bot_token = ctx.services.settings.bot_token.get_secret_value()
    try:
        data = safe_parse_webapp_init_data(bot_token, init_data)
    except ValueError:
        return False
    user_id = data.user.id if data.user else None
    return ctx.services.password.web_app_ok(page, user_id, data.auth_date)


def _refused(request: web.Request, reason: str) -> web.Response:
    context(request).metrics.failures.labels(reason).inc()
    return render(request, "refused.html", status=403)


async def _form(
    request: web.Request, token: str, error: str = "", limit: int | None = None
) -> web.Response:
    """The form; `error` is "differ" or a WeakPassword reason (with its `limit`)."""
    ctx = context(request)
    value = await ctx.services.forms.issue("password:" + token)
    return render(
        request,
        "password.html",
        status=400 if error else 200,
        frameable=True,
        error=error,
        limit=limit,
        csrf=value,
        policy=ctx.services.password.policy,
    )
