"""The SMS outbox page at /sms and its JSON at /sandbox/api/sms."""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import escape
from typing import Any

from aiohttp import web

from core.adapters.capture import SentSms, SmsOutbox
from sandbox.pages import page_response, time_tag

API = "/sandbox/api/sms"

# Codes are shown on purpose: the sandbox is a development tool and nothing was really sent.
CODE = re.compile(r"\b\d{4,8}\b")


def register_outbox(app: web.Application, outbox: SmsOutbox) -> None:
    """Adds /sms (the page) and /sandbox/api/sms (JSON, newest first)."""
    pages = _OutboxPages(outbox)
    app.router.add_get("/sms", pages.page)
    app.router.add_get(API, pages.api)


def sms_json(sms: SentSms) -> dict[str, Any]:
    return {"phone": sms.phone, "text": sms.text, "at": sms.at.isoformat()}


@dataclass(frozen=True)
class _OutboxPages:
    outbox: SmsOutbox

    def newest_first(self, phone: str | None) -> list[SentSms]:
        messages = reversed(self.outbox.messages)
        return [sms for sms in messages if phone is None or sms.phone == phone]

    async def page(self, request: web.Request) -> web.Response:
        messages = self.newest_first(None)
        items = "".join(_item(sms) for sms in messages) or (
            '<li class="card empty">No messages yet. New ones appear here by themselves.</li>'
        )
        body = (
            "<h1>SMS</h1>"
            '<p class="notice">Development outbox: these messages were not sent. '
            "Codes are shown here so you can type them into the chat.</p>"
            f'<ul class="items" data-poll="{API}" data-poll-key="messages" '
            f'data-poll-count="{len(messages)}">{items}</ul>'
        )
        return page_response("SMS", body, current="/sms")

    async def api(self, request: web.Request) -> web.Response:
        phone = request.query.get("phone", "").strip() or None
        return web.json_response({"messages": [sms_json(sms) for sms in self.newest_first(phone)]})


def _item(sms: SentSms) -> str:
    text = CODE.sub(lambda m: f'<span class="code">{m.group(0)}</span>', escape(sms.text))
    codes = CODE.findall(sms.text)
    copy = (
        f' <button class="button secondary" type="button" data-copy="{codes[0]}">Copy code</button>'
        if codes
        else ""
    )
    return (
        f'<li class="card item"><div class="top"><span class="who">{escape(sms.phone)}</span>'
        f"{time_tag(sms.at)}</div>"
        f'<div class="sms-text">{text}</div>{copy}</li>'
    )
