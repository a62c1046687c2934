"""A test client shaped like a person (and a support agent) talking to the sandbox."""

from sandbox.client.agent import Agent
from sandbox.client.api import Sandbox, SandboxError
from sandbox.client.messages import Button, ChatMessage
from sandbox.client.person import Person

__all__ = ["Agent", "Button", "ChatMessage", "Person", "Sandbox", "SandboxError"]
