"""A caught letter: the raw message as the SMTP client sent it, parsed with the stdlib."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import getaddresses, parsedate_to_datetime
from typing import Any

# The envelope is not part of the message, so it travels as headers we add in front of it:
# this way one .eml file holds everything a restart needs.
RECEIVED_HEADER = "X-Sandbox-Received-At"
RECIPIENTS_HEADER = "X-Sandbox-Envelope-To"


@dataclass(frozen=True)
class CaughtLetter:
    """A letter the sandbox's SMTP catcher received."""

    id: str
    sender: str
    to: str
    recipients: tuple[str, ...]
    subject: str
    date: datetime | None
    text: str
    html: str
    received_at: datetime

    def is_for(self, address: str) -> bool:
        """True when the address is one of the recipients: letter case does not matter, nor
        whether a domain is written in Unicode (почта.рф) or in its ASCII form (xn--…)."""
        wanted = address_key(address)
        return any(wanted == address_key(recipient) for recipient in self.recipients)

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "from": self.sender,
            "to": self.to,
            "recipients": list(self.recipients),
            "subject": self.subject,
            "date": self.date.isoformat() if self.date else None,
            "text": self.text,
            "html": self.html,
            "received_at": self.received_at.isoformat(),
        }


def unicode_domain(address: str) -> str:
    """An address with its domain as people read it: ivan@xn--80a1acny.xn--p1ai is
    ivan@почта.рф."""
    local, at, domain = address.strip().rpartition("@")
    if not at:
        return address.strip()
    try:
        readable = domain.encode("ascii").decode("idna")
    except UnicodeError:  # already Unicode, or not a valid IDNA name: as it was written
        readable = domain
    return f"{local}@{readable}"


def address_key(address: str) -> str:
    """What two spellings of one address share: Unicode domain, letter case folded."""
    return unicode_domain(address).casefold()


def stamp(raw: bytes, recipients: list[str], received_at: datetime) -> bytes:
    """The raw message with the envelope's recipients and the arrival time in front; UTF-8, as
    an SMTPUTF8 envelope may hold an internationalized address."""
    head = (
        f"{RECEIVED_HEADER}: {received_at.isoformat()}\r\n"
        f"{RECIPIENTS_HEADER}: {', '.join(recipients)}\r\n"
    )
    return head.encode("utf-8") + raw


def parse(letter_id: str, raw: bytes) -> CaughtLetter:
    """Reads a stamped message (see `stamp`) into a CaughtLetter."""
    message = message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    to = _header(message, "To")
    envelope = _addresses(_header(message, RECIPIENTS_HEADER)) or _addresses(to)
    recipients = [unicode_domain(address) for address in envelope]
    return CaughtLetter(
        id=letter_id,
        sender=_header(message, "From"),
        # A letter sent as Bcc has no To header; the envelope still says whom it reached.
        to=to or ", ".join(recipients),
        recipients=tuple(recipients),
        subject=_header(message, "Subject"),
        date=_date(_header(message, "Date")),
        text=_body(message, "plain"),
        html=_body(message, "html"),
        received_at=_received_at(_header(message, RECEIVED_HEADER)),
    )


def _header(message: EmailMessage, name: str) -> str:
    value = message.get(name)
    return str(value) if value is not None else ""


def _addresses(value: str) -> list[str]:
    return [address for _, address in getaddresses([value]) if address]


def _body(message: EmailMessage, subtype: str) -> str:
    part = message.get_body(preferencelist=(subtype,))
    if part is None or part.get_content_type() != f"text/{subtype}":
        return ""
    try:
        content = part.get_content()
    except (LookupError, UnicodeError):
        # A charset Python does not know: show what can be read rather than lose the letter.
        payload = part.get_payload(decode=True)
        content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    return content if isinstance(content, str) else ""


def _date(value: str) -> datetime | None:
    try:
        return parsedate_to_datetime(value) if value else None
    except (TypeError, ValueError):
        return None


def _received_at(value: str) -> datetime:
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        # A file dropped into the folder by hand: it has no stamp, so it sorts as oldest.
        return datetime.fromtimestamp(0, UTC)
