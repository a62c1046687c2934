"""PRODUCT §3, hostile input: whatever a Telegram client can send — forged and stale buttons, every
kind of message, edits, forwards, other chats — gets a short answer or is ignored on purpose;
never a traceback, never an effect it should not have.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import traceback
from collections.abc import AsyncGenerator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple, get_args

from aiogram import Bot, Dispatcher
from aiogram.client.session.base import BaseSession
from aiogram.methods import TelegramMethod
from aiogram.types import Chat, ForumTopic, Message, MessageId, Update, User
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from bot.app import build_dispatcher
from bot.states import AWAITING
from sandbox.client import Sandbox
from tests.conftest import FakeClock
from tests.conversation.browser import Browser
from tests.conversation.conftest import browser, sandbox, sign_in, stack
from tests.core.flows.conftest import World, make_world

__all__ = ["browser", "sandbox", "stack"]  # the conversation fixtures, used here too

STALE = "no longer active"


async def test_a_forged_button_is_refused_and_changes_nothing(
    sandbox: Sandbox, browser: Browser
) -> None:
    """`m:signout` on a message that has no such button (issue #10): the person stays signed in."""
    ivan = await sandbox.person("Ivan", language_code="en")
    await sign_in(ivan, browser)
    await ivan.send("/language")
    languages = await ivan.wait_for("Choose the language")

    await ivan.press_data(languages, "m:signout")
    answer = await ivan.wait_for_answer()

    assert STALE in (answer["text"] or "")
    await ivan.send("/me")
    card = await ivan.wait_for("Your account")
    assert "Sign out" in [button.text for row in card.buttons for button in row]


async def test_a_forged_button_on_ones_own_message_and_a_stale_one_are_refused(
    sandbox: Sandbox, browser: Browser
) -> None:
    ivan = await sandbox.person("Ivan", language_code="en")
    await sign_in(ivan, browser)
    card = await ivan.wait_for("Your account")
    own = await ivan.send("hello")
    await ivan.wait_for("did not understand")

    await ivan.press_data(own, "m:signout")
    assert STALE in ((await ivan.wait_for_answer())["text"] or "")
    await ivan.press_data(card, "m:signout", stale=True)  # too old: Telegram hides the message
    assert STALE in ((await ivan.wait_for_answer())["text"] or "")
    await ivan.press_data(card, "m:nonsense")  # data no button of the card has
    assert STALE in ((await ivan.wait_for_answer())["text"] or "")

    await ivan.send("/me")
    await ivan.wait_for("Your account")


async def test_a_real_button_still_works(sandbox: Sandbox, browser: Browser) -> None:
    ivan = await sandbox.person("Ivan", language_code="en")
    await sign_in(ivan, browser)
    card = await ivan.wait_for("Your account")
    await ivan.press_data(card, "m:signout")  # exactly the data the card's button carries
    await ivan.wait_for("You are signed out")


# --- Generated updates at every state --------------------------------------------------------
#
# The dispatcher is fed in-process, with a session that answers every Bot API call at once and
# records it: thousands of updates in about a minute, each at a state set just before it (every
# state of bot/states.py, signed in or not), so every handler and the catch-all are reached.

HOSTILE_UPDATES = int(os.environ.get("HOSTILE_UPDATES", "1000"))  # `make reliability`: 10000
SUPPORT_CHAT = -100_777
GROUP, SUPERGROUP, CHANNEL = -4_001, -100_4002, -100_4003
STATES: list[str | None] = [None, *sorted(AWAITING)]
DATA = {  # what the flows remember on the way to their steps
    "address": "ivan.petrov@example.com",
    "phone": "+79161234567",
    "taken_kind": "email",
    "taken_address": "taken@example.com",
    "release_total": 4,
    "recover_kind": "email",
    "first_name": "Ivan",
}
COMMANDS = [
    "/start",
    "/start bind_email",
    "/start nonsense",
    "/me",
    "/cancel",
    "/help",
    "/recover",
    "/language",
    "/support",
    "/end",
    "/unknown",
    "/start@other_bot",
]
CALLBACK_DATA = [
    *(
        f"m:{a}"
        for a in (
            "card",
            "email",
            "phone",
            "password",
            "support",
            "unbind_email",
            "unbind_phone",
            "recover",
            "language",
            "signout",
            "nonsense",
        )
    ),
    *(
        f"s:{f}:{c}"
        for f in ("email", "phone", "recover", "release", "taken", "unbind")
        for c in ("resend", "back", "change", "yes", "no", "email", "phone", "all", "none", "1")
    ),
    "l:ru",
    "l:en",
    "l:xx",
    "m",
    "s:",
    "s:a:b:c",
    "",
]


def texts_() -> st.SearchStrategy[str]:
    every_category = st.characters(exclude_categories=["Cs"])  # surrogates cannot be sent
    return st.one_of(
        st.sampled_from(COMMANDS),
        st.text(every_category, min_size=1, max_size=40),
        st.text(every_category, min_size=3000, max_size=4096),
        st.from_regex(r"\A[0-9]{6}\Z"),
        st.from_regex(r"\A\+7 ?9[0-9]{2} ?[0-9]{3}-?[0-9]{2}-?[0-9]{2}\Z"),
        st.emails(),
        st.sampled_from(
            [
                "kettle under the violet moon",
                "password123",
                "x" * 4096,
                "123 456",
                "\u202e\u200b",
                "<b>bold</b>",
                "@everyone",
                "‮",
            ]
        ),
    ).filter(lambda t: bool(t.strip()))


def file_(kind: str) -> dict[str, Any]:
    base: dict[str, Any] = {"file_id": f"F{kind}", "file_unique_id": f"U{kind}"}
    sizes = {"width": 320, "height": 240}
    extra: dict[str, dict[str, Any]] = {
        "voice": {"duration": 1},
        "audio": {"duration": 1},
        "video": {"duration": 1, **sizes},
        "video_note": {"duration": 1, "length": 240},
        "animation": {"duration": 1, **sizes},
        "document": {},
        "sticker": {"type": "regular", "is_animated": False, "is_video": False, **sizes},
    }
    return {**base, **extra[kind]}


def media_(person: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    location = {"latitude": 55.75, "longitude": 37.61}
    poll = {
        "id": "p1",
        "question": "?",
        "total_voter_count": 0,
        "is_closed": False,
        "is_anonymous": True,
        "type": "regular",
        "allows_multiple_answers": False,
        "allows_revoting": False,
        "members_only": False,
        "options": [
            {"persistent_id": "0", "text": "a", "voter_count": 0},
            {"persistent_id": "1", "text": "b", "voter_count": 0},
        ],
    }
    own = {"phone_number": "+79161234567", "first_name": "Ivan", "user_id": person["id"]}
    photo = [{"file_id": "Fp", "file_unique_id": "Up", "width": 1, "height": 1}]
    fixed = [
        {"photo": photo},
        {"photo": photo, "caption": "kettle under the violet moon"},
        {"location": location},
        {"venue": {"location": location, "title": "t", "address": "a"}},
        {"contact": own},
        {"contact": {"phone_number": "+79161110000", "first_name": "Someone"}},
        {"contact": {"phone_number": "+79161110000", "first_name": "X", "user_id": 42}},
        {"poll": poll},
        {"dice": {"emoji": "🎲", "value": 3}},
        *(
            {kind: file_(kind)}
            for kind in (
                "voice",
                "audio",
                "video",
                "video_note",
                "animation",
                "document",
                "sticker",
            )
        ),
    ]
    return st.one_of(st.sampled_from(fixed), texts_().map(lambda t: {"text": t}))


class Case(NamedTuple):
    person: int  # 0: an account with email and password, 1: a bare account, 2: a stranger
    state: str | None
    kind: str
    chat: str
    content: dict[str, Any]
    data: str
    button: str  # how the callback's message relates to its data


@st.composite
def cases(draw: st.DrawFn) -> Case:
    person = draw(st.integers(0, 2))
    who = {"id": 1_000 + person}
    kind = draw(
        st.sampled_from(
            ["message"] * 6
            + ["edited_message", "forwarded", "callback_query"] * 2
            + ["channel_post", "edited_channel_post", "poll_answer", "my_chat_member"]
        )
    )
    chat = draw(st.sampled_from(["private"] * 8 + ["group", "supergroup", "support"]))
    data = draw(
        st.one_of(
            st.sampled_from(CALLBACK_DATA),
            st.text(min_size=1, max_size=64).filter(lambda d: len(d.encode()) <= 64),
        )
    )
    return Case(
        person,
        draw(st.sampled_from(STATES)),
        kind,
        chat,
        draw(media_(who)),
        data,
        draw(st.sampled_from(["carried", "forged", "stale", "inline"])),
    )


class AnsweringSession(BaseSession):
    """A Bot API that answers every call at once and remembers it."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[TelegramMethod[Any]] = []
        self.ids = itertools.count(10_000)

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[Any],
        timeout: int | None = None,  # noqa: ASYNC109 (aiogram's signature)
    ) -> Any:
        self.calls.append(method)
        returning = method.__returning__
        options = get_args(returning) or (returning,)
        if Message in options:
            chat_id = int(getattr(method, "chat_id", 0) or 0)
            chat = Chat(id=chat_id, type="private" if chat_id > 0 else "supergroup")
            return Message(
                message_id=next(self.ids),
                date=datetime.now(UTC),
                chat=chat,
                text=getattr(method, "text", None),
            )
        if bool in options:
            return True
        if returning is User:
            return User(id=bot.id, is_bot=True, first_name="Bot", username="account_bot")
        if returning is MessageId:
            return MessageId(message_id=next(self.ids))
        if returning is ForumTopic:
            return ForumTopic(message_thread_id=next(self.ids), name="topic", icon_color=0)
        raise NotImplementedError(type(method).__name__)

    async def close(self) -> None:
        return None

    async def stream_content(self, *args: Any, **kwargs: Any) -> AsyncGenerator[bytes, None]:
        raise NotImplementedError
        yield b""  # pragma: no cover


class Errors(logging.Handler):
    """Every ERROR record of any logger, and whether a traceback came with it."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.ERROR:
            self.records.append(record)


def described(record: logging.LogRecord) -> str:
    """The logger, the message, and where the error came from (no secrets: generated input)."""
    error = record.exc_info[1] if record.exc_info else None
    if error is None:
        return f"{record.name}: {record.getMessage()}"
    frame = traceback.extract_tb(error.__traceback__)[-1]
    return f"{record.name}: {record.getMessage()}: {error!r} at {frame.filename}:{frame.lineno}"


class Hostile:
    """One bot, three people, the updates fed one by one, and what came of each."""

    def __init__(self, world: World, bot: Bot, dp: Dispatcher, session: AnsweringSession) -> None:
        self.world, self.bot, self.dp, self.session = world, bot, dp, session
        self.people: list[int] = []
        self.update_ids = itertools.count(1)
        self.fed = 0
        self.unanswered: list[tuple[Case, str]] = []
        self.spoken_in_wrong_chats: list[tuple[Case, str]] = []
        self.crashed: list[tuple[Case, str]] = []

    @classmethod
    async def make(cls, folder: Path) -> Hostile:
        url = f"sqlite+aiosqlite:///{folder}/hostile.sqlite3"
        world = await make_world(
            FakeClock(), url, settings={"support_chat_id": SUPPORT_CHAT, "dev_idp_enabled": True}
        )
        session = AnsweringSession()
        bot = Bot("1:hostile", session=session)
        dp, _i18n = build_dispatcher(world.services, bot)
        hostile = cls(world, bot, dp, session)
        _, first = await world.account(
            name="Ivan", email="ivan@example.com", password="kettle under the violet moon"
        )
        _, second = await world.account(name="Olga")
        hostile.people = [first, second, 9_999_999]
        return hostile

    def user(self, case: Case) -> dict[str, Any]:
        uid = self.people[case.person]
        return {"id": uid, "is_bot": False, "first_name": "Ivan", "language_code": "en"}

    def chat(self, case: Case) -> dict[str, Any]:
        if case.chat == "private":
            return {"id": self.people[case.person], "type": "private", "first_name": "Ivan"}
        ids = {"group": GROUP, "supergroup": SUPERGROUP, "support": SUPPORT_CHAT}
        kind = "group" if case.chat == "group" else "supergroup"
        return {
            "id": ids[case.chat],
            "type": kind,
            "title": case.chat,
            **({"is_forum": True} if case.chat == "support" else {}),
        }

    def update(self, case: Case) -> tuple[dict[str, Any], int | None]:
        """The update, and the private chat that must hear something (None: ignored on purpose)."""
        now = int(datetime.now(UTC).timestamp())
        user, chat = self.user(case), self.chat(case)
        private = chat["id"] if chat["type"] == "private" else None
        message = {
            "message_id": next(self.update_ids),
            "date": now,
            "chat": chat,
            "from": user,
            **case.content,
        }
        match case.kind:
            case "message":
                return {"message": message}, private
            case "edited_message":
                return {"edited_message": {**message, "edit_date": now}}, private
            case "forwarded":
                origin = {"type": "hidden_user", "sender_user_name": "Someone", "date": now}
                return {"message": {**message, "forward_origin": origin}}, private
            case "channel_post" | "edited_channel_post":
                channel = {"id": CHANNEL, "type": "channel", "title": "News"}
                post = {**message, "chat": channel, "sender_chat": channel}
                post.pop("from")
                return {case.kind: post}, None
            case "poll_answer":
                answer = {
                    "poll_id": "p1",
                    "user": user,
                    "option_ids": [0],
                    "option_persistent_ids": ["0"],
                }
                return {"poll_answer": answer}, None
            case "my_chat_member":
                me = {"id": self.bot.id, "is_bot": True, "first_name": "Bot"}
                change = {
                    "chat": chat,
                    "from": user,
                    "date": now,
                    "old_chat_member": {"status": "member", "user": me},
                    "new_chat_member": {"status": "kicked", "user": me, "until_date": 0},
                }
                return {"my_chat_member": change}, None
        return {"callback_query": self.callback(case, message, user)}, private

    def callback(self, case: Case, message: dict[str, Any], user: dict[str, Any]) -> dict[str, Any]:
        query: dict[str, Any] = {
            "id": str(next(self.update_ids)),
            "from": user,
            "chat_instance": "ci",
            "data": case.data or None,
        }
        bot_message = {
            **message,
            "from": {"id": self.bot.id, "is_bot": True, "first_name": "B"},
            "text": "Your account",
        }
        for key in (
            "photo",
            "caption",
            "location",
            "venue",
            "contact",
            "poll",
            "dice",
            "voice",
            "audio",
            "video",
            "video_note",
            "animation",
            "document",
            "sticker",
        ):
            bot_message.pop(key, None)
        if case.button == "carried" and case.data:
            button = {"text": "b", "callback_data": case.data}
            query["message"] = {**bot_message, "reply_markup": {"inline_keyboard": [[button]]}}
        elif case.button == "forged":
            button = {"text": "b", "callback_data": "m:card"}
            query["message"] = {**bot_message, "reply_markup": {"inline_keyboard": [[button]]}}
        elif case.button == "stale":
            query["message"] = {"chat": bot_message["chat"], "message_id": 1, "date": 0}
        else:
            query["inline_message_id"] = "inline-1"
        if query["data"] is None:
            query.pop("data")
        return query

    async def feed(self, case: Case) -> None:
        uid = self.people[case.person]
        state = self.dp.fsm.get_context(self.bot, uid, uid)
        await state.set_state(case.state)
        await state.set_data(DATA if case.state else {})
        payload, must_answer = self.update(case)
        update = Update.model_validate(
            {"update_id": next(self.update_ids), **payload}, context={"bot": self.bot}
        )
        before = len(self.session.calls)
        try:
            await self.dp.feed_update(self.bot, update)
        except Exception as error:  # the dispatcher let something through: a crash
            self.crashed.append((case, repr(error)))
        self.fed += 1
        calls = self.session.calls[before:]
        chats = {getattr(call, "chat_id", None) for call in calls}
        if must_answer is not None and not calls:
            self.unanswered.append((case, type(update.event).__name__))
        wrong = chats & {GROUP, SUPERGROUP, CHANNEL}
        if wrong:
            self.spoken_in_wrong_chats.append((case, str(wrong)))

    async def close(self) -> None:
        await self.dp.fsm.close()
        await self.world.services.close()


def test_generated_updates_at_every_state_are_answered_or_ignored_never_crash(
    tmp_path: Path,
) -> None:
    errors = Errors()
    root = logging.getLogger()
    root.addHandler(errors)
    try:
        with asyncio.Runner() as runner:
            hostile = runner.run(Hostile.make(tmp_path))
            errors.records.clear()  # only what the updates cause

            @settings(
                max_examples=HOSTILE_UPDATES,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
                phases=[Phase.generate],
            )
            @given(case=cases())
            def one(case: Case) -> None:
                runner.run(hostile.feed(case))

            one()
            runner.run(hostile.close())
    finally:
        root.removeHandler(errors)

    print(f"hostile updates fed: {hostile.fed}, errors logged: {len(errors.records)}")
    for found in sorted({described(r) for r in errors.records}):
        print("  ", found)
    assert hostile.fed >= HOSTILE_UPDATES
    assert hostile.crashed == []
    assert [described(r) for r in errors.records] == []
    assert hostile.unanswered == []
    assert hostile.spoken_in_wrong_chats == []
