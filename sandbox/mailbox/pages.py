"""The Mailbox pages: the list at /mailbox, one letter at /mailbox/{id}, JSON for scripts."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from urllib.parse import urlencode

from aiohttp import web

from sandbox.mailbox.catcher import Mailbox
from sandbox.mailbox.letters import CaughtLetter
from sandbox.pages import page_response, time_tag

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
        letters = self.mailbox.letters(to or None)
        poll = API + ("?" + urlencode({"to": to}) if to else "")
        items = "".join(_list_item(letter) for letter in letters) or _empty(to)
        body = (
            "<h1>Mailbox</h1>"
            '<p class="notice">Development mailbox: these letters were caught here '
            "and not delivered to anyone.</p>"
            f"{_filter_form(to)}"
            f'<ul class="items" data-poll="{escape(poll)}" data-poll-key="letters" '
            f'data-poll-count="{len(letters)}">{items}</ul>'
        )
        return page_response("Mailbox", body, current="/mailbox")

    async def letter(self, request: web.Request) -> web.Response:
        letter = self._find(request)
        body = (
            '<p><a href="/mailbox">&larr; All letters</a></p>'
            f"<h1>{escape(letter.subject or '(no subject)')}</h1>"
            f'<div class="card">{_headers(letter)}</div>'
            f"{_html_part(letter)}{_text_part(letter)}"
        )
        return page_response(letter.subject or "Letter", body, current="/mailbox")

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


def _list_item(letter: CaughtLetter) -> str:
    return (
        f'<li class="card item"><a href="/mailbox/{escape(letter.id)}">'
        f'<div class="top"><span class="who">{escape(letter.to or "(no recipient)")}</span>'
        f"{time_tag(letter.received_at)}</div>"
        f'<div class="subject">{escape(letter.subject or "(no subject)")}</div>'
        f'<div class="muted">from {escape(letter.sender)}</div></a></li>'
    )


def _empty(to: str) -> str:
    wanted = f" for {escape(to)}" if to else ""
    return (
        f'<li class="card empty">No letters{wanted} yet. New ones appear here by themselves.</li>'
    )


def _filter_form(to: str) -> str:
    clear = ' <a class="button secondary" href="/mailbox">Show all</a>' if to else ""
    return (
        '<form class="filter" method="get" action="/mailbox">'
        f'<input type="search" name="to" value="{escape(to)}" placeholder="Recipient address" '
        'aria-label="Recipient address" inputmode="email">'
        f'<button class="button" type="submit">Filter</button>{clear}</form>'
    )


def _headers(letter: CaughtLetter) -> str:
    rows = (
        ("From", escape(letter.sender)),
        ("To", escape(letter.to)),
        ("Received", time_tag(letter.received_at)),
    )
    cells = "".join(f"<dt>{name}</dt><dd>{value}</dd>" for name, value in rows)
    return f'<dl class="headers">{cells}</dl>'


def _html_part(letter: CaughtLetter) -> str:
    if not letter.html:
        return ""
    # <base target=_blank> makes every link in the letter open in a new tab.
    document = '<base target="_blank">' + letter.html
    return (
        '<section><h2>HTML</h2><iframe class="letter-html" title="The letter as HTML" '
        f'sandbox="{FRAME_SANDBOX}" referrerpolicy="no-referrer" '
        f'srcdoc="{escape(document, quote=True)}"></iframe></section>'
    )


def _text_part(letter: CaughtLetter) -> str:
    if not letter.text:
        return ""
    return (
        f'<section><h2>Plain text</h2><pre class="card plain">{escape(letter.text)}</pre></section>'
    )
