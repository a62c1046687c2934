"""Sending a letter to the sandbox's Mailbox over real SMTP, as the project's mailer would."""

from __future__ import annotations

from email.message import EmailMessage

import aiosmtplib

SENDER = "Account assistant <no-reply@example.test>"


async def send_letter(port: int, *, to: str, subject: str, text: str, html: str = "") -> None:
    """A plain-text letter with an HTML alternative, sent to 127.0.0.1:port."""
    message = EmailMessage()
    message["From"] = SENDER
    message["To"] = to
    message["Subject"] = subject
    message.set_content(text)
    if html:
        message.add_alternative(html, subtype="html")
    await aiosmtplib.send(message, hostname="127.0.0.1", port=port, start_tls=False)
