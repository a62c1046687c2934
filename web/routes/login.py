"""Sign-in with a bound email or phone and the password (PRODUCT §1.7), as JSON and as a form."""

from __future__ import annotations

import math

from aiohttp import web

from core.errors import AuthenticationFailed, Throttled
from web.context import WebContext, context, locale_of
from web.pages import render
from web.security import client_address

# One message whatever was wrong, so the answer never tells whether a login exists (PRODUCT §1.7).
GENERIC = "Wrong login or password."


async def _authenticate(request: web.Request, login: str, password: str) -> int:
    ctx = context(request)
    address = client_address(request, ctx.services.settings.trusted_proxies)
    try:
        return await ctx.services.auth.authenticate(login, password, address, locale_of(request))
    except AuthenticationFailed:
        ctx.metrics.failures.labels("wrong_password").inc()
        raise
    except Throttled:
        ctx.metrics.failures.labels("throttled").inc()
        raise


def _retry_after(error: Throttled) -> str:
    return str(max(1, math.ceil(error.retry_in.total_seconds())))


async def api(request: web.Request) -> web.Response:
    """POST /auth/login {"login", "password"} -> 200 {"account_id"} | 401 | 429."""
    # Only JSON: a cross-site form cannot send it without a CORS preflight (Fetch standard).
    if request.content_type != "application/json":
        return web.json_response({"error": "Send application/json."}, status=415)
    try:
        body = await request.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return web.json_response({"error": 'Send JSON: {"login", "password"}.'}, status=400)
    login, password = body.get("login"), body.get("password")
    if not isinstance(login, str) or not isinstance(password, str):
        return web.json_response({"error": GENERIC}, status=401)
    try:
        account_id = await _authenticate(request, login, password)
    except AuthenticationFailed:
        return web.json_response({"error": GENERIC}, status=401)
    except Throttled as error:
        return web.json_response(
            {"error": "Too many attempts; try again later."},
            status=429,
            headers={"Retry-After": _retry_after(error)},
        )
    return web.json_response({"account_id": account_id})


async def form(request: web.Request) -> web.Response:
    """GET /login shows the form; POST signs in on the same path as the JSON endpoint."""
    ctx = context(request)
    if request.method != "POST":
        return await _page(request, ctx)
    data = await request.post()
    if not await ctx.services.forms.check("login", str(data.get("csrf", ""))):
        return await _page(request, ctx, "expired", status=403)
    login = str(data.get("login", ""))
    try:
        await _authenticate(request, login, str(data.get("password", "")))
    except AuthenticationFailed:
        return await _page(request, ctx, "wrong", login=login, status=401)
    except Throttled as error:
        retry_after = _retry_after(error)
        response = await _page(
            request, ctx, "throttled", login=login, status=429, retry_after=retry_after
        )
        response.headers["Retry-After"] = retry_after
        return response
    return render(request, "login_ok.html", login=login)


async def _page(
    request: web.Request,
    ctx: WebContext,
    error: str = "",
    *,
    login: str = "",
    status: int = 200,
    retry_after: str = "",
) -> web.Response:
    """The form; `error` is "expired", "wrong" or "throttled" (after `retry_after` seconds)."""
    token = await ctx.services.forms.issue("login")
    return render(
        request,
        "login.html",
        status=status,
        error=error,
        login=login,
        csrf=token,
        retry_after=retry_after,
    )
