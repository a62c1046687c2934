"""The email confirmation link (PRODUCT §1.3 step 6): GET shows it, only POST confirms.

Mail scanners fetch links in letters; a GET that confirmed would be used up by them.
"""

from __future__ import annotations

from aiohttp import web

from core.errors import AddressTaken, CodeExpired
from web.context import context, speak
from web.pages import expired, render


async def confirm(request: web.Request) -> web.Response:
    ctx = context(request)
    token = request.match_info["token"]
    speak(request, await ctx.services.bind_email.link_locale(token))
    if request.method != "POST":
        masked = await ctx.services.bind_email.peek_link(token)
        if masked is None:
            return expired(request)
        return render(request, "email_confirm.html", email=masked)
    try:
        await ctx.services.bind_email.confirm_link(token)
    except CodeExpired:
        ctx.metrics.failures.labels("link_expired").inc()
        return expired(request)
    except AddressTaken:
        ctx.metrics.failures.labels("address_taken").inc()
        return render(request, "address_taken.html", status=409)
    ctx.metrics.bindings.labels("email").inc()
    return render(request, "email_confirmed.html")
