"""The consent page (PRODUCT §1.1.5): whose Telegram account is to be linked, Confirm or Cancel."""

from __future__ import annotations

from aiohttp import web

from core.domain.addresses import mask_email
from core.errors import CodeExpired
from core.flows.sign_in import Consent
from web.context import context, gettext
from web.pages import e, el, expired, render, signed_in

BROWSER_COOKIE = "accountbot_signin"


async def page(request: web.Request) -> web.Response:
    ctx = context(request)
    sign_in = ctx.services.sign_in
    consent = await sign_in.open_consent(
        request.match_info["id"], request.cookies.get(BROWSER_COOKIE)
    )
    if consent is None:
        ctx.metrics.failures.labels("consent_expired").inc()
        return expired(request)
    if request.method == "POST":
        form = await request.post()
        if not consent.form_ok(str(form.get("csrf", ""))):
            ctx.metrics.failures.labels("csrf").inc()
            return expired(request)
        if form.get("action") == "cancel":
            await sign_in.cancel(consent)
            ctx.metrics.failures.labels("declined").inc()
            return _cancelled(request)
        accepted = form.get("terms") == "on"
        if not consent.needs_terms or accepted:
            return await _confirm(request, consent, accepted)
    return _render(request, consent, error=request.method == "POST")


async def _confirm(request: web.Request, consent: Consent, accepted: bool) -> web.Response:
    ctx = context(request)
    try:
        await ctx.services.sign_in.confirm(consent, terms_accepted=accepted)
    except CodeExpired:
        ctx.metrics.failures.labels("link_expired").inc()
        return expired(request)
    ctx.metrics.sign_ins.labels(consent.profile.provider).inc()
    return signed_in(request)


def _cancelled(request: web.Request) -> web.Response:
    _ = gettext(request)
    text = _("Nothing was linked. You can close this page.")
    return render(request, _("Cancelled"), f"<p>{e(text)}</p>")


def _render(request: web.Request, consent: Consent, *, error: bool) -> web.Response:
    ctx = context(request)
    _ = gettext(request)
    profile = consent.profile
    provider = ctx.providers.get(profile.provider)
    title = provider.title if provider else profile.provider
    email = mask_email(profile.email) if profile.email else ""
    question = _("Link {provider} account {email} to Telegram user {user}?").format(
        provider=title, email=email, user=consent.link.telegram.display
    )
    terms = ""
    if consent.needs_terms:
        url = ctx.services.settings.terms_url or ""
        notice = el("p", _("Please accept the user agreement first."), class_="error")
        terms = (
            (notice if error else "")
            + '<label><input type="checkbox" name="terms" required> '
            + el("a", _("I accept the user agreement"), href=url, target="_blank", rel="noopener")
            + "</label>"
        )
    body = (
        f"<p>{e(' '.join(question.split()))}</p>"
        + el("p", _("Only confirm if you asked the bot for this link yourself."), class_="muted")
        + f'<form method="post"><input type="hidden" name="csrf" value="{e(consent.csrf)}">'
        + terms
        + el("button", _("Confirm"), type="submit", name="action", value="confirm")
        + el(
            "button",
            _("Cancel"),
            type="submit",
            name="action",
            value="cancel",
            class_="secondary",
            formnovalidate=True,
        )
        + "</form>"
    )
    return render(request, _("Confirm sign-in"), body)
