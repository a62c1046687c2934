"""PRODUCT §3, races: one address bound by many accounts at once, one account in two Telegram chats
acting at once, and every button tapped twice at once — one effect, no error to the person.

Driven through the sandbox on both storage pairs; on PostgreSQL + Redis the bot handles
different chats truly concurrently.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable

import aiohttp
import sqlalchemy as sa

from sandbox.client import ChatMessage, Person, Sandbox
from sandbox.stack import SandboxStack
from tests.conversation.browser import Browser
from tests.conversation.conftest import browser, code_in, sandbox, sign_in, stack

__all__ = ["browser", "sandbox", "stack"]  # the conversation fixtures, used here too

RACERS = int(os.environ.get("RACERS", "4"))  # accounts racing for one address (`make reliability`)
ADDRESS = "shared@example.com"
TROUBLE = ("Something went wrong", "temporarily unavailable")
WAIT = 20.0


async def person_signed_in(sandbox: Sandbox, name: str) -> Person:
    """A person with their own account (a Dev ID subject per name)."""
    person = await sandbox.person(name.split()[0], language_code="en")
    own = Browser()
    try:
        await sign_in(person, own, name=name)
    finally:
        await own.close()
    return person


def either(*texts: str) -> Callable[[ChatMessage], bool]:
    return lambda message: any(text in (message.text or "") for text in texts)


async def no_trouble(person: Person) -> None:
    troubled = [m.text for m in await person.messages() if m.from_bot and either(*TROUBLE)(m)]
    assert troubled == []


async def confirmed(stack: SandboxStack, address: str) -> int:
    engine = stack.services.database.engine
    async with engine.connect() as conn:
        found = await conn.execute(
            sa.text("SELECT count(*) FROM bindings WHERE address = :a AND status = 'confirmed'"),
            {"a": address},
        )
        return int(found.scalar_one())


async def test_one_address_bound_by_many_accounts_at_once_goes_to_exactly_one(
    sandbox: Sandbox, stack: SandboxStack
) -> None:
    people = [await person_signed_in(sandbox, f"Racer{n} Petrov") for n in range(RACERS)]
    codes = []
    for person in people:  # pending claims block nobody: every racer gets a letter
        await person.press("Bind email")
        await person.wait_for("Send the email address")
        await person.send(ADDRESS)
        await person.wait_for("Create a password")
        await person.send(f"kettle under the violet moon {person.id}")
        await person.wait_for("I sent a letter")
        codes.append(code_in(stack.mailbox.letters(to=ADDRESS)[0].text))

    await asyncio.gather(*(p.send(code) for p, code in zip(people, codes, strict=True)))
    outcomes = await asyncio.gather(
        *(p.wait_for(either("Email bound", "already exists"), timeout=WAIT) for p in people)
    )

    bound = [o for o in outcomes if "Email bound" in (o.text or "")]
    assert len(bound) == 1
    assert await confirmed(stack, ADDRESS) == 1
    for person in people:
        await no_trouble(person)


async def can_sign_in(stack: SandboxStack, login: str, password: str) -> bool:
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            stack.url + "/auth/login", json={"login": login, "password": password}
        ) as answer,
    ):
        return answer.status == 200


async def test_one_account_in_two_chats_acting_at_once(
    sandbox: Sandbox, stack: SandboxStack
) -> None:
    """The same Dev ID subject signs in from two Telegram accounts: one account, two chats, both
    changing the password at the same moment: both hear it is saved, and exactly one works."""
    phone_chat = await person_signed_in(sandbox, "Ivan Twochats")
    laptop_chat = await person_signed_in(sandbox, "Ivan Twochats")
    account_id = await stack.services.account.account_for(phone_chat.id)
    assert account_id is not None
    assert account_id == await stack.services.account.account_for(laptop_chat.id)
    await bind_email(stack, phone_chat, "ivan.two@example.com", "the first password of ivan")
    passwords = {phone_chat: "seven lanterns over harbour", laptop_chat: "kettle under the moon"}
    for chat in passwords:
        card = await fresh_card(chat)
        await chat.press("Change password", message_id=card.message_id)
        await chat.wait_for("Create a password")

    await asyncio.gather(*(chat.send(password) for chat, password in passwords.items()))
    for chat in passwords:
        await chat.wait_for("Password saved", timeout=WAIT)

    login = "ivan.two@example.com"
    works = [p for p in passwords.values() if await can_sign_in(stack, login, p)]
    assert len(works) == 1  # the later of the two, never a mixture, never both
    assert not await can_sign_in(stack, login, "the first password of ivan")
    for chat in passwords:
        await no_trouble(chat)


async def bind_email(stack: SandboxStack, person: Person, address: str, password: str) -> None:
    await person.press("Bind email")
    await person.wait_for("Send the email address")
    await person.send(address)
    await person.wait_for("Create a password")
    await person.send(password)
    await person.wait_for("I sent a letter")
    await person.send(code_in(stack.mailbox.letters(to=address)[0].text))
    await person.wait_for("Email bound")


async def answered(stack: SandboxStack, *query_ids: str) -> None:
    """Both taps were handled to the end: the bot answered each query (its handler is done)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT
    while not all(stack.state.queries[q].answered for q in query_ids):
        assert loop.time() < deadline, "the bot did not answer every tap"
        await asyncio.sleep(0.02)


