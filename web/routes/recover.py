""" "Forgot password?" from the sign-in page (PRODUCT §1.7): a code to the bound email or phone,
then a new password, through the chat's recovery flow and its limits.

Every answer is the same whether or not the login exists: the code page follows any login, and a
wrong code reads as an expired one, so the pages tell nobody who has an account.
"""

from __future__ import annotations

from datetime import timedelta

from aiohttp import web

from core.errors import CodeExpired, CodeInvalid, LimitReached, ResendTooSoon, WeakPassword
from web.context import context, locale_of
from web.pages import render

ASK, CODE = "recover", "recover-code"


async def ask(request: web.Request) -> web.Response:
    """GET asks for the login; POST sends the code (when the login is bound) and shows the
    page for the code and the new password."""
    ctx = context(request)
    if request.method != "POST":
        return await _ask_page(request)
    data = await request.post()
    if not await ctx.services.forms.check(ASK, str(data.get("csrf", ""))):
        return await _ask_page(request, "expired", status=403)
    login = str(data.get("login", "")).strip()
    if not login:
        return await _ask_page(request)
    wait = timedelta(0)
    try:
        await ctx.services.recovery.start(login, locale_of(request))
    except ResendTooSoon as error:  # the same pace for a login that exists and one that does not
        wait = error.retry_in
    except LimitReached:
        pass  # the caps concern a real phone only: saying so would tell that it exists
    return await _code_page(request, login, wait=wait)


async def code(request: web.Request) -> web.Response:
    """POST the code and the new password (twice). A right code is spent at once: the form then
    carries the one-time token instead, until the two passwords match and pass the policy
    (PRODUCT §1.6), so the code is never typed twice."""
    ctx = context(request)
    data = await request.post()
    login = str(data.get("login", ""))
    token = str(data.get("token", ""))
    if not await ctx.services.forms.check(CODE, str(data.get("csrf", ""))):
        return await _ask_page(request, "expired", status=403)
    recovery = ctx.services.recovery
    if not token:
        try:
            token = await recovery.confirm(login, str(data.get("code", "")), locale_of(request))
        except (CodeInvalid, CodeExpired):
            ctx.metrics.failures.labels("wrong_code").inc()
            return await _code_page(request, login, error="code")
    password, repeat = str(data.get("password", "")), str(data.get("repeat", ""))
    if password != repeat:
        return await _code_page(request, login, token=token, error="differ")
    try:
        await recovery.reset(token, password)
    except WeakPassword as weak:
        return await _code_page(request, login, token=token, error=weak.reason, limit=weak.limit)
    except CodeExpired:  # the token was used or outlived the secure-page lifetime
        return await _code_page(request, login, error="code")
    return render(request, "recover_done.html")


async def _ask_page(request: web.Request, error: str = "", *, status: int = 200) -> web.Response:
    token = await context(request).services.forms.issue(ASK)
    return render(request, "recover.html", status=status, error=error, csrf=token)


async def _code_page(
    request: web.Request,
    login: str,
    *,
    token: str = "",
    error: str = "",
    limit: int = 0,
    wait: timedelta = timedelta(0),
) -> web.Response:
    """The code (unless `token` shows it was right) and the new password; `error` is "code",
    "differ" or a WeakPassword reason (with its `limit`)."""
    ctx = context(request)
    seconds = max(0, round(wait.total_seconds()))
    return render(
        request,
        "recover_code.html",
        status=400 if error else 200,
        login=login,
        token=token,
        error=error,
        limit=limit,
        wait_seconds=seconds if seconds < 120 else 0,
        wait_minutes=round(seconds / 60) if seconds >= 120 else 0,
        csrf=await ctx.services.forms.issue(CODE),
        policy=ctx.services.password.policy,
    )
