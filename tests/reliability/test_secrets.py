"""PRODUCT §3.10, secrets: a run on PostgreSQL + Redis — sign in, bind an email by code and another
by link, bind a phone, a password typed in the chat and one on the secure page, recovery, a support
handoff — and then every log line (all loggers, DEBUG), letter, SMS, support-chat message,
database row and Redis value is searched for every password, code and link token of the run.

The only place a secret may be is the one letter or SMS that carries it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import sqlalchemy as sa

from sandbox.client import Agent, Person, Sandbox
from sandbox.stack import SandboxStack
from tests.conversation.browser import Browser
from tests.conversation.conftest import browser, code_in, running_stack, sign_in_at_provider

__all__ = ["browser"]  # the conversation fixture, used here too

CHAT_PASSWORD = "kettle under the violet moon"
PAGE_PASSWORD = "seven lanterns over a quiet harbour"
RECOVERED_PASSWORD = "a heron waits by the cold river"
FIRST, SECOND = "ivan.first@example.com", "ivan.second@example.com"
PHONE = "+44 7911 123456"
LINK = re.compile(r"https?://\S+")
STANDARD = set(vars(logging.makeLogRecord({})))  # attributes every record has


class Everything(logging.Handler):
    """Every record of every logger, with its extras and traceback, as text."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.plain = logging.Formatter()

    def emit(self, record: logging.LogRecord) -> None:
        extras = {k: v for k, v in vars(record).items() if k not in STANDARD}
        text = f"{record.name} {record.levelname} {record.getMessage()} {extras}"
        if record.exc_info:
            text += " " + self.plain.formatException(record.exc_info)
        self.lines.append(text)


@contextmanager
def every_log_line() -> Iterator[Everything]:
    handler = Everything()
    root = logging.getLogger()
    was = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(was)


def tokens_in(url: str) -> set[str]:
    """The one-time parts of a link: long path segments and query values."""
    parts = urlsplit(url)
    found = {segment for segment in parts.path.split("/") if len(segment) >= 16}
    found |= {value for _key, value in parse_qsl(parts.query) if len(value) >= 16}
    return found


class Run:
    """What the test typed and read: the secrets, and where each may be."""

    def __init__(self, stack: SandboxStack) -> None:
        self.stack = stack
        self.secrets: dict[str, str] = {}  # secret -> what it is
        self.carriers: dict[str, str] = {}  # secret -> the letter/SMS text allowed to hold it

    def secret(self, value: str, what: str, carrier: str | None = None) -> str:
        self.secrets[value] = what
        if carrier is not None:
            self.carriers[value] = carrier
        return value

    def letter_code(self, address: str, what: str) -> str:
        letter = self.stack.mailbox.letters(to=address)[0]
        carrier = letter_text(letter)
        for url in LINK.findall(letter.text):
            for token in tokens_in(url):
                self.secret(token, f"link token in {what}", carrier)
        return self.secret(code_in(letter.text), what, carrier)

    def letter_link(self, address: str) -> str:
        letter = self.stack.mailbox.letters(to=address)[0]
        self.letter_code(address, "email code (link letter)")
        return str(next(url for url in LINK.findall(letter.text) if "/email/confirm/" in url))

    def sms_code(self, what: str) -> str:
        sms = self.stack.outbox.messages[-1]
        return self.secret(code_in(sms.text), what, sms.text)

    def link(self, url: str, what: str) -> str:
        for token in tokens_in(url):
            self.secret(token, what)
        return url


def appears(secret: str, text: str) -> bool:
    """A code as a number of its own (not six digits inside an id or a timestamp's fraction)."""
    if secret.isdigit():
        return re.search(rf"(?<![\w.:]){secret}(?!\w)", text) is not None
    return secret in text


def letter_text(letter: Any) -> str:
    return f"{letter.subject}\n{letter.text}\n{letter.html}"


