"""Social sign-in (PRODUCT §1.1): the start page, then the provider's callback (RFC 6749 §4.1)."""

from __future__ import annotations

import re

from aiohttp import web
from authlib.common.security import generate_token

from core.notices import SignInFailed
from web.context import WebContext, context, gettext
from web.pages import e, el, expired, provider_error, redirect, render
from web.providers import Pending, ProviderError
from web.routes import consent
from web.routes.consent import BROWSER_COOKIE, browser_digest, same_browser

# In-app browsers that Google refuses with 403 disallowed_useragent, and similar web views.
_EMBEDDED = re.compile(
    r"Telegram|; wv\)|FBAN|FBAV|FB_IAB|Instagram|Line/|MicroMessenger|VKClient|Snapchat"
    r"|musical_ly|BytedanceWebview|GSA/",
    re.IGNORECASE,
)


def embedded_browser(user_agent: str) -> bool:
    """True for a chat app's web view: Android `; wv)`, iOS WKWebView without Safari, in-app."""
    if _EMBEDDED.search(user_agent):
        return True
    ios = any(device in user_agent for device in ("iPhone", "iPad", "iPod"))
    return ios and "AppleWebKit" in user_agent and "Safari/" not in user_agent


def state_key(ctx: WebContext, state: str) -> str:
    return "oauth:" + ctx.services.kit.keyed.digest("oauth", state)


async def start(request: web.Request) -> web.StreamResponse:
    ctx = context(request)
    token = request.match_info["token"]
    link = await ctx.services.sign_in.open_link(token)
    provider = ctx.providers.get(link.provider) if link else None
    if link is None or provider is None:
        ctx.metrics.failures.labels("link_expired").inc()
        await ctx.services.sign_in.report_stale(token)  # the chat offers a fresh link
        return expired(request)
    if embedded_browser(request.headers.get("User-Agent", "")):
        return _open_in_browser(request)
    # RFC 6749 §10.10: ≥ 128 bits; generate_token(43) over 62 symbols gives about 256.
    state, verifier, nonce = generate_token(43), generate_token(64), generate_token(32)
    browser = request.cookies.get(BROWSER_COOKIE) or generate_token(32)
    pending = Pending(
        state, verifier, nonce, ctx.services.kit.url(f"/auth/callback/{provider.name}")
    )
    try:
        location = await provider.authorization_url(ctx.client(), pending)
    except ProviderError as error:
        ctx.metrics.failures.labels(error.reason).inc()
        return provider_error(request)
    record = {
        "link": token,
        "provider": provider.name,
        "telegram_user_id": str(link.telegram.id),
        "verifier": verifier,
        "nonce": nonce,
        "browser": browser_digest(ctx, browser),
    }
    await ctx.services.kit.tokens.put(
        state_key(ctx, state), record, ctx.services.kit.limits.oauth_state_ttl
    )
    response = redirect(location)
    response.set_cookie(
        BROWSER_COOKIE,
        browser,
        path="/auth",
        httponly=True,
        samesite="Lax",  # sent on the provider's top-level redirect back, not on cross-site posts
        secure=ctx.services.settings.public_is_https,
        max_age=int(ctx.services.kit.limits.oauth_state_ttl.total_seconds()),
    )
    return response


def _open_in_browser(request: web.Request) -> web.Response:
    _ = gettext(request)
    url = str(request.url)
    text = _(
        "This app's built-in browser cannot sign in. Open the link in your browser: "
        "tap ⋮ or ⋯ and choose “Open in browser”, or copy the link."
    )
    body = (
        f"<p>{e(text)}</p><p><code id=link>{e(url)}</code></p>"
        + el("button", _("Copy link"), id="copy", type="button")
        + el("p", _("Copied."), id="copied", class_="ok", hidden=True)
    )
    script = (
        "document.getElementById('copy').onclick=function(){"
        "navigator.clipboard.writeText(document.getElementById('link').textContent)"
        ".then(function(){document.getElementById('copied').hidden=false;});};"
    )
    return render(request, _("Open in your browser"), body, script=script)


async def callback(request: web.Request) -> web.StreamResponse:
    ctx = context(request)
    name = request.match_info["provider"]
    params = {key: request.query[key] for key in request.query}
    state = params.get("state", "")
    key = state_key(ctx, state)
    # Look before using it up: only the browser that started may spend the state (RFC 6749
    # §10.12), so whoever fetches this URL first (a link preview, a proxy, a stranger) cannot
    # spoil the person's own sign-in. Two requests from that browser: the pop picks one.
    refusal = _refusal(
        ctx, request, name, await ctx.services.kit.tokens.peek(key) if state else None
    )
    record = None if refusal else await ctx.services.kit.tokens.pop(key)
    if record is None:
        # Tampered, replayed, expired, another provider's (mix-up) or another browser's: the same
        # page for each, the reason in the metrics.
        ctx.metrics.failures.labels(refusal or "state").inc()
        return expired(request)
    telegram_user_id = int(record["telegram_user_id"])
    provider = ctx.providers.get(name)
    if "error" in params or provider is None:
        declined = params.get("error") == "access_denied"
        return await _failed(
            request, telegram_user_id, "declined" if declined else "provider_error"
        )
    pending = Pending(
        state, record["verifier"], record["nonce"], ctx.services.kit.url(f"/auth/callback/{name}")
    )
    try:
        profile = await provider.profile(ctx.client(), params, pending)
    except ProviderError as error:
        return await _failed(request, telegram_user_id, "provider_error", error.reason)
    consent_id = await consent.begin(ctx, record, profile)
    return redirect(f"/auth/consent/{consent_id}", status=303)


def _refusal(
    ctx: WebContext, request: web.Request, provider: str, record: dict[str, str] | None
) -> str | None:
    """Why this callback may not use the state, or None when it may."""
    if record is None:
        return "state"
    if record.get("provider") != provider:
        return "state_provider"
    if not same_browser(ctx, request, record["browser"]):
        return "state_browser"
    return None


async def _failed(
    request: web.Request, telegram_user_id: int, reason: str, detail: str | None = None
) -> web.Response:
    ctx = context(request)
    ctx.metrics.failures.labels(detail or reason).inc()
    await ctx.services.notifier.notify(SignInFailed(telegram_user_id, reason))
    return provider_error(request, declined=reason == "declined")
