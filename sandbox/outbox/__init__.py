"""The sandbox's SMS outbox: the SMS sender it gives the product, and the page that shows it."""

from sandbox.outbox.pages import register_outbox
from sandbox.outbox.store import SentSms, SmsOutbox

__all__ = ["SentSms", "SmsOutbox", "register_outbox"]