async def new_bot_messages(person: Person, since: int) -> list[ChatMessage]:
    return [m for m in await person.messages() if m.from_bot and m.message_id > since]


async def fresh_card(person: Person, command: str = "/me") -> ChatMessage:
    """/me ends any step and shows the card (the last tap's handling is over: `answered`);
    /end leaves the support conversation with the card."""
    await person.send(command)
    return await person.wait_for("Your account")


async def tap(
    stack: SandboxStack, person: Person, card: ChatMessage, text: str, times: int
) -> list[ChatMessage]:
    """Tap the card's button `text` `times` at once; the bot's new messages once all are handled."""
    data = next(b.value for row in card.buttons for b in row if b.text == text)
    queries = await asyncio.gather(*(person.press_data(card, data) for _ in range(times)))
    await answered(stack, *queries)
    return await new_bot_messages(person, card.message_id)


# Every button of a newcomer's card (no "Create password" before a login is bound, PRODUCT §1.2).
CARD_BUTTONS = ["Bind email", "Bind phone", "Language", "Support", "Delete account", "Sign out"]


async def test_a_double_tap_on_every_card_button_has_one_effect(
    sandbox: Sandbox, stack: SandboxStack
) -> None:
    ivan = await person_signed_in(sandbox, "Ivan Doubletap")
    after = "/me"
    for text in CARD_BUTTONS:
        once = [m.text for m in await tap(stack, ivan, await fresh_card(ivan, after), text, 1)]
        if text == "Sign out":
            await sign_in_again(ivan)
        after = "/end" if text == "Support" else "/me"
        twice = [m.text for m in await tap(stack, ivan, await fresh_card(ivan, after), text, 2)]
        assert twice == once, text
    await no_trouble(ivan)


async def sign_in_again(person: Person) -> None:
    own = Browser()
    try:
        await sign_in(person, own, name="Ivan Doubletap")
    finally:
        await own.close()


def has_button(text: str) -> Callable[[ChatMessage], bool]:
    return lambda message: any(b.text == text for row in message.buttons for b in row)


FLOW_BUTTONS = ["Send the code again", "The code is not arriving", "Change the address", "« Back"]


async def at_the_code_step(person: Person, address: str) -> ChatMessage:
    card = await fresh_card(person)
    await person.press("Bind email", message_id=card.message_id)
    await person.wait_for("Send the email address")
    await person.send(address)
    step = await person.wait_for(either("Create a password", "Send the code again"))
    if "Create a password" in (step.text or ""):
        await person.send("kettle under the violet moon")
    return await person.wait_for(has_button("Send the code again"))


async def test_a_double_tap_on_every_button_of_the_email_flow_has_one_effect(
    sandbox: Sandbox, stack: SandboxStack
) -> None:
    """Once by one person, twice at once by another (the resend cooldown is per account)."""
    for n, text in enumerate(FLOW_BUTTONS):
        results = []
        for times in (1, 2):
            name = f"Flow{n}x{times}"
            person = await person_signed_in(sandbox, f"{name} Petrov")
            address = f"flow.{n}.{times}@example.com"
            step = await at_the_code_step(person, address)
            letters = len(stack.mailbox.letters(to=address))
            tapped = await tap(stack, person, step, text, times)
            said = [(m.text or "").replace(name, "NAME") for m in tapped]
            results.append((said, len(stack.mailbox.letters(to=address)) - letters))
            await no_trouble(person)
        assert results[1] == results[0], text
