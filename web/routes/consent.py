"""The consent page (PRODUCT §1.1.5): whose Telegram account is to be linked, Confirm or Cancel."""

from __future__ import annotations

from aiohttp import web

from core.domain.addresses import mask_email
from core.errors import CodeExpired
from core.flows.sign_in import Consent
from web.context import context, speak
from web.pages import expired, render, signed_in

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
    speak(request, consent.link.locale)
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
    return render(request, "cancelled.html")


def _render(request: web.Request, consent: Consent, *, error: bool) -> web.Response:
    ctx = context(request)
    profile = consent.profile
    provider = ctx.providers.get(profile.provider)
    return render(
        request,
        "consent.html",
        provider=provider.title if provider else profile.provider,
        email=mask_email(profile.email) if profile.email else "",
        user=consent.link.telegram.display,
        csrf=consent.csrf,
        needs_terms=consent.needs_terms,
        terms_url=ctx.services.settings.terms_url or "",
        error=error,
        joins_existing=consent.joins_existing,
        reauth=consent.link.reauth is not None,  # PRODUCT §1.12: to delete the account
    )
