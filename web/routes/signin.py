"""Social sign-in (PRODUCT §1.1): the start page, then the provider's callback (RFC 6749 §4.1)."""

from __future__ import annotations

import re

from aiohttp import web

from core.flows.sign_in import Attempt, AttemptRefused
from web.context import context, speak
from web.oidc import routes as oidc
from web.pages import expired, provider_error, redirect, render
from web.providers import Pending, ProviderError
from web.routes.consent import BROWSER_COOKIE

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


def pending(attempt: Attempt) -> Pending:
    """What the provider needs of the attempt to build its request and check its answer."""
    return Pending(attempt.state, attempt.verifier, attempt.nonce, attempt.redirect_uri)


async def start(request: web.Request) -> web.StreamResponse:
    ctx = context(request)
    token = request.match_info["token"]
    link = await ctx.services.sign_in.open_link(token)
    provider = ctx.providers.get(link.provider) if link else None
    if link is None or provider is None:
        ctx.metrics.failures.labels("link_expired").inc()
        speak(request, await ctx.services.sign_in.link_locale(token))
        await ctx.services.sign_in.report_stale(token)  # the chat offers a fresh link
        return expired(request)
    speak(request, link.locale)
    if embedded_browser(request.headers.get("User-Agent", "")):
        return _open_in_browser(request)
    sign_in = ctx.services.sign_in
    attempt = await sign_in.begin(link, request.cookies.get(BROWSER_COOKIE))
    try:
        location = await provider.authorization_url(ctx.client(), pending(attempt))
    except ProviderError as error:
        ctx.metrics.failures.labels(error.reason).inc()
        return provider_error(request)
    response = redirect(location)
    response.set_cookie(
        BROWSER_COOKIE,
        attempt.browser,
        path="/auth",
        httponly=True,
        samesite="Lax",  # sent on the provider's top-level redirect back, not on cross-site posts
        secure=ctx.services.settings.public_is_https,
        max_age=int(sign_in.ttl.total_seconds()),
    )
    return response


def _open_in_browser(request: web.Request) -> web.Response:
    return render(request, "open_in_browser.html", url=str(request.url))


async def callback(request: web.Request) -> web.StreamResponse:
    ctx = context(request)
    name = request.match_info["provider"]
    params = {key: request.query[key] for key in request.query}
    # A sign-in begun on the provider's own sign-in page (PRODUCT §1.11) comes back here too:
    # the operator registers one redirect URI per provider. Its states are its own.
    answer = await oidc.social_callback(request, name, params)
    if answer is not None:
        return answer
    try:
        attempt = await ctx.services.sign_in.claim(
            params.get("state", ""), name, request.cookies.get(BROWSER_COOKIE)
        )
    except AttemptRefused as refused:
        # The same page whatever the reason; the reason goes to the metrics.
        ctx.metrics.failures.labels(refused.reason).inc()
        return expired(request)
    speak(request, attempt.locale)
    provider = ctx.providers.get(name)
    if "error" in params or provider is None:
        declined = params.get("error") == "access_denied"
        return await _failed(request, attempt, "declined" if declined else "provider_error")
    try:
        profile = await provider.profile(ctx.client(), params, pending(attempt))
    except ProviderError as error:
        return await _failed(request, attempt, "provider_error", error.reason)
    consent_id = await ctx.services.sign_in.hold_consent(attempt, profile)
    return redirect(f"/auth/consent/{consent_id}", status=303)


async def _failed(
    request: web.Request, attempt: Attempt, reason: str, detail: str | None = None
) -> web.Response:
    ctx = context(request)
    ctx.metrics.failures.labels(detail or reason).inc()
    await ctx.services.sign_in.failed(attempt, reason)
    return provider_error(request, declined=reason == "declined")
