"""Authlib's authorization server on aiohttp (PRODUCT §1.11).

Authlib is synchronous: each call into it runs in a worker thread, and its hooks reach the
async provider service on the event loop through `asyncio.run_coroutine_threadsafe`.
"""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
import threading
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from authlib.oauth2 import AuthorizationServer, OAuth2Request
from authlib.oauth2.rfc6749 import ClientMixin, InvalidRequestError, grants
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc9207 import IssuerParameter
from authlib.oidc.core import UserInfo
from authlib.oidc.core.grants import OpenIDCode
from cryptography.fernet import Fernet, InvalidToken

from core.domain.models import AddressKind, Binding, BindingStatus
from core.provider.models import AuthorizationCode, Client
from core.provider.service import ProviderError, ProviderService
from web.oidc.keys import ALG, private

T = TypeVar("T")
AccountReader = Callable[[int], Awaitable[tuple[str | None, list[Binding]]]]
SCOPES = ["openid", "profile", "email", "phone"]
WAIT = 30.0  # seconds a worker thread waits for the loop; the database's own timeouts are less


@dataclass(frozen=True)
class Prepared:
    """What Authlib reads of an HTTP request, read on the loop before the thread starts."""

    method: str
    uri: str
    headers: Mapping[str, str]
    args: Mapping[str, str]
    form: Mapping[str, str]


@dataclass(frozen=True)
class Person:
    """The signed-in account, as Authlib's `user`."""

    account_id: int
    auth_time: datetime

    def get_user_id(self) -> int:
        return self.account_id


class AioRequest(OAuth2Request):  # type: ignore[misc]
    def __init__(self, prepared: Prepared) -> None:
        super().__init__(prepared.method, prepared.uri, headers=dict(prepared.headers))
        self._prepared = prepared
        source = prepared.form if prepared.method == "POST" and prepared.form else prepared.args
        self.payload = BasicOAuth2Payload(dict(source))

    @property
    def args(self) -> Mapping[str, str]:
        return self._prepared.args

    @property
    def form(self) -> Mapping[str, str]:
        return self._prepared.form


