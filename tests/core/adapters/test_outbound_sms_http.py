"""The HTTP SMS sender against a local aiohttp server standing in for the gateway."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from core.adapters.sms_http import HttpSmsSender
from core.errors import Unavailable

PHONE = "+79161234567"
TEXT = 'Code 123456 "for you" & {nobody} else'


@dataclass
class Gateway:
    """Records each request; answers with `status`."""

    server: TestServer
    status: int = 200
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return str(self.server.make_url("/send"))


@pytest.fixture
async def gateway() -> AsyncIterator[Gateway]:
    async def handle(request: web.Request) -> web.Response:
        state.requests.append((dict(request.headers), await request.read()))
        return web.Response(status=state.status, text="ok")

    app = web.Application()
    app.router.add_post("/send", handle)
    server = TestServer(app, host="127.0.0.1", port=0)
    state = Gateway(server)
    await server.start_server()
    yield state
    await server.close()


MakeSender = Callable[..., HttpSmsSender]


@pytest.fixture
async def make_sender(gateway: Gateway) -> AsyncIterator[MakeSender]:
    """Senders aimed at the gateway by default; each is closed after the test."""
    made: list[HttpSmsSender] = []

    def make(body_template: str, url: str | None = None, **kwargs: Any) -> HttpSmsSender:
        made.append(HttpSmsSender(url or gateway.url, body_template, **kwargs))
        return made[-1]

    yield make
    for sender in made:
        await sender.close()


async def test_json_body_carries_the_escaped_phone_and_text(
    gateway: Gateway, make_sender: MakeSender
) -> None:
    sender = make_sender('{"to": "{phone}", "text": "{text}", "from": "Acme"}')
    await sender.send(PHONE, TEXT)
    [(headers, body)] = gateway.requests
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body) == {"to": PHONE, "text": TEXT, "from": "Acme"}
    assert "Authorization" not in headers


async def test_form_body_is_url_encoded(gateway: Gateway, make_sender: MakeSender) -> None:
    sender = make_sender(
        "phone={phone}&message={text}&sender=Acme",
        content_type="application/x-www-form-urlencoded",
    )
    await sender.send(PHONE, TEXT)
    [(headers, body)] = gateway.requests
    assert headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert parse_qs(body.decode()) == {"phone": [PHONE], "message": [TEXT], "sender": ["Acme"]}


async def test_bearer_token_goes_as_is(gateway: Gateway, make_sender: MakeSender) -> None:
    sender = make_sender('{"to": "{phone}"}', auth="Bearer tok-123")
    await sender.send(PHONE, TEXT)
    assert gateway.requests[0][0]["Authorization"] == "Bearer tok-123"


async def test_basic_user_and_password_are_encoded(
    gateway: Gateway, make_sender: MakeSender
) -> None:
    sender = make_sender('{"to": "{phone}"}', auth="Basic acme:pa:ss")
    await sender.send(PHONE, TEXT)
    expected = "Basic " + base64.b64encode(b"acme:pa:ss").decode()
    assert gateway.requests[0][0]["Authorization"] == expected


async def test_already_encoded_basic_goes_as_is(gateway: Gateway, make_sender: MakeSender) -> None:
    sender = make_sender('{"to": "{phone}"}', auth="Basic YWNtZTpwdw==")
    await sender.send(PHONE, TEXT)
    assert gateway.requests[0][0]["Authorization"] == "Basic YWNtZTpwdw=="


async def test_gateway_error_is_unavailable_and_the_text_is_not_logged(
    gateway: Gateway, make_sender: MakeSender, caplog: pytest.LogCaptureFixture
) -> None:
    gateway.status = 500
    sender = make_sender('{"to": "{phone}", "text": "{text}"}')
    with pytest.raises(Unavailable):
        await sender.send(PHONE, TEXT)
    assert "123456" not in caplog.text
    assert PHONE not in caplog.text


async def test_unreachable_gateway_is_unavailable(
    gateway: Gateway, make_sender: MakeSender
) -> None:
    url = gateway.url
    await gateway.server.close()
    sender = make_sender(url=url, body_template='{"to": "{phone}"}', timeout=5)
    with pytest.raises(Unavailable):
        await sender.send(PHONE, TEXT)


async def test_sender_works_again_after_close(gateway: Gateway, make_sender: MakeSender) -> None:
    sender = make_sender('{"to": "{phone}"}')
    await sender.send(PHONE, TEXT)
    await sender.close()
    await sender.send(PHONE, TEXT)
    assert len(gateway.requests) == 2
