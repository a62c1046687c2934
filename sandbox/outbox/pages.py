"""The SMS outbox page at /sms and its JSON at /sandbox/api/sms."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiohttp import web

from sandbox.outbox.store import SentSms, SmsOutbox
from sandbox.pages import page_response

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
class ShownSms:
    """One message as the page shows it: its text cut into (text, code) runs, codes marked."""

    phone: str
    at: datetime
    parts: list[tuple[str, str]]
    codes: list[str]

    @classmethod
    def of(cls, sms: SentSms) -> ShownSms:
        parts, start = [], 0
        for match in CODE.finditer(sms.text):
            parts.append((sms.text[start : match.start()], match.group(0)))
            start = match.end()
        parts.append((sms.text[start:], ""))
        return cls(sms.phone, sms.at, parts, CODE.findall(sms.text))


@dataclass(frozen=True)
class _OutboxPages:
    outbox: SmsOutbox

    def newest_first(self, phone: str | None) -> list[SentSms]:
        messages = reversed(self.outbox.messages)
        return [sms for sms in messages if phone is None or sms.phone == phone]

    async def page(self, request: web.Request) -> web.Response:
        messages = [ShownSms.of(sms) for sms in self.newest_first(None)]
        return page_response(
            "outbox/sms.html", title="SMS", current="/sms", api=API, messages=messages
        )

    async def api(self, request: web.Request) -> web.Response:
        phone = request.query.get("phone", "").strip() or None
        return web.json_response({"messages": [sms_json(sms) for sms in self.newest_first(phone)]})
