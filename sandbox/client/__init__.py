"""A test client shaped like a person (and a support agent) talking to the sandbox."""

from sandbox.client.agent import Agent
from sandbox.client.api import Sandbox
from sandbox.client.browser import OpenedPage
from sandbox.client.messages import Button, ChatMessage, SandboxError
from sandbox.client.person import Person

__all__ = ["Agent", "Button", "ChatMessage", "OpenedPage", "Person", "Sandbox", "SandboxError"]
