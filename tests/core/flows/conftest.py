"""A whole core wired by `build_services` on SQLite + memory (or PostgreSQL + Redis), with
captured letters and SMS, a clock that moves on demand, and factories for accounts."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from core.adapters.argon2 import Argon2Hasher
from core.adapters.db.engine import Database
from core.adapters.db.migrate import upgrade
from core.bootstrap import Services, build_services
from core.domain.models import AddressKind, SocialProfile
from core.flows.sign_in import TelegramUser
from core.notices import Notice
from core.settings import Settings
from sandbox.mailbox.capture import CapturingMailer
from sandbox.outbox import SmsOutbox
from tests import services as real
from tests.conftest import FakeClock

CODE = re.compile(r"\b(\d{6})\b")
LINK = re.compile(r"(https?://\S+/email/confirm/[\w-]+)")


@dataclass
class RecordingNotifier:
    notices: list[Notice] = field(default_factory=list)

    async def notify(self, notice: Notice) -> None:
        self.notices.append(notice)


@dataclass
class World:
    """The core as the bot and the web server see it, plus what a person would receive."""

    services: Services
    mailer: CapturingMailer
    outbox: SmsOutbox
    notifier: RecordingNotifier
    clock: FakeClock
    next_telegram_id: int = 1000

    def last_code(self, to: str | None = None) -> str:
        """The code in the newest letter or SMS (to one address when given)."""
        texts = [(m.phone, m.text) for m in self.outbox.messages]
        texts += [(letter.to, letter.text) for letter in self.mailer.letters]
        for address, text in reversed(texts):
            if to is None or address == to:
                match = CODE.search(text)
                if match:
                    return match.group(1)
        raise AssertionError(f"no code was sent to {to or 'anyone'}")

    def last_link_token(self) -> str:
        match = LINK.search(self.mailer.letters[-1].text)
        assert match, "the letter has no confirmation link"
        return match.group(1).rsplit("/", 1)[1]

    async def account(
        self,
        *,
        name: str = "Ivan",
        provider: str = "google",
        subject: str | None = None,
        social_email: str | None = None,
        email_verified: bool = False,
        email: str | None = None,
        phone: str | None = None,
        password: str | None = None,
    ) -> tuple[int, int]:
        """A signed-in account (account id, telegram user id) with what was asked for."""
        self.next_telegram_id += 1
        telegram_id = self.next_telegram_id
        person = TelegramUser(telegram_id, name, f"user{telegram_id}", "en")
        link = await self.services.sign_in.create_link(person, provider)
        profile = SocialProfile(
            provider, subject or f"sub-{telegram_id}", name, social_email, email_verified
        )
        result = await self.services.sign_in.complete(link.rsplit("/", 1)[1], profile)
        account_id = result.account_id
        async with self.services.kit.unit() as uow:
            now = self.clock.now()
            if email:
                await uow.bindings.confirm(account_id, AddressKind.EMAIL, email, now)
            if phone:
                await uow.bindings.confirm(account_id, AddressKind.PHONE, phone, now)
            await uow.commit()
        if password:
            await self.services.password.set(account_id, password, "test")
        self.notifier.notices.clear()
        return account_id, telegram_id


def settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "bot_token": "1:test",
        "secret_key": "k" * 40,
        "public_url": "http://127.0.0.1:8080",
        "sms_backend": "outbox",
        "database_url": "sqlite+aiosqlite:///unused.sqlite3",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


FAST_HASHER = Argon2Hasher(memory_kib=1024, time_cost=1, parallelism=1)


async def make_world(clock: FakeClock, database_url: str, **overrides: Any) -> World:
    await upgrade(database_url)
    mailer, outbox, notifier = CapturingMailer(), SmsOutbox(), RecordingNotifier()
    config = settings(database_url=database_url, **overrides.pop("settings", {}))
    services = build_services(
        config,
        clock=clock,
        database=Database(database_url),
        mailer=mailer,
        sms=overrides.pop("sms", outbox),
        hasher=overrides.pop("hasher", FAST_HASHER),
        **overrides,
    )
    services.notifier.target = notifier
    return World(services, mailer, outbox, notifier, clock)


@pytest.fixture
async def world(clock: FakeClock, tmp_path: Any) -> AsyncIterator[World]:
    """The core on SQLite + memory stores."""
    built = await make_world(clock, f"sqlite+aiosqlite:///{tmp_path}/core.sqlite3")
    yield built
    await built.services.close()


@pytest.fixture
async def pg_world(clock: FakeClock, pg_url: str) -> AsyncIterator[World]:
    """The core on PostgreSQL + Redis, both real, on 127.0.0.1."""
    # A prefix of its own: a second suite run on the same Redis (account ids start at 1 in each
    # fresh database) shared the default prefix, and one run's cooldowns refused the other's sends.
    prefix = f"test-{uuid.uuid4().hex[:8]}:"
    settings = {"redis_url": real.redis_url(), "redis_prefix": prefix}
    built = await make_world(clock, pg_url, settings=settings)
    yield built
    redis = built.services.redis
    async for key in redis.scan_iter(match=prefix + "*"):
        await redis.delete(key)
    await built.services.close()
