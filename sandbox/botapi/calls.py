"""One Bot API call in flight, and the helpers every sending method shares."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sandbox.botapi.errors import ApiError, bad_request
from sandbox.botapi.formatting import detect_entities, parse_html
from sandbox.botapi.keyboards import apply_reply_keyboard, check_markup
from sandbox.botapi.markdown import parse_markdown, parse_markdown_v2
from sandbox.botapi.models import Chat, Dialog, Message
from sandbox.botapi.params import Params
from sandbox.botapi.state import BotAccount, SandboxState

MAX_TEXT = 4096
MAX_CAPTION = 1024


@dataclass
class Call:
    """The state, the calling bot and its parameters."""

    state: SandboxState
    bot: BotAccount
    params: Params

    def target(self, name: str = "chat_id") -> tuple[Chat, Dialog]:
        """The chat a bot writes to, refused as Telegram refuses it."""
        chat = self.state.chat(self.params.required_str(name))
        dialog = self.state.dialog(self.bot, chat)
        if chat.type == "private" and dialog.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        if chat.type == "private" and not dialog.started:
            raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
        if chat.type != "private" and chat.members.get(self.bot.id) in (None, "left", "kicked"):
            raise ApiError(403, "Forbidden: bot is not a member of the supergroup chat")
        return chat, dialog

    def thread(self, chat: Chat) -> int | None:
        thread_id = self.params.integer("message_thread_id")
        if thread_id is None:
            return None
        topic = chat.topics.get(thread_id)
        if topic is None or topic.deleted:
            raise bad_request("message thread not found")
        return thread_id

    def spend_flood(self, chat: Chat, cost: int = 1) -> None:
        """Count `cost` messages (sent or edited) against the flood limits, or refuse with 429
        before anything changed."""
        if self.state.flood_limits:
            now = self.state.now().timestamp()
            self.state.flood.check(self.bot.id, chat.id, chat.type != "private", now, cost)

    def formatted(self, text_name: str, entities_name: str) -> tuple[str, list[dict[str, Any]]]:
        """Text and entities after the parse mode, as Telegram stores them: a mention by id
        carries the user, and one of a user the sandbox does not know is left out."""
        text, entities = parse_text(
            self.params.text(text_name) or "",
            self.params.text("parse_mode") or "",
            self.params.obj(entities_name),
            entities_name,
        )
        kept = []
        for entity in entities:
            if entity["type"] == "text_mention":
                user = self.state.users.get(int((entity.get("user") or {}).get("id", 0)))
                if user is None:
                    continue
                entity = {**entity, "user": user.to_api()}
            kept.append(entity)
        return text, kept

    def message_text(self) -> tuple[str, list[dict[str, Any]]]:
        text, entities = self.formatted("text", "entities")
        if not text.strip():
            raise bad_request("message text is empty")
        if len(text) > MAX_TEXT:
            raise bad_request("message is too long")
        return text, entities

    def caption(self) -> tuple[str | None, list[dict[str, Any]]]:
        text, entities = self.formatted("caption", "caption_entities")
        if len(text) > MAX_CAPTION:
            raise bad_request("message caption is too long")
        return (text or None), entities

    def markup(self, chat: Chat) -> dict[str, Any] | None:
        return check_markup(self.params.obj("reply_markup"), private=chat.type == "private")

    def reply_to(self, dialog: Dialog) -> Message | None:
        """The message named by reply_parameters (or the older reply_to_message_id)."""
        parameters = self.params.obj("reply_parameters") or {}
        message_id = parameters.get("message_id") or self.params.integer("reply_to_message_id")
        if not message_id:
            return None
        replied = dialog.messages.get(int(message_id))
        if replied is None or replied.deleted:
            if parameters.get("allow_sending_without_reply"):
                return None
            raise bad_request("message to be replied not found")
        return replied

    def post(self, chat: Chat, dialog: Dialog, **fields: Any) -> Message:
        """Store a message from the bot; the person's page sees it at once."""
        fields.setdefault("reply_to", self.reply_to(dialog))
        message = Message(
            message_id=dialog.take_message_id(),
            chat=chat,
            sender=self.bot.user,
            date=self.state.now(),
            protect_content=self.params.flag("protect_content"),
            **fields,
        )
        dialog.messages[message.message_id] = message
        apply_reply_keyboard(dialog, message.reply_markup)
        dialog.action = None
        self.state.touch(message)
        return message


PARSERS = {"html": parse_html, "markdownv2": parse_markdown_v2, "markdown": parse_markdown}


def parse_text(
    raw: str, mode: str, entities: Any, entities_name: str = "entities"
) -> tuple[str, list[dict[str, Any]]]:
    """A text after its parse mode (HTML, MarkdownV2, Markdown), or with the entities given, or
    plain with the entities Telegram detects by itself."""
    if mode:
        parser = PARSERS.get(mode.lower())
        if parser is None:
            raise bad_request("unsupported parse_mode")
        return parser(raw)
    if entities is None:
        return raw, detect_entities(raw)
    if not isinstance(entities, list) or not all(map(_is_entity, entities)):
        raise bad_request(f"can't parse {entities_name}")
    return raw, entities


def _is_entity(entity: object) -> bool:
    return (
        isinstance(entity, dict)
        and isinstance(entity.get("type"), str)
        and isinstance(entity.get("offset"), int)
        and isinstance(entity.get("length"), int)
    )


Handler = Callable[[Call], Awaitable[Any]]


def registrar(table: dict[str, Handler]) -> Callable[[Handler], Handler]:
    """A decorator that lists a method's handler in `table` under its Bot API name, matched
    case-insensitively: `send_message` serves sendMessage."""

    def register(handler: Handler) -> Handler:
        table[handler.__name__.replace("_", "")] = handler
        return handler

    return register
