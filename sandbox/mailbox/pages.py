"""The Mailbox pages: the list at /mailbox, one letter at /mailbox/{id}, JSON for scripts."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from aiohttp import web

from sandbox.mailbox.catcher import Mailbox
from sandbox.mailbox.letters import CaughtLetter
from sandbox.pages import page_response

API = "/sandbox/api/mailbox"

# Links in a letter open in a new tab; the frame may open them but run nothing itself.
FRAME_SANDBOX = "allow-popups allow-popups-to-escape-sandbox"


def register_mailbox(app: web.Application, mailbox: Mailbox) -> None:
    """Adds /mailbox, /mailbox/{id}, /sandbox/api/mailbox and /sandbox/api/mailbox/{id}."""
    pages = _MailboxPages(mailbox)
    app.router.add_get("/mailbox", pages.inbox)
    app.router.add_get("/mailbox/{letter_id}", pages.letter)
    app.router.add_get(API, pages.api_list)
    app.router.add_get(API + "/{letter_id}", pages.api_letter)


@dataclass(frozen=True)
class _MailboxPages:
    mailbox: Mailbox

    async def inbox(self, request: web.Request) -> web.Response:
        to = request.query.get("to", "").strip()
        return page_response(
            "mailbox/inbox.html",
            title="Mailbox",
            current="/mailbox",
            to=to,
            letters=self.mailbox.letters(to or None),
            poll=API + ("?" + urlencode({"to": to}) if to else ""),
        )

    async def letter(self, request: web.Request) -> web.Response:
        letter = self._find(request)
        return page_response(
            "mailbox/letter.html",
            title=letter.subject or "Letter",
            current="/mailbox",
            letter=letter,
            frame_sandbox=FRAME_SANDBOX,
        )

    async def api_list(self, request: web.Request) -> web.Response:
        to = request.query.get("to", "").strip() or None
        letters = [letter.as_json() for letter in self.mailbox.letters(to)]
        return web.json_response({"letters": letters})

    async def api_letter(self, request: web.Request) -> web.Response:
        return web.json_response(self._find(request).as_json())

    def _find(self, request: web.Request) -> CaughtLetter:
        letter = self.mailbox.letter(request.match_info["letter_id"])
        if letter is None:
            raise web.HTTPNotFound(text="No such letter in the mailbox")
        return letter
