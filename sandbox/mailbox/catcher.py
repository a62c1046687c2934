"""The SMTP catcher: aiosmtpd on the running event loop; letters kept in memory and on disk."""

from __future__ import annotations

import asyncio
import secrets
import weakref
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

from sandbox.mailbox.letters import CaughtLetter, parse, stamp

# aiosmtpd asks the resolver for the machine's name otherwise, which can stall for seconds.
HOSTNAME = "mailbox.sandbox.local"


def _now() -> datetime:
    return datetime.now(UTC)


class Mailbox:
    """Catches every letter sent to it over SMTP; nothing is delivered anywhere."""

    def __init__(self, data_dir: Path | None = None, *, now: Callable[[], datetime] = _now):
        self._data_dir = data_dir
        self._now = now
        self._letters: list[CaughtLetter] = self._load() if data_dir else []
        self._server: asyncio.Server | None = None
        self._sessions: weakref.WeakSet[SMTP] = weakref.WeakSet()

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        """Starts listening on the running loop; returns the port (useful with port 0)."""
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(self._new_session, host, port)
        return int(self._server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        """Stops listening and hangs up on any client still connected."""
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        for session in list(self._sessions):
            if session.transport is not None:
                session.transport.close()
        await server.wait_closed()
        # Lets the hung-up sessions run their connection_lost before the loop moves on.
        await asyncio.sleep(0)

    def letters(self, to: str | None = None) -> list[CaughtLetter]:
        """Caught letters, newest first; only those for one address when `to` is given."""
        if to is None:
            return list(self._letters)
        return [letter for letter in self._letters if letter.is_for(to)]

    def letter(self, letter_id: str) -> CaughtLetter | None:
        return next((letter for letter in self._letters if letter.id == letter_id), None)

    # The name is the one aiosmtpd calls for the DATA command.
    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        received_at = self._now()
        letter_id = f"{received_at:%Y%m%d-%H%M%S-%f}-{secrets.token_hex(3)}"
        raw = stamp(_content(envelope), list(envelope.rcpt_tos), received_at)
        letter = parse(letter_id, raw)
        if self._data_dir is not None:
            await asyncio.to_thread(self._save, letter_id, raw)
        self._letters.insert(0, letter)
        return "250 Message accepted for delivery"

    def _new_session(self) -> SMTP:
        session = SMTP(
            self,
            hostname=HOSTNAME,
            enable_SMTPUTF8=True,
            loop=asyncio.get_running_loop(),
        )
        self._sessions.add(session)
        return session

    def _save(self, letter_id: str, raw: bytes) -> None:
        assert self._data_dir is not None
        self._data_dir.mkdir(parents=True, exist_ok=True)
        # Written aside and renamed, so a crash never leaves half a letter behind.
        partial = self._data_dir / f"{letter_id}.eml.part"
        partial.write_bytes(raw)
        partial.replace(self._data_dir / f"{letter_id}.eml")

    def _load(self) -> list[CaughtLetter]:
        assert self._data_dir is not None
        if not self._data_dir.is_dir():
            return []
        letters = [parse(path.stem, path.read_bytes()) for path in self._data_dir.glob("*.eml")]
        return sorted(letters, key=lambda letter: (letter.received_at, letter.id), reverse=True)


def _content(envelope: Envelope) -> bytes:
    content: Any = envelope.original_content or envelope.content or b""
    return content if isinstance(content, bytes) else str(content).encode()
