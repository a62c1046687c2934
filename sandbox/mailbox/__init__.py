"""The sandbox's Mailbox: an SMTP catcher and the pages that show what it caught."""

from sandbox.mailbox.catcher import Mailbox
from sandbox.mailbox.letters import CaughtLetter
from sandbox.mailbox.pages import register_mailbox

__all__ = ["CaughtLetter", "Mailbox", "register_mailbox"]
