"""A small form-following web client: what a person does in a browser, without a browser.

Follows redirects, keeps cookies, reads forms (action, method, inputs) and submits them.
Used to walk the OAuth sign-in, email links and the secure password page in flow tests;
the headless-Chromium tests cover how the same pages look.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin

import aiohttp


@dataclass
class Form:
    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)
    checkboxes: dict[str, str] = field(default_factory=dict)
    buttons: list[tuple[str, str]] = field(default_factory=list)


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(Form(a.get("action", ""), a.get("method", "get").lower()))
        elif not self.forms:
            return
        elif tag == "input" and a.get("name"):
            kind = a.get("type", "text")
            if kind == "checkbox":
                if "checked" in a:
                    self.forms[-1].fields[a["name"]] = a.get("value", "on")
                self.forms[-1].checkboxes[a["name"]] = a.get("value", "on")
            elif kind != "submit":
                self.forms[-1].fields[a["name"]] = a.get("value", "")
        elif tag == "button" and a.get("name"):
            self.forms[-1].buttons.append((a["name"], a.get("value", "")))


@dataclass
class Page:
    url: str
    status: int
    text: str

    @property
    def forms(self) -> list[Form]:
        parser = _Forms()
        parser.feed(self.text)
        return parser.forms


class Browser:
    """One person's browser: cookies and the page they are looking at."""

    def __init__(self, user_agent: str = "Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0") -> None:
        self.session = aiohttp.ClientSession(
            headers={"User-Agent": user_agent, "Accept-Language": "en"},
            cookie_jar=aiohttp.CookieJar(unsafe=True),
        )
        self.page: Page | None = None

    async def close(self) -> None:
        await self.session.close()

    async def open(self, url: str, **headers: str) -> Page:
        async with self.session.get(url, headers=headers) as response:
            self.page = Page(str(response.url), response.status, await response.text())
        return self.page

    async def submit(self, index: int = 0, button: str | None = None, **values: Any) -> Page:
        """Fill in the form on the current page and send it; `button` is a submit button's value."""
        assert self.page is not None, "open a page first"
        form = self.page.forms[index]
        data = dict(form.fields)
        for name, value in values.items():
            if value is False:
                data.pop(name, None)
            elif value is True:
                data[name] = form.checkboxes.get(name, "on")
            else:
                data[name] = str(value)
        for name, value in form.buttons:
            if button is None or value == button:
                data[name] = value
                break
        target = urljoin(self.page.url, form.action or self.page.url)
        if form.method == "post":
            request = self.session.post(target, data=data)
        else:
            request = self.session.get(target, params=data)
        async with request as response:
            self.page = Page(str(response.url), response.status, await response.text())
        return self.page
