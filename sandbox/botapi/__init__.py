"""A Telegram Bot API server in memory, with the person's side as a JSON API."""

from sandbox.botapi.server import STATE_KEY, register_botapi
from sandbox.botapi.state import BotAccount, SandboxState

__all__ = ["STATE_KEY", "BotAccount", "SandboxState", "register_botapi"]