class WorkspaceClient(ClientMixin):  # type: ignore[misc]
    def __init__(self, client: Client, provider: ProviderService) -> None:
        self.client = client
        self._provider = provider
        self.id_token_signed_response_alg = ALG

    def get_client_id(self) -> str:
        return self.client.client_id

    def get_default_redirect_uri(self) -> str:
        return self.client.redirect_uris[0]

    def get_allowed_scope(self, scope: str) -> str:
        return " ".join(s for s in scope.split() if s in SCOPES)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.client.redirect_uris  # exact match (RFC 9700 §2.1)

    def check_client_secret(self, client_secret: str) -> bool:
        return self._provider.secret_matches(self.client, client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        if self.client.confidential:
            return method in ("client_secret_basic", "client_secret_post")
        return method == "none"

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in ("authorization_code", "refresh_token")


@dataclass(frozen=True)
class StoredCode:
    code: AuthorizationCode

    def get_redirect_uri(self) -> str:
        return self.code.redirect_uri

    def get_scope(self) -> str:
        return self.code.scope

    def get_nonce(self) -> str | None:
        return self.code.nonce

    def get_auth_time(self) -> int:
        return int(self.code.auth_time.timestamp())

    def get_acr(self) -> None:
        return None

    def get_amr(self) -> None:
        # No `amr`: the code does not record how the person signed in (a password or a social
        # provider), and "pwd" for a social sign-in would be false (OIDC Core §2: optional).
        return None

    @property
    def code_challenge(self) -> str:
        return self.code.code_challenge

    @property
    def code_challenge_method(self) -> str:
        return self.code.code_challenge_method

    def get_code_challenge(self) -> str:
        return self.code.code_challenge

    def get_code_challenge_method(self) -> str:
        return self.code.code_challenge_method

    def is_expired(self) -> bool:
        return False  # `take_code` gives only codes that have not expired


@dataclass(frozen=True)
class StoredRefresh:
    client_id: str
    account_id: int
    scope: str
    family: str

    def check_client(self, client: WorkspaceClient) -> bool:
        return client.get_client_id() == self.client_id

    def get_scope(self) -> str:
        return self.scope

    def is_expired(self) -> bool:
        return False

    def is_revoked(self) -> bool:
        return False


class S256Only(CodeChallenge):  # type: ignore[misc]
    """PKCE required, S256 only (RFC 9700 §2.1.1: no "plain")."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]  # noqa: RUF012 (Authlib's name)

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        # Authlib requires PKCE of public clients only, and takes a missing method as "plain":
        # here every client sends a challenge, with the method S256 said.
        data = grant.request.payload.data
        if not data.get("code_challenge") or data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("PKCE with code_challenge_method=S256 is required.")
        super().validate_code_challenge(grant, redirect_uri)


class OidcServer(AuthorizationServer):  # type: ignore[misc]
    """One per web app; `issuer` is OP_ISSUER (PUBLIC_URL by default)."""

    def __init__(self, provider: ProviderService, issuer: str, reader: AccountReader) -> None:
        super().__init__(scopes_supported=SCOPES)
        self.provider = provider
        self.reader = reader
        self.issuer = issuer
        self.loop: asyncio.AbstractEventLoop | None = None
        secret = provider.keyed.digest("oidc-access-token", "key")[:32].encode()
        self._fernet = Fernet(base64.urlsafe_b64encode(secret))
        server = self

        class Code(grants.AuthorizationCodeGrant):  # type: ignore[misc]
            TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]  # noqa: RUF012

            def save_authorization_code(self, code: str, request: AioRequest) -> None:
                person: Person = request.user
                payload = request.payload
                client: WorkspaceClient = request.client
                server.wait(
                    server.provider.issue_code(
                        client.client,
                        person.account_id,
                        payload.redirect_uri,
                        payload.scope,
                        payload.data.get("nonce"),
                        payload.data.get("code_challenge", ""),
                        payload.data.get("code_challenge_method", ""),
                        person.auth_time,
                        code=code,
                    )
                )

            def query_authorization_code(
                self, code: str, client: WorkspaceClient
            ) -> StoredCode | None:
                found = server.wait(server.provider.take_code(code, client.get_client_id()))
                return StoredCode(found) if found else None

            def delete_authorization_code(self, authorization_code: StoredCode) -> None:
                pass  # `take_code` used it up already: single use whatever follows

            def authenticate_user(self, authorization_code: StoredCode) -> Person:
                code = authorization_code.code
                return Person(code.account_id, code.auth_time)

        class Refresh(grants.RefreshTokenGrant):  # type: ignore[misc]
            TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]  # noqa: RUF012
            INCLUDE_NEW_REFRESH_TOKEN = True

            def authenticate_refresh_token(self, refresh_token: str) -> StoredRefresh | None:
                client: WorkspaceClient = self.request.client
                try:
                    found = server.wait(
                        server.provider.consume_refresh(refresh_token, client.get_client_id())
                    )
                except ProviderError:
                    return None
                return StoredRefresh(found.client_id, found.account_id, found.scope, found.family)

            def authenticate_user(self, refresh_token: StoredRefresh) -> Person:
                return Person(refresh_token.account_id, server.provider.clock.now())

            def revoke_old_credential(self, refresh_token: StoredRefresh) -> None:
                pass  # `consume_refresh` marked it used; a reuse revokes the family

        # What one ID token is being made with, per worker thread: a grant's extension serves
        # every request at once, so nothing of one request may sit on the instance.
        call = threading.local()

        class Identity(OpenIDCode):  # type: ignore[misc]
            def resolve_client_private_key(self, client: WorkspaceClient) -> Any:
                return private(call.key)

            def get_client_algorithm(self, client: WorkspaceClient) -> str:
                return ALG

            def get_encode_header(self, client: WorkspaceClient) -> dict[str, str]:
                return {"alg": ALG, "kid": call.key.kid, "typ": "JWT"}

            def get_client_claims(self, client: WorkspaceClient) -> dict[str, Any]:
                now = server.provider.clock.now()
                lifetime = server.provider.lifetimes.access_token
                return {
                    "iss": server.issuer,
                    "aud": [client.get_client_id()],
                    "iat": int(now.timestamp()),
                    "exp": int((now + lifetime).timestamp()),
                }

            def exists_nonce(self, nonce: str, request: AioRequest) -> bool:
                return False  # a code is single use, so its nonce is too

            def generate_user_info(self, user: Person, scope: str) -> UserInfo:
                client: WorkspaceClient = call.client
                return server.wait(server.claims(client.client, user.account_id, scope))

            def encode_id_token(self, token: dict[str, Any], request: AioRequest) -> str:
                # The signing key is read from the store for each ID token, so a rotated key
                # signs from its time on every instance without a restart; read once, so the
                # header's kid and the signature are the same key even at the rotation's moment.
                key = server.wait(server.provider.signing_key())
                assert key is not None, "ensure_key runs at start"
                call.key, call.client = key, request.client
                try:
                    return str(super().encode_id_token(token, request))
                finally:
                    call.key = call.client = None

        self._code_grant = Code
        self.register_grant(Code, [S256Only(required=True), Identity(require_nonce=False)])
        self.register_grant(Refresh, [Identity()])
        self.register_token_generator("default", self._tokens)
        server_issuer = issuer

        class Issuer(IssuerParameter):  # type: ignore[misc]
            def get_issuer(self) -> str:
                return server_issuer

        self.register_extension(Issuer())

        class Revocation(RevocationEndpoint):  # type: ignore[misc]
            CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]  # noqa: RUF012

            def query_token(self, token_string: str, token_type_hint: str | None) -> Any:
                return _Revocable(token_string)

            def revoke_token(self, token: _Revocable, request: AioRequest) -> None:
                client: WorkspaceClient = request.client
                server.wait(server.provider.revoke_token(token.value, client.get_client_id()))

        self.register_endpoint(Revocation)

    # --- the loop bridge -----------------------------------------------------------------------

    def wait(self, coro: Coroutine[Any, Any, T]) -> T:
        """From a worker thread: run `coro` on the loop and wait for it."""
        assert self.loop is not None
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(WAIT)

    async def run(self, method: Any, *args: Any, **kwargs: Any) -> Any:
        self.loop = asyncio.get_running_loop()
        return await asyncio.to_thread(method, *args, **kwargs)

    # --- Authlib's framework hooks -------------------------------------------------------------

    def query_client(self, client_id: str) -> WorkspaceClient | None:
        found = self.wait(self.provider.client(client_id))
        return WorkspaceClient(found, self.provider) if found else None

    def save_token(self, token: dict[str, Any], request: AioRequest) -> None:
        refresh = token.get("refresh_token")
        if not refresh:
            return
        person: Person = request.user
        previous: StoredRefresh | None = request.refresh_token
        self.wait(
            self.provider.issue_refresh(
                request.client.get_client_id(),
                person.account_id,
                token["scope"],
                family=previous.family if previous else None,
                token=refresh,
            )
        )

    def create_oauth2_request(self, request: Prepared | AioRequest) -> AioRequest:
        return request if isinstance(request, AioRequest) else AioRequest(request)

    def create_json_request(self, request: Prepared) -> Any:
        # Authlib's hook for endpoints that take a JSON body (dynamic client registration):
        # this provider has none, clients are registered by `accountbot workspace client add`.
        raise TypeError("no endpoint of this provider takes a JSON body")

    def handle_response(self, status: int, body: Any, headers: list[tuple[str, str]]) -> Answer:
        return Answer(status, body, list(headers))

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        pass

    # --- tokens --------------------------------------------------------------------------------

    def _tokens(
        self,
        grant_type: str,
        client: WorkspaceClient,
        user: Person | None = None,
        scope: str | None = None,
        expires_in: int | None = None,
        include_refresh_token: bool = True,
    ) -> dict[str, Any]:
        """An opaque access token (encrypted, authenticated, short-lived) and a refresh token."""
        assert user is not None
        scope = scope or ""
        lifetime = self.provider.lifetimes.access_token
        now = int(self.provider.clock.now().timestamp())
        body = json.dumps({"a": user.account_id, "c": client.get_client_id(), "s": scope})
        token: dict[str, Any] = {
            "token_type": "Bearer",
            "access_token": self._fernet.encrypt_at_time(body.encode(), now).decode(),
            "expires_in": int(lifetime.total_seconds()),
            "scope": scope,
        }
        if include_refresh_token and "openid" in scope.split():
            token["refresh_token"] = secrets.token_urlsafe(32)
        return token

    def read_access_token(self, token: str) -> tuple[int, str, str] | None:
        """(account, client, scope) of a live access token, or None."""
        now = int(self.provider.clock.now().timestamp())
        ttl = int(self.provider.lifetimes.access_token.total_seconds())
        try:
            body = json.loads(self._fernet.decrypt_at_time(token.encode(), ttl, now))
        except (InvalidToken, ValueError):
            return None
        return int(body["a"]), str(body["c"]), str(body["s"])

    # --- claims --------------------------------------------------------------------------------

    async def claims(self, client: Client, account_id: int, scope: str) -> UserInfo:
        """PRODUCT §1.11: email/phone_number only for confirmed bindings, and so verified."""
        scopes = set(scope.split())
        info = UserInfo(sub=self.provider.subject(client, account_id))
        account, bindings = await self.account(account_id)
        if "profile" in scopes and account is not None:
            info["name"] = account
        for binding in bindings:
            if binding.status is not BindingStatus.CONFIRMED:
                continue
            if binding.kind is AddressKind.EMAIL and "email" in scopes:
                info["email"], info["email_verified"] = binding.address, True
            if binding.kind is AddressKind.PHONE and "phone" in scopes:
                info["phone_number"], info["phone_number_verified"] = binding.address, True
        return info

    async def account(self, account_id: int) -> tuple[str | None, list[Binding]]:
        """The account's name and bindings (`web.oidc.routes` sets the reader)."""
        return await self.reader(account_id)


@dataclass(frozen=True)
class _Revocable:
    value: str

    def check_client(self, client: WorkspaceClient) -> bool:
        return True  # `revoke_token` revokes only the caller's own tokens


@dataclass
class Answer:
    """Authlib's response: status, body (a dict for JSON), headers; `location` for redirects."""

    status: int
    body: Any
    headers: list[tuple[str, str]]

    @property
    def location(self) -> str | None:
        return next((v for k, v in self.headers if k.lower() == "location"), None)

    @location.setter
    def location(self, value: str) -> None:
        self.headers = [(k, v) for k, v in self.headers if k.lower() != "location"]
        self.headers.append(("Location", value))
