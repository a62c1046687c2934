"""A Telegram Bot API server in memory, with the person's side as a JSON API."""

from sandbox.botapi.server import STATE_KEY, register_botapi
from sandbox.botapi.state import BotAccount, SandboxState
from sandbox.botapi.storage import restore, save

__all__ = ["STATE_KEY", "BotAccount", "SandboxState", "register_botapi", "restore", "save"]