async def full_run(run: Run, sandbox: Sandbox, browser: Browser) -> Person:
    stack = run.stack
    ivan = await sandbox.person("Ivan", language_code="en")
    run.link(await sign_in_at_provider(ivan, browser, name="Ivan Petrov"), "sign-in link")
    await ivan.wait_for("Your account")

    # An email by code, with the password typed in the chat.
    await ivan.press("Bind email")
    await ivan.wait_for("Send the email address")
    await ivan.send(FIRST)
    await ivan.wait_for("Create a password")
    run.link(str(await ivan.press("🔒 Create password on a secure page")), "secure page link")
    await ivan.send(run.secret(CHAT_PASSWORD, "password typed in the chat"))
    await ivan.wait_for("I sent a letter")
    await ivan.send(run.letter_code(FIRST, "email code"))
    await ivan.wait_for("Email bound")

    # Another email by the link in the letter.
    await ivan.press("Change email")
    await ivan.wait_for("Send the email address")
    await ivan.send(SECOND)
    await ivan.wait_for("I sent a letter")
    await browser.open(run.letter_link(SECOND))
    await browser.submit()
    await ivan.wait_for("Email bound")

    # A phone by SMS.
    await ivan.press("Bind phone")
    await ivan.wait_for("Step 1")
    await ivan.send(PHONE)
    await ivan.wait_for("I sent a 6-digit code")
    await ivan.send(run.sms_code("SMS code"))
    await ivan.wait_for("Phone bound")

    # A password on the secure page.
    await ivan.press("Change password")
    await ivan.wait_for("Create a password")
    page = run.link(str(await ivan.press("🔒 Create password on a secure page")), "secure page")
    await browser.open(page)
    run.secret(PAGE_PASSWORD, "password on the secure page")
    await browser.submit(password=PAGE_PASSWORD, repeat=PAGE_PASSWORD)
    await ivan.wait_for("The password is saved")

    # Recovery by the email code.
    await ivan.send("/recover")
    await ivan.wait_for("Where should I send the recovery code?")
    await ivan.press(next(b for b in await buttons(ivan) if b.startswith("Email")))
    await ivan.wait_for("I sent a recovery code")
    await ivan.send(run.letter_code(SECOND, "recovery code"))
    await ivan.wait_for("Now send the new password")
    await ivan.send(run.secret(RECOVERED_PASSWORD, "recovered password"))
    await ivan.wait_for("Password changed")

    # A support handoff: the agent sees the person's card and recent messages.
    await ivan.press("Support")
    await ivan.wait_for("passed our conversation to a person from support")
    await ivan.send("I cannot find my settings")
    agent = await desk_agent(sandbox, stack)
    await agent.wait_for("I cannot find my settings")
    await ivan.send("/end")
    await ivan.wait_for("You have left the conversation with support")
    await ivan.settled()
    return ivan


async def buttons(person: Person) -> list[str]:
    last = await person.last_message()
    return [b.text for row in (last.buttons if last else []) for b in row]


async def desk_agent(sandbox: Sandbox, stack: SandboxStack) -> Agent:
    group_id = stack.services.settings.support_chat_id
    assert group_id is not None
    groups = await sandbox.call("GET", "groups")
    group = next(g for g in groups if g["id"] == group_id)
    member = next(m["user"] for m in group["members"] if not m["user"]["is_bot"])
    return Agent(sandbox, member, group_id)


async def database_rows(stack: SandboxStack) -> AsyncIterator[tuple[str, str]]:
    engine = stack.services.database.engine
    async with engine.connect() as conn:
        tables = await conn.execute(
            sa.text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        )
        for (table,) in tables.all():
            rows = await conn.execute(sa.text(f'SELECT * FROM "{table}"'))  # noqa: S608
            for row in rows.all():
                yield f"database row of {table}", " ".join(map(str, row))


async def redis_values(stack: SandboxStack) -> AsyncIterator[tuple[str, str]]:
    redis = stack.services.redis
    async for key in redis.scan_iter(match=stack.services.settings.redis_prefix + "*"):
        kind = (await redis.type(key)).decode()
        if kind == "string":
            value: Any = await redis.get(key)
        elif kind == "hash":
            value = await redis.hgetall(key)
        elif kind == "list":
            value = await redis.lrange(key, 0, -1)
        elif kind == "set":
            value = await redis.smembers(key)
        elif kind == "zset":
            value = await redis.zrange(key, 0, -1, withscores=True)
        else:
            value = kind
        yield f"Redis {key.decode()}", f"{key.decode()} {value!r}"


# The sandbox's SMTP stand-in (aiosmtpd) logs, at DEBUG, every line of DATA it receives: that is
# the letter itself, on the mailbox's side of SMTP (in production: the operator's mail server).
THE_LETTER_ARRIVING = "mail.log "


async def everywhere(stack: SandboxStack, logs: Everything) -> list[tuple[str, str]]:
    found = [("log", line) for line in logs.lines if not line.startswith(THE_LETTER_ARRIVING)]
    found += [("letter", letter_text(letter)) for letter in stack.mailbox.letters()]
    found += [("SMS", sms.text) for sms in stack.outbox.messages]
    group_id = stack.services.settings.support_chat_id
    for (_bot, chat_id), dialog in stack.state.dialogs.items():
        if chat_id == group_id:
            for message in dialog.messages.values():
                texts = [message.text, message.caption, *message.history]
                found.append(("support chat", " ".join(t for t in texts if t)))
    found += [item async for item in database_rows(stack)]
    found += [item async for item in redis_values(stack)]
    return found


async def test_no_password_code_or_token_outside_the_letter_or_sms_that_carries_it(
    tmp_path: Path, browser: Browser
) -> None:
    with every_log_line() as logs:
        async with running_stack(
            "postgres+redis", tmp_path / "sandbox", resend_cooldown=0
        ) as stack:
            async with Sandbox(stack.url) as sandbox:
                run = Run(stack)
                await full_run(run, sandbox, browser)
                places = await everywhere(stack, logs)

    assert len(run.secrets) >= 12, run.secrets  # 3 passwords, 4 codes, link tokens
    assert any(source == "log" for source, _ in places)
    leaks = sorted(
        {
            f"{run.secrets[secret]} in {source}: {text[:200]!r}"
            for source, text in places
            for secret in run.secrets
            if appears(secret, text) and text != run.carriers.get(secret)
        }
    )
    print(f"secrets: {len(run.secrets)}, places searched: {len(places)}, found: {len(leaks)}")
    for leak in leaks:
        print("  ", leak)
    assert leaks == []
