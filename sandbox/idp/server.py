"""Authlib's framework-agnostic AuthorizationServer, adapted to aiohttp (as its Flask one is)."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from aiohttp import web
from authlib.common.security import generate_token
from authlib.oauth2.rfc6749 import AuthorizationServer, OAuth2Payload, OAuth2Request
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc9207 import IssuerParameter
from authlib.oidc.core import UserInfo
from authlib.oidc.core.grants import OpenIDCode
from joserfc.jwk import RSAKey
from multidict import MultiDict, MultiDictProxy

from sandbox.idp.models import DevClient, DevCode, DevUser

CODE_TTL = 600  # RFC 6749 §4.1.2: a maximum lifetime of 10 minutes is recommended
TOKEN_TTL = 3600


@dataclass(frozen=True)
class ReadRequest:
    """An aiohttp request whose body was already read: Authlib's server calls are synchronous."""

    method: str
    url: str
    headers: Mapping[str, str]
    query: Mapping[str, str]
    form: MultiDictProxy[str]

    @classmethod
    async def read(cls, request: web.Request) -> ReadRequest:
        form = await request.post() if request.method == "POST" else MultiDictProxy(MultiDict())
        text_form = MultiDictProxy(MultiDict((k, v) for k, v in form.items() if isinstance(v, str)))
        return cls(request.method, str(request.url), request.headers, request.query, text_form)


class _Payload(OAuth2Payload):  # type: ignore[misc]
    def __init__(self, request: ReadRequest) -> None:
        self._values: MultiDict[str] = MultiDict(request.query.items())
        self._values.extend(request.form)

    @property
    def data(self) -> Mapping[str, str]:
        return {key: self._values[key] for key in self._values}

    @property
    def datalist(self) -> defaultdict[str, list[str]]:
        values: defaultdict[str, list[str]] = defaultdict(list)
        for key, value in self._values.items():
            values[key].append(value)
        return values


class _Request(OAuth2Request):  # type: ignore[misc]
    def __init__(self, request: ReadRequest) -> None:
        super().__init__(request.method, request.url, headers=request.headers)
        self._read = request
        self.payload = _Payload(request)

    @property
    def args(self) -> Mapping[str, str]:
        return self._read.query

    @property
    def form(self) -> Mapping[str, str]:
        return self._read.form


@dataclass
class Reply:
    """What Authlib answers; `location` is writable because RFC 9207's extension adds `iss`."""

    status: int
    body: Any
    headers: list[tuple[str, str]] = field(default_factory=list)

    @property
    def location(self) -> str | None:
        return next((v for k, v in self.headers if k.lower() == "location"), None)

    @location.setter
    def location(self, value: str) -> None:
        self.headers = [(k, v) for k, v in self.headers if k.lower() != "location"]
        self.headers.append(("Location", value))

    def to_aiohttp(self) -> web.Response:
        headers = {k: v for k, v in self.headers if k.lower() != "content-type"}
        if isinstance(self.body, dict):
            return web.json_response(self.body, status=self.status, headers=headers)
        return web.Response(status=self.status, text=str(self.body or ""), headers=headers)


class _CodeGrant(AuthorizationCodeGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = ["client_secret_basic", "client_secret_post"]

    def save_authorization_code(self, code: str, request: OAuth2Request) -> None:
        payload = request.payload.data
        self.server.codes[code] = DevCode(
            code=code,
            client_id=request.client.get_client_id(),
            redirect_uri=payload.get("redirect_uri", ""),
            scope=request.client.get_allowed_scope(payload.get("scope", "")),
            user=request.user,
            nonce=payload.get("nonce"),
            code_challenge=payload.get("code_challenge"),
            code_challenge_method=payload.get("code_challenge_method"),
            auth_time=int(time.time()),
            expires_at=time.time() + CODE_TTL,
        )

    def query_authorization_code(self, code: str, client: DevClient) -> DevCode | None:
        item: DevCode | None = self.server.codes.get(code)
        if item and item.client_id == client.client_id and item.expires_at > time.time():
            return item
        return None

    def delete_authorization_code(self, authorization_code: DevCode) -> None:
        self.server.codes.pop(authorization_code.code, None)

    def authenticate_user(self, authorization_code: DevCode) -> DevUser:
        return authorization_code.user


class _OpenIDCode(OpenIDCode):  # type: ignore[misc]
    def __init__(self, server: DevAuthorizationServer) -> None:
        super().__init__(require_nonce=True)
        self.server = server

    def exists_nonce(self, nonce: str, request: OAuth2Request) -> bool:
        return any(code.nonce == nonce for code in self.server.codes.values())

    def resolve_client_private_key(self, client: DevClient) -> RSAKey:
        return self.server.key

    def get_client_algorithm(self, client: DevClient) -> str:
        return "RS256"

    def get_encode_header(self, client: DevClient) -> dict[str, str]:
        return {"alg": "RS256", "kid": self.server.kid}

    def get_client_claims(self, client: DevClient) -> dict[str, Any]:
        return {"iss": self.server.issuer, "aud": [client.get_client_id()]}

    def generate_user_info(self, user: DevUser, scope: str) -> UserInfo:
        return self.server.user_info(user)


class _Issuer(IssuerParameter):  # type: ignore[misc]
    def __init__(self, issuer: str) -> None:
        self.issuer = issuer

    def get_issuer(self) -> str:
        return self.issuer


class DevAuthorizationServer(AuthorizationServer):  # type: ignore[misc]
    """Code flow with PKCE required (RFC 7636), OIDC ID tokens signed RS256, `iss` (RFC 9207)."""

    def __init__(self, issuer: str, client: DevClient) -> None:
        super().__init__(scopes_supported=["openid", "email", "profile"])
        self.issuer = issuer
        self.client = client
        # Generated at start-up and kept in memory: a restart only voids dev sessions.
        self.key = RSAKey.generate_key(2048, private=True)
        self.kid = self.key.thumbprint()
        self.codes: dict[str, DevCode] = {}
        self.tokens: dict[str, tuple[DevUser, float]] = {}
        self.register_token_generator(
            "default", BearerTokenGenerator(lambda *a, **k: generate_token(42))
        )
        self.register_grant(_CodeGrant, [CodeChallenge(required=True), _OpenIDCode(self)])
        self.register_extension(_Issuer(issuer))

    def query_client(self, client_id: str) -> DevClient | None:
        return self.client if client_id == self.client.client_id else None

    def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
        self.tokens[token["access_token"]] = (request.user, time.time() + TOKEN_TTL)

    def user_for_token(self, access_token: str) -> DevUser | None:
        found = self.tokens.get(access_token)
        return found[0] if found and found[1] > time.time() else None

    def user_info(self, user: DevUser) -> UserInfo:
        return UserInfo(
            sub=user.sub, name=user.name, email=user.email, email_verified=user.email_verified
        )

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        """Authlib's hooks for Flask signals; the dev IdP listens to none."""

    def create_oauth2_request(self, request: ReadRequest) -> OAuth2Request:
        return _Request(request)

    def handle_response(self, status: int, body: Any, headers: Any) -> Reply:
        return Reply(status, body, list(headers or []))

    def public_jwks(self) -> dict[str, Any]:
        public = self.key.as_dict(private=False) | {"kid": self.kid, "use": "sig", "alg": "RS256"}
        return {"keys": [public]}
