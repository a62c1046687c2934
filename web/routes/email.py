"""The email confirmation link (PRODUCT §1.3 step 6): GET shows it, only POST confirms.

Mail scanners fetch links in letters; a GET that confirmed would be used up by them.
"""

from __future__ import annotations

from aiohttp import web

from core.errors import AddressTaken, CodeExpired
from web.context import context, gettext
from web.pages import back_to_telegram, e, el, expired, render


async def confirm(request: web.Request) -> web.Response:
    ctx = context(request)
    _ = gettext(request)
    token = request.match_info["token"]
    if request.method != "POST":
        masked = await ctx.services.bind_email.peek_link(token)
        if masked is None:
            return expired(request)
        question = _("Confirm {email} as the email of your account?").format(email=masked)
        body = (
            f"<p>{e(question)}</p><form method=post>"
            + el("button", _("Confirm"), type="submit")
            + "</form>"
        )
        return render(request, _("Confirm email"), body)
    try:
        await ctx.services.bind_email.confirm_link(token)
    except CodeExpired:
        ctx.metrics.failures.labels("link_expired").inc()
        return expired(request)
    except AddressTaken:
        ctx.metrics.failures.labels("address_taken").inc()
        text = _("This address is already used by another account. Go back to Telegram.")
        body = f"<p>{e(text)}</p>{back_to_telegram(request)}"
        return render(request, _("Address taken"), body, status=409)
    ctx.metrics.bindings.labels("email").inc()
    text = _("Email confirmed. You can now sign in with it and your password.")
    body = f'<p class="ok">{e(text)}</p>{back_to_telegram(request)}'
    return render(request, _("Email confirmed"), body)
