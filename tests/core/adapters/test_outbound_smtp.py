"""The SMTP mailer against a real aiosmtpd server on 127.0.0.1: plain, STARTTLS, implicit TLS."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from core.adapters.smtp import SmtpMailer
from core.errors import Unavailable
from core.ports import Letter
from core.settings import SmtpTls
from tests.ports import free_port

SENDER = "Account assistant <no-reply@example.test>"
LETTER = Letter(
    to="ivan@example.org",
    subject="Confirm your email",
    text="Your code: 123456",
    html="<p>Your code: <b>123456</b></p>",
)


@dataclass
class Inbox:
    """An aiosmtpd handler that keeps what it receives."""

    messages: list[EmailMessage] = field(default_factory=list)
    recipients: list[str] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.recipients.extend(envelope.rcpt_tos)
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted"


@dataclass(frozen=True)
class Tls:
    server: ssl.SSLContext
    client: ssl.SSLContext


@pytest.fixture
def tls(tmp_path: Path) -> Tls:
    """A self-signed certificate for 127.0.0.1, trusted by the client context only."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert_path, key_path)
    return Tls(server=server, client=ssl.create_default_context(cafile=str(cert_path)))


@pytest.fixture
def serve() -> Iterator[Any]:
    """Starts aiosmtpd servers on free ports; each is stopped after the test."""
    controllers: list[Controller] = []

    def start(inbox: Inbox, **kwargs: Any) -> int:
        port = free_port()
        controller = Controller(inbox, hostname="127.0.0.1", port=port, **kwargs)
        controller.start()
        controllers.append(controller)
        return port

    yield start
    for controller in controllers:
        controller.stop()


def assert_delivered(inbox: Inbox) -> None:
    assert inbox.recipients == ["ivan@example.org"]
    [message] = inbox.messages
    assert message["To"] == "ivan@example.org"
    assert message["From"] == SENDER
    assert message["Subject"] == "Confirm your email"
    assert message["Message-ID"].endswith("@example.test>")
    assert message["Date"]
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None
    assert html is not None
    assert "123456" in text.get_content()
    assert "<b>123456</b>" in html.get_content()


async def test_plain_smtp_delivers_text_and_html(serve: Any) -> None:
    inbox = Inbox()
    port = serve(inbox)
    await SmtpMailer("127.0.0.1", port, SENDER, SmtpTls.NONE).send(LETTER)
    assert_delivered(inbox)


async def test_starttls_with_login_delivers_the_letter(serve: Any, tls: Tls) -> None:
    logins: list[tuple[bytes, bytes]] = []

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
        assert isinstance(data, LoginPassword)
        logins.append((data.login, data.password))
        return AuthResult(success=data.password == b"s3cret", handled=False)

    inbox = Inbox()
    port = serve(
        inbox,
        tls_context=tls.server,
        require_starttls=True,
        auth_required=True,
        authenticator=authenticator,
    )
    mailer = SmtpMailer(
        "127.0.0.1",
        port,
        SENDER,
        SmtpTls.STARTTLS,
        username="mailer",
        password="s3cret",
        ssl_context=tls.client,
    )
    await mailer.send(LETTER)
    assert_delivered(inbox)
    assert logins == [(b"mailer", b"s3cret")]


async def test_implicit_tls_delivers_the_letter(serve: Any, tls: Tls) -> None:
    inbox = Inbox()
    port = serve(inbox, ssl_context=tls.server)
    await SmtpMailer("127.0.0.1", port, SENDER, SmtpTls.TLS, ssl_context=tls.client).send(LETTER)
    assert_delivered(inbox)


async def test_wrong_smtp_password_is_unavailable(serve: Any, tls: Tls) -> None:
    def authenticator(*_: Any) -> AuthResult:
        return AuthResult(success=False, handled=False)

    port = serve(Inbox(), tls_context=tls.server, auth_required=True, authenticator=authenticator)
    mailer = SmtpMailer(
        "127.0.0.1", port, SENDER, SmtpTls.STARTTLS, "mailer", "wrong", ssl_context=tls.client
    )
    with pytest.raises(Unavailable):
        await mailer.send(LETTER)


async def test_untrusted_certificate_is_unavailable(serve: Any, tls: Tls) -> None:
    port = serve(Inbox(), ssl_context=tls.server)
    with pytest.raises(Unavailable):
        await SmtpMailer("127.0.0.1", port, SENDER, SmtpTls.TLS, timeout=5).send(LETTER)


async def test_stopped_server_is_unavailable_and_the_log_masks_the_recipient(
    caplog: pytest.LogCaptureFixture,
) -> None:
    mailer = SmtpMailer("127.0.0.1", free_port(), SENDER, SmtpTls.NONE, timeout=5)
    with pytest.raises(Unavailable):
        await mailer.send(LETTER)
    assert "i***@example.org" in caplog.text
    assert "ivan@example.org" not in caplog.text


async def test_starttls_never_falls_back_to_plain_text(serve: Any, tls: Tls) -> None:
    inbox = Inbox()
    port = serve(inbox)  # a server that does not offer STARTTLS
    mailer = SmtpMailer("127.0.0.1", port, SENDER, SmtpTls.STARTTLS, ssl_context=tls.client)
    with pytest.raises(Unavailable):
        await mailer.send(LETTER)
    assert inbox.messages == []
