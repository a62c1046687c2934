"""SMS through an operator's HTTP gateway: one POST per message, body from a template."""

from __future__ import annotations

import base64
import json
import logging
from urllib.parse import quote_plus

import aiohttp

from core.domain.addresses import mask
from core.errors import Unavailable

log = logging.getLogger(__name__)

FORM = "application/x-www-form-urlencoded"


class HttpSmsSender:
    """POSTs `body_template` with `{phone}` and `{text}` filled in; never logs the text."""

    def __init__(
        self,
        url: str,
        body_template: str,
        content_type: str = "application/json",
        auth: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        self._url = url
        self._template = body_template
        self._content_type = content_type
        self._headers = {"Content-Type": content_type}
        if auth:
            self._headers["Authorization"] = authorization_header(auth)
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    async def send(self, phone: str, text: str) -> None:
        body = render_body(self._template, self._content_type, phone, text)
        try:
            async with self._client().post(
                self._url, data=body.encode(), headers=self._headers
            ) as response:
                status = response.status
        except (TimeoutError, aiohttp.ClientError) as exc:
            log.warning("SMS gateway unreachable for %s: %s", mask(phone), type(exc).__name__)
            raise Unavailable("sms") from exc
        if not 200 <= status < 300:
            log.warning("SMS gateway answered %s for %s", status, mask(phone))
            raise Unavailable("sms")

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _client(self) -> aiohttp.ClientSession:
        # Created on first use: a session needs a running loop, and there is none at start-up.
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self._session


def render_body(template: str, content_type: str, phone: str, text: str) -> str:
    """The template with both placeholders replaced, escaped for the body's media type."""
    media_type = content_type.split(";", 1)[0].strip().lower()
    # str.format would choke on the braces of a JSON template, hence plain replacement.
    return template.replace("{phone}", _escape(media_type, phone)).replace(
        "{text}", _escape(media_type, text)
    )


def _escape(media_type: str, value: str) -> str:
    if media_type == FORM:
        return quote_plus(value)
    if media_type.endswith("json"):
        # json.dumps gives a quoted literal; the template already has the quotes around it.
        return json.dumps(value, ensure_ascii=False)[1:-1]
    return value


def authorization_header(auth: str) -> str:
    """'Basic user:password' is encoded (RFC 7617); 'Bearer ...' and anything else go as is."""
    scheme, _, credentials = auth.partition(" ")
    if scheme == "Basic" and ":" in credentials:
        return "Basic " + base64.b64encode(credentials.encode()).decode("ascii")
    return auth
