"""The sandbox's SMS outbox: the page that shows every text message the project sent."""

from sandbox.outbox.pages import register_outbox

__all__ = ["register_outbox"]
