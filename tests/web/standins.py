"""Local aiohttp stand-ins answering like Google (OIDC), Yandex ID, GitHub and VK ID."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer
from joserfc import jwt
from joserfc.jwk import RSAKey


class Recorder:
    """What the client sent to each stand-in endpoint."""

    def __init__(self) -> None:
        self.requests: dict[str, dict[str, str]] = {}
        self.headers: dict[str, dict[str, str]] = {}

    async def note(self, request: web.Request) -> None:
        form = await request.post() if request.method == "POST" else request.query
        self.requests[request.path] = {k: str(v) for k, v in form.items()}
        self.headers[request.path] = dict(request.headers)


class OidcIssuer(Recorder):
    """An OpenID provider whose next ID token the test can spoil one claim at a time.

    It counts what it serves (`served["/oauth2/v3/certs"]` is the JWKS fetches), can rotate its
    signing key, send Cache-Control on its documents, and hold the JWKS answer on a gate.
    """

    DISCOVERY = "/.well-known/openid-configuration"
    JWKS = "/oauth2/v3/certs"

    def __init__(self) -> None:
        super().__init__()
        self.kid = "k1"
        self.key = RSAKey.generate_key(2048, parameters={"kid": "k1"}, private=True)
        self.signer = self.key
        self.url = ""
        self.client_id = "client-1"
        self.nonce = "nonce-1"
        self.overrides: dict[str, Any] = {}
        self.served: Counter[str] = Counter()
        self.cache_control: dict[str, str] = {}
        self.failing: set[str] = set()  # paths answered with 503, as a provider having trouble
        # While set and not open, a JWKS request waits; `jwks_asked` says one is waiting.
        self.jwks_gate: asyncio.Event | None = None
        self.jwks_asked = asyncio.Event()

    def rotate(self, kid: str | None = None) -> None:
        """A new signing key, published under `kid` (the same one when None); the old one goes."""
        self.kid = kid or self.kid
        self.key = RSAKey.generate_key(2048, parameters={"kid": self.kid}, private=True)
        self.signer = self.key

    def _headers(self, path: str) -> dict[str, str]:
        value = self.cache_control.get(path)
        return {"Cache-Control": value} if value else {}

    def id_token(self) -> str:
        now = int(time.time())
        claims = {
            "iss": self.url,
            "aud": self.client_id,
            "sub": "10769150350006150715113082367",
            "iat": now,
            "exp": now + 3600,
            "nonce": self.nonce,
            "email": "ivan@gmail.com",
            "email_verified": True,
            "name": "Ivan Petrov",
        } | self.overrides
        return jwt.encode({"alg": "RS256", "kid": self.kid}, claims, self.signer)

    def app(self) -> web.Application:
        async def discovery(request: web.Request) -> web.Response:
            self.served[self.DISCOVERY] += 1
            if self.DISCOVERY in self.failing:
                raise web.HTTPServiceUnavailable()
            return web.json_response(
                {
                    "issuer": self.url,
                    "authorization_endpoint": self.url + "/o/oauth2/v2/auth",
                    "token_endpoint": self.url + "/token",
                    "jwks_uri": self.url + self.JWKS,
                    "code_challenge_methods_supported": ["plain", "S256"],
                },
                headers=self._headers(self.DISCOVERY),
            )

        async def certs(request: web.Request) -> web.Response:
            self.served[self.JWKS] += 1
            self.jwks_asked.set()
            if self.jwks_gate is not None:
                await self.jwks_gate.wait()
            if self.JWKS in self.failing:
                raise web.HTTPServiceUnavailable()
            public = self.key.as_dict(private=False) | {"alg": "RS256", "use": "sig"}
            return web.json_response({"keys": [public]}, headers=self._headers(self.JWKS))

        async def token(request: web.Request) -> web.Response:
            await self.note(request)
            return web.json_response(
                {
                    "access_token": "ya29.a0",
                    "expires_in": 3599,
                    "scope": "openid email profile",
                    "token_type": "Bearer",
                    "id_token": self.id_token(),
                }
            )

        app = web.Application()
        app.router.add_get(self.DISCOVERY, discovery)
        app.router.add_get(self.JWKS, certs)
        app.router.add_post("/token", token)
        return app


def yandex_app(rec: Recorder) -> web.Application:
    async def token(request: web.Request) -> web.Response:
        await rec.note(request)
        return web.json_response(
            {"access_token": "y0_AgAAAA", "expires_in": 31536000, "token_type": "bearer"}
        )

    async def info(request: web.Request) -> web.Response:
        await rec.note(request)
        if request.headers.get("Authorization") != "OAuth y0_AgAAAA":
            return web.json_response({"error": "unauthorized"}, status=401)
        return web.json_response(
            {
                "id": "1000034426",
                "login": "ivan",
                "client_id": "yandex-client",
                "display_name": "ivan",
                "real_name": "Ivan Petrov",
                "first_name": "Ivan",
                "last_name": "Petrov",
                "default_email": "ivan@yandex.ru",
                "emails": ["ivan@yandex.ru"],
                "psuid": "1.AAceCw.tbHgw5DtJ9_zeqPrk-Ba2w.qPWSRC5v2t2IaksPJgnge",
            }
        )

    app = web.Application()
    app.router.add_post("/token", token)
    app.router.add_get("/info", info)
    return app


def github_app(rec: Recorder, *, primary_verified: bool = True) -> web.Application:
    async def token(request: web.Request) -> web.Response:
        await rec.note(request)
        return web.json_response(
            {
                "access_token": "gho_16C7e42F",
                "token_type": "bearer",
                "scope": "read:user,user:email",
            }
        )

    async def user(request: web.Request) -> web.Response:
        await rec.note(request)
        return web.json_response({"login": "octocat", "id": 583231, "name": "The Octocat"})

    async def emails(request: web.Request) -> web.Response:
        return web.json_response(
            [
                {"email": "old@example.com", "primary": False, "verified": True},
                {"email": "octocat@github.com", "primary": True, "verified": primary_verified},
            ]
        )

    app = web.Application()
    app.router.add_post("/login/oauth/access_token", token)
    app.router.add_get("/user", user)
    app.router.add_get("/user/emails", emails)
    return app


def vk_app(rec: Recorder) -> web.Application:
    async def token(request: web.Request) -> web.Response:
        await rec.note(request)
        form = rec.requests[request.path]
        return web.json_response(
            {
                "refresh_token": "vk2.r.x",
                "access_token": "vk2.a.x",
                "id_token": "eyJ...",
                "token_type": "Bearer",
                "expires_in": 3600,
                "user_id": 1234567890,
                "state": form.get("state", ""),
                "scope": "vkid.personal_info email",
            }
        )

    async def user_info(request: web.Request) -> web.Response:
        await rec.note(request)
        return web.json_response(
            {
                "user": {
                    "user_id": "1234567890",
                    "first_name": "Ivan",
                    "last_name": "Ivanov",
                    "avatar": "https://example.com/a.jpg",
                    "email": "ivan@mail.ru",
                    "sex": 2,
                    "verified": False,
                    "birthday": "01.01.2000",
                }
            }
        )

    app = web.Application()
    app.router.add_post("/oauth2/auth", token)
    app.router.add_post("/oauth2/user_info", user_info)
    return app


@asynccontextmanager
async def serve(app: web.Application) -> AsyncIterator[str]:
    server = TestServer(app, host="127.0.0.1", port=0)
    await server.start_server()
    try:
        yield str(server.make_url("")).rstrip("/")
    finally:
        await server.close()
