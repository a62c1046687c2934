"""The consent page (PRODUCT §1.1.5): whose Telegram account is to be linked, Confirm or Cancel."""

from __future__ import annotations

import hmac

from aiohttp import web

from core.domain.addresses import mask_email
from core.domain.models import SocialProfile
from core.errors import CodeExpired
from core.notices import SignInFailed
from web.context import WebContext, context, gettext
from web.pages import e, el, expired, render, signed_in

BROWSER_COOKIE = "accountbot_signin"


def browser_digest(ctx: WebContext, value: str) -> str:
    return ctx.services.kit.keyed.digest("oauth-browser", value)


def same_browser(ctx: WebContext, request: web.Request, expected: str) -> bool:
    """The callback and consent come from the browser that started (RFC 6749 §10.12)."""
    cookie = request.cookies.get(BROWSER_COOKIE, "")
    return bool(cookie) and hmac.compare_digest(browser_digest(ctx, cookie), expected)


def consent_key(ctx: WebContext, consent_id: str) -> str:
    return "consent:" + ctx.services.kit.keyed.digest("consent", consent_id)


async def begin(ctx: WebContext, state: dict[str, str], profile: SocialProfile) -> str:
    """Keep the checked profile until the person confirms; returns the consent page's id."""
    kit = ctx.services.kit
    consent_id = kit.new_token()
    record = {
        "link": state["link"],
        "browser": state["browser"],
        "telegram_user_id": state["telegram_user_id"],
        "provider": profile.provider,
        "subject": profile.subject,
        "name": profile.name,
        "email": profile.email or "",
        "email_verified": "1" if profile.email_verified else "",
        "csrf": kit.new_token(),
    }
    await kit.tokens.put(consent_key(ctx, consent_id), record, kit.limits.oauth_state_ttl)
    return consent_id


def _profile(record: dict[str, str]) -> SocialProfile:
    return SocialProfile(
        record["provider"],
        record["subject"],
        record["name"],
        record["email"] or None,
        record["email_verified"] == "1",
    )


async def page(request: web.Request) -> web.Response:
    ctx = context(request)
    key = consent_key(ctx, request.match_info["id"])
    record = await ctx.services.kit.tokens.peek(key)
    link = await ctx.services.sign_in.open_link(record["link"]) if record else None
    if record is None or link is None or not same_browser(ctx, request, record["browser"]):
        ctx.metrics.failures.labels("consent_expired").inc()
        return expired(request)
    profile = _profile(record)
    needs_terms = await ctx.services.sign_in.needs_terms(profile)
    if request.method == "POST":
        form = await request.post()
        sent = str(form.get("csrf", ""))
        if not hmac.compare_digest(sent.encode(), record["csrf"].encode()):
            ctx.metrics.failures.labels("csrf").inc()
            return expired(request)
        if form.get("action") == "cancel":
            return await _cancel(request, key, int(record["telegram_user_id"]))
        accepted = form.get("terms") == "on"
        if not needs_terms or accepted:
            return await _confirm(request, key, record["link"], profile, accepted)
    return _render(
        request, record, link.telegram.display, needs_terms, error=request.method == "POST"
    )


async def _confirm(
    request: web.Request, key: str, link: str, profile: SocialProfile, accepted: bool
) -> web.Response:
    ctx = context(request)
    if await ctx.services.kit.tokens.pop(key) is None:
        return expired(request)
    try:
        await ctx.services.sign_in.complete(link, profile, terms_accepted=accepted)
    except CodeExpired:
        ctx.metrics.failures.labels("link_expired").inc()
        return expired(request)
    ctx.metrics.sign_ins.labels(profile.provider).inc()
    return signed_in(request)


async def _cancel(request: web.Request, key: str, telegram_user_id: int) -> web.Response:
    ctx = context(request)
    await ctx.services.kit.tokens.pop(key)
    ctx.metrics.failures.labels("declined").inc()
    await ctx.services.notifier.notify(SignInFailed(telegram_user_id, "declined"))
    _ = gettext(request)
    text = _("Nothing was linked. You can close this page.")
    return render(request, _("Cancelled"), f"<p>{e(text)}</p>")


def _render(
    request: web.Request, record: dict[str, str], who: str, needs_terms: bool, *, error: bool
) -> web.Response:
    ctx = context(request)
    _ = gettext(request)
    provider = ctx.providers.get(record["provider"])
    title = provider.title if provider else record["provider"]
    email = mask_email(record["email"]) if record["email"] else ""
    question = _("Link {provider} account {email} to Telegram user {user}?").format(
        provider=title, email=email, user=who
    )
    terms = ""
    if needs_terms:
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
        + f'<form method="post"><input type="hidden" name="csrf" value="{e(record["csrf"])}">'
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
