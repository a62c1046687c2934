"""The secure password page (PRODUCT §1.6): one-time, CSRF-protected, Web App initData checked.

Telegram passes a Web App its signed initData in the URL fragment (`tgWebAppData`), which only
the page's script sees; it posts it with the form and the server checks the signature.
"""

from __future__ import annotations

from collections.abc import Callable

from aiogram.utils.web_app import safe_parse_webapp_init_data
from aiohttp import web

from core.errors import CodeExpired, WeakPassword
from core.flows.password import SecurePage
from web.context import WebContext, context, gettext
from web.pages import back_to_telegram, e, el, expired, render

SCRIPT = """
var f=document.getElementById('form'),p=document.getElementById('password'),
r=document.getElementById('repeat'),min=+f.dataset.min,max=+f.dataset.max;
var d=new URLSearchParams(location.hash.slice(1)).get('tgWebAppData');
if(d){document.getElementById('init_data').value=d;}
function hint(id,ok){var el=document.getElementById(id);el.className=ok?'ok':'muted';}
function check(){hint('rule-min',p.value.length>=min&&p.value.length<=max);
hint('rule-same',p.value.length>0&&p.value===r.value);}
p.oninput=check;r.oninput=check;
"""


async def page(request: web.Request) -> web.Response:
    ctx = context(request)
    token = request.match_info["token"]
    secure_page = await ctx.services.password.open_page(token)
    if secure_page is None:
        return expired(request)
    if request.method != "POST":
        return await _form(request, token)
    form = await request.post()
    if not await ctx.services.forms.check("password:" + token, str(form.get("csrf", ""))):
        return _refused(request, "csrf")
    if not _init_data_ok(ctx, str(form.get("init_data", "")), secure_page):
        return _refused(request, "init_data")
    password, repeat = str(form.get("password", "")), str(form.get("repeat", ""))
    _ = gettext(request)
    if password != repeat:
        return await _form(request, token, _("The two passwords differ."))
    try:
        await ctx.services.password.submit_page(token, password)
    except CodeExpired:
        return expired(request)
    except WeakPassword as weak:
        return await _form(request, token, weak_reason(_, weak))
    body = el("p", _("Password saved."), class_="ok") + back_to_telegram(request)
    return render(request, _("Password saved"), body, frameable=True)


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
    _ = gettext(request)
    text = _("This form could not be accepted. Open the link from the chat again.")
    return render(request, _("Refused"), f'<p class="error">{e(text)}</p>', status=403)


def weak_reason(_: Callable[[str], str], weak: WeakPassword) -> str:
    if weak.reason == "too_short":
        return _("The password must have at least {limit} characters.").format(limit=weak.limit)
    if weak.reason == "too_long":
        return _("The password must have at most {limit} characters.").format(limit=weak.limit)
    if weak.reason == "common":
        return _("This password is too common; choose another.")
    return _("Do not use your name, email or phone as the password.")


async def _form(request: web.Request, token: str, error: str = "") -> web.Response:
    ctx = context(request)
    _ = gettext(request)
    policy = ctx.services.password.policy
    value = await ctx.services.forms.issue("password:" + token)
    at_least = _("At least {min} characters").format(min=policy.min_length)
    rules = el(
        "ul",
        html=el("li", at_least, id="rule-min", class_="muted")
        + el("li", _("Not a common password, not your name, email or phone"), class_="muted")
        + el("li", _("Both fields match"), id="rule-same", class_="muted"),
        class_="rules",
    )
    body = (
        (f'<p class="error">{e(error)}</p>' if error else "")
        + f'<form id="form" method="post" data-min="{policy.min_length}" '
        + f'data-max="{policy.max_length}">'
        + f'<input type="hidden" name="csrf" value="{e(value)}">'
        + '<input type="hidden" id="init_data" name="init_data" value="">'
        + el("label", _("New password"), for_="password")
        + '<input id="password" name="password" type="password" required '
        + f'minlength="{policy.min_length}" maxlength="{policy.max_length}" '
        + 'autocomplete="new-password">'
        + el("label", _("Repeat the password"), for_="repeat")
        + '<input id="repeat" name="repeat" type="password" required autocomplete="new-password">'
        + rules
        + el("button", _("Save password"), type="submit")
        + "</form>"
    )
    status = 400 if error else 200
    return render(
        request, _("Create a password"), body, script=SCRIPT, frameable=True, status=status
    )
