"""The person's side: buttons, callback answers, Web App data, contacts, media, edits."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from aiogram.types import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    MenuButtonWebApp,
    ReplyKeyboardMarkup,
    WebAppInfo,
)
from aiogram.utils.web_app import safe_parse_webapp_init_data

from sandbox.client import SandboxError
from tests.sandbox.conftest import Running

TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"


def inline(*buttons: InlineKeyboardButton) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[list(buttons)])


async def test_a_deep_link_arrives_as_a_start_command(running: Running) -> None:
    person = await running.sandbox.person()
    await person.start("ref-42")
    message = (await running.bot.get_updates(timeout=0))[0].message
    assert message is not None
    assert message.text == "/start ref-42"
    assert [(e.type, e.offset, e.length) for e in message.entities or []] == [("bot_command", 0, 6)]


async def test_a_press_is_a_callback_the_bot_answers_once(running: Running) -> None:
    person = await running.started_person()
    markup = inline(InlineKeyboardButton(text="Confirm", callback_data="confirm:1"))
    sent = await running.bot.send_message(person.id, "Sure?", reply_markup=markup)
    await person.press("Confirm")
    query = (await running.bot.get_updates(timeout=0))[-1].callback_query
    assert query is not None
    assert (query.data, query.from_user.id, query.message.message_id) == (  # type: ignore[union-attr]
        "confirm:1",
        person.id,
        sent.message_id,
    )
    await running.bot.answer_callback_query(query.id, text="Done", show_alert=True)
    answer = await person.wait_for_answer()
    assert (answer["text"], answer["show_alert"]) == ("Done", True)
    assert await person.callback_answer() == answer
    with pytest.raises(TelegramBadRequest) as twice:
        await running.bot.answer_callback_query(query.id)
    assert twice.value.message == TOO_OLD


async def test_a_url_button_gives_its_address(running: Running) -> None:
    person = await running.started_person()
    markup = inline(InlineKeyboardButton(text="Open", url="https://example.org/x"))
    await running.bot.send_message(person.id, "Link", reply_markup=markup)
    assert await person.press("Open") == "https://example.org/x"


async def test_web_app_data_is_signed_with_the_bot_token(running: Running) -> None:
    person = await running.started_person("Wendy")
    app = WebAppInfo(url="https://app.example/password")
    await running.bot.send_message(
        person.id, "Set it", reply_markup=inline(InlineKeyboardButton(text="Go", web_app=app))
    )
    url = await person.press("Go")
    assert url is not None
    assert url.startswith("https://app.example/password#")
    init_data = parse_qs(urlsplit(url).fragment)["tgWebAppData"][0]
    parsed = safe_parse_webapp_init_data(running.bot.token, init_data)
    assert parsed.user is not None
    assert (parsed.user.id, parsed.user.first_name) == (person.id, "Wendy")
    with pytest.raises(ValueError, match="Invalid init data signature"):
        safe_parse_webapp_init_data("123456789:another-token", init_data)


async def test_pressing_a_missing_button_is_an_error(running: Running) -> None:
    person = await running.started_person()
    with pytest.raises(SandboxError, match="no button"):
        await person.press("Nowhere")


async def test_the_contact_button_shares_the_persons_own_number(running: Running) -> None:
    person = await running.started_person()
    keyboard = ReplyKeyboardMarkup(keyboard=[[KeyboardButton(text="Share", request_contact=True)]])
    await running.bot.send_message(person.id, "Number?", reply_markup=keyboard)
    await person.press("Share")
    contact = (await running.bot.get_updates(timeout=0))[-1].message.contact  # type: ignore[union-attr]
    assert contact is not None
    assert contact.user_id == person.id
    assert contact.phone_number == person.data["phone_number"]


async def test_someone_elses_contact_has_no_user_id(running: Running) -> None:
    person = await running.started_person()
    await person.share_contact("+447700900555", first_name="Friend")
    contact = (await running.bot.get_updates(timeout=0))[-1].message.contact  # type: ignore[union-attr]
    assert contact is not None
    assert (contact.phone_number, contact.user_id) == ("+447700900555", None)


async def test_stickers_photos_and_documents_reach_the_bot(running: Running) -> None:
    person = await running.started_person()
    await person.send_sticker("🙂")
    await person.send_photo(caption="me")
    await person.send_document(content="hello", file_name="a.txt")
    messages = [u.message for u in await running.bot.get_updates(timeout=0) if u.message]
    assert messages[0].sticker is not None
    assert messages[0].sticker.emoji == "🙂"
    assert messages[1].photo is not None
    assert messages[1].caption == "me"
    assert messages[2].document is not None
    assert messages[2].document.file_name == "a.txt"


async def test_an_edit_by_the_person_is_an_edited_message(running: Running) -> None:
    person = await running.started_person()
    sent = await person.send("typo")
    await person.edit(sent, "fixed")
    update = (await running.bot.get_updates(timeout=0))[-1]
    assert update.edited_message is not None
    assert (update.edited_message.message_id, update.edited_message.text) == (sent, "fixed")


async def test_a_forward_carries_its_origin(running: Running) -> None:
    friend = await running.sandbox.person("Friend")
    person = await running.started_person()
    await person.forward("their code", from_person=friend)
    await person.forward("hidden", from_name="Ghost")
    messages = [u.message for u in await running.bot.get_updates(timeout=0) if u.message]
    origins = [m.forward_origin for m in messages]
    assert origins[0].sender_user.id == friend.id  # type: ignore[union-attr]
    assert origins[1].sender_user_name == "Ghost"  # type: ignore[union-attr]


async def test_several_people_have_separate_chats(running: Running) -> None:
    alice = await running.started_person("Alice")
    bob = await running.started_person("Bob")
    await running.bot.send_message(alice.id, "for Alice")
    await running.bot.send_message(bob.id, "for Bob")
    assert [m.text for m in await alice.messages() if m.from_bot] == ["for Alice"]
    assert [m.text for m in await bob.messages() if m.from_bot] == ["for Bob"]


async def test_wait_for_sees_a_bot_reply_that_comes_later(running: Running) -> None:
    person = await running.started_person()
    await person.send("ping")
    await running.bot.send_message(person.id, "pong")
    found = await person.wait_for("pong", timeout=2)
    assert found.text == "pong"
    with pytest.raises(TimeoutError):
        await person.wait_for("never", timeout=0.3)


async def test_a_blocked_bot_cannot_write_until_the_person_returns(running: Running) -> None:
    person = await running.started_person()
    await running.sandbox.call("POST", f"people/{person.id}/block", blocked=True)
    with pytest.raises(TelegramForbiddenError, match="Forbidden: bot was blocked by the user"):
        await running.bot.send_message(person.id, "still there?")
    await person.send("/start")
    await running.bot.send_message(person.id, "welcome back")


async def test_a_web_app_menu_button_opens_with_signed_data(running: Running) -> None:
    person = await running.started_person()
    app = WebAppInfo(url="https://app.example/menu")
    await running.bot.set_chat_menu_button(
        menu_button=MenuButtonWebApp(text="Account", web_app=app)
    )
    url = await person.press("Account")
    assert url is not None
    init_data = parse_qs(urlsplit(url).fragment)["tgWebAppData"][0]
    assert safe_parse_webapp_init_data(running.bot.token, init_data).user is not None


async def test_links_to_scripts_are_not_shown_as_links(running: Running) -> None:
    person = await running.started_person()
    await running.bot.send_message(
        person.id, '<a href="javascript:alert(1)">click</a>', parse_mode="HTML"
    )
    shown = await person.last_message()
    assert shown is not None
    assert "javascript" not in shown.html
    assert 'href="#"' in shown.html


async def test_a_callback_answer_over_200_characters_is_refused(running: Running) -> None:
    person = await running.started_person()
    markup = inline(InlineKeyboardButton(text="Go", callback_data="go"))
    await running.bot.send_message(person.id, "Tap", reply_markup=markup)
    await person.press("Go")
    query = (await running.bot.get_updates(timeout=0))[-1].callback_query
    assert query is not None
    with pytest.raises(TelegramBadRequest, match="MESSAGE_TOO_LONG"):
        await running.bot.answer_callback_query(query.id, text="x" * 201)
    await running.bot.answer_callback_query(query.id, text="ok")


async def test_waiting_for_an_answer_that_never_comes_times_out(running: Running) -> None:
    person = await running.started_person()
    markup = inline(InlineKeyboardButton(text="Go", callback_data="go"))
    await running.bot.send_message(person.id, "Tap", reply_markup=markup)
    await person.press("Go")
    with pytest.raises(TimeoutError, match="did not answer"):
        await person.wait_for_answer(timeout=0.2)


async def test_any_callback_data_can_be_sent_on_a_message_as_a_modified_client_can(
    running: Running,
) -> None:
    person = await running.started_person()
    markup = inline(InlineKeyboardButton(text="Confirm", callback_data="confirm:1"))
    sent = await running.bot.send_message(person.id, "Sure?", reply_markup=markup)
    await person.press_data(sent.message_id, "m:signout")
    query = (await running.bot.get_updates(timeout=0))[-1].callback_query
    assert query is not None
    assert query.data == "m:signout"
    assert query.message is not None and query.message.message_id == sent.message_id
    await running.bot.answer_callback_query(query.id, text="No")
    assert (await person.wait_for_answer())["text"] == "No"


async def test_a_stale_callback_comes_with_an_inaccessible_message(running: Running) -> None:
    from aiogram.types import InaccessibleMessage

    person = await running.started_person()
    sent = await running.bot.send_message(person.id, "Old")
    await person.press_data(sent.message_id, "m:card", stale=True)
    query = (await running.bot.get_updates(timeout=0))[-1].callback_query
    assert query is not None
    assert isinstance(query.message, InaccessibleMessage)
    assert query.message.message_id == sent.message_id
    with pytest.raises(SandboxError, match="BUTTON_DATA_INVALID"):
        await person.press_data(sent.message_id, "x" * 65)


@pytest.mark.parametrize("kind", ["voice", "audio", "video", "video_note", "animation"])
async def test_a_person_sends_voice_audio_video_and_animations(running: Running, kind: str) -> None:
    person = await running.started_person()
    await person.send_media(kind)
    message = (await running.bot.get_updates(timeout=0))[-1].message
    assert message is not None
    assert getattr(message, kind) is not None


async def test_a_person_sends_a_location_a_venue_a_poll_and_a_dice(running: Running) -> None:
    person = await running.started_person()
    await person.send_location(59.93, 30.33)
    await person.send_location(title="Hermitage")
    await person.send_poll("Tea?", ("Yes", "No", "Later"))
    await person.send_dice()
    messages = [u.message for u in await running.bot.get_updates(timeout=0)][-4:]
    assert all(m is not None for m in messages)
    location, venue, poll, dice = messages
    assert location is not None and location.location is not None
    assert location.location.latitude == pytest.approx(59.93)
    assert venue is not None and venue.venue is not None and venue.venue.title == "Hermitage"
    assert poll is not None and poll.poll is not None
    assert [o.text for o in poll.poll.options] == ["Yes", "No", "Later"]
    assert dice is not None and dice.dice is not None


async def test_a_poll_answer_arrives_without_a_chat(running: Running) -> None:
    person = await running.started_person()
    await person.answer_poll("poll-1", (1,))
    answer = (await running.bot.get_updates(timeout=0))[-1].poll_answer
    assert answer is not None
    assert (answer.poll_id, answer.option_ids) == ("poll-1", [1])
    assert answer.user is not None and answer.user.id == person.id
