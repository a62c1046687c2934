"""Letters over SMTP with aiosmtplib: plain, STARTTLS (RFC 3207) or implicit TLS (RFC 8314)."""

from __future__ import annotations

import logging
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr

import aiosmtplib

from core.domain.addresses import mask
from core.errors import Unavailable
from core.ports import Letter
from core.settings import SmtpTls

log = logging.getLogger(__name__)


class SmtpMailer:
    """Sends letters through the operator's SMTP server; any failure becomes `Unavailable`."""

    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        tls: SmtpTls,
        username: str | None = None,
        password: str | None = None,
        timeout: float = 15.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self._host = host
        self._port = port
        self._sender = sender
        self._tls = SmtpTls(tls)
        self._username = username
        self._password = password
        self._timeout = timeout
        self._ssl_context = ssl_context

    async def send(self, letter: Letter) -> None:
        message = self.compose(letter)
        try:
            await aiosmtplib.send(
                message,
                hostname=self._host,
                port=self._port,
                username=self._username,
                password=self._password,
                timeout=self._timeout,
                use_tls=self._tls is SmtpTls.TLS,
                start_tls=self._tls is SmtpTls.STARTTLS,
                tls_context=self._ssl_context,
            )
        except (aiosmtplib.SMTPException, OSError) as exc:
            # The exception text may quote the recipient, so only its kind goes to the log.
            log.warning(
                "SMTP %s:%s refused a letter to %s: %s",
                self._host,
                self._port,
                mask(letter.to),
                type(exc).__name__,
            )
            raise Unavailable("smtp") from exc

    def compose(self, letter: Letter) -> EmailMessage:
        """The MIME message: plain text first, the HTML alternative second (RFC 2046 §5.1.4)."""
        message = EmailMessage()
        message["From"] = self._sender
        message["To"] = letter.to
        message["Subject"] = letter.subject
        message["Date"] = formatdate(localtime=False, usegmt=True)
        message["Message-ID"] = make_msgid(domain=_domain_of(self._sender))
        message.set_content(letter.text)
        message.add_alternative(letter.html, subtype="html")
        return message


def _domain_of(sender: str) -> str:
    _, address = parseaddr(sender)
    domain = address.rpartition("@")[2]
    return domain or "localhost"
