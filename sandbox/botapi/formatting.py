"""Message text: Telegram's HTML parse mode to entities, entity detection, and safe HTML out."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from typing import Any

from aiogram.types import MessageEntity
from aiogram.utils.text_decorations import HtmlDecoration

from sandbox.botapi.errors import bad_request

SIMPLE_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "code": "code",
    "pre": "pre",
    "tg-spoiler": "spoiler",
    "blockquote": "blockquote",
}
SAFE_SCHEMES = ("http://", "https://", "tg://", "mailto:")
DETECTED = (
    ("bot_command", re.compile(r"(?<![\w/])/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?(?![\w@/])")),
    ("url", re.compile(r"https?://[^\s<>\"]+")),
    ("mention", re.compile(r"(?<![\w@/])@[A-Za-z0-9_]{5,32}")),
)


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


class _TelegramHtml(HTMLParser):
    """Collects plain text and entities from the subset of HTML Telegram accepts."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.position = 0
        self.open: list[tuple[str, dict[str, Any]]] = []
        self.entities: list[dict[str, Any]] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)
        self.position += utf16_len(data)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {key: value or "" for key, value in attrs}
        entity = self._entity_for(tag, values)
        if entity is None:
            raise bad_request(f'can\'t parse entities: Unsupported start tag "{tag}"')
        self.open.append((tag, {**entity, "offset": self.position}))

    def _entity_for(self, tag: str, attrs: dict[str, str]) -> dict[str, Any] | None:
        if tag == "a":
            return {"type": "text_link", "url": attrs.get("href", "")}
        if tag == "span" and attrs.get("class") == "tg-spoiler":
            return {"type": "spoiler"}
        if tag == "tg-emoji":
            return {"type": "custom_emoji", "custom_emoji_id": attrs.get("emoji-id", "")}
        if tag == "blockquote" and "expandable" in attrs:
            return {"type": "expandable_blockquote"}
        if tag == "code" and attrs.get("class", "").startswith("language-"):
            return {"type": "code", "language": attrs["class"].removeprefix("language-")}
        if tag in SIMPLE_TAGS:
            return {"type": SIMPLE_TAGS[tag]}
        return None

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1][0] != tag:
            expected = f', expected "</{self.open[-1][0]}>"' if self.open else ""
            raise bad_request(
                f'can\'t parse entities: Unmatched end tag{expected}, found "</{tag}>"'
            )
        _, entity = self.open.pop()
        entity["length"] = self.position - entity["offset"]
        language = entity.pop("language", None) if entity["type"] == "code" else None
        outer = self.open[-1][1] if self.open else None
        if language and outer is not None and outer["type"] == "pre":
            # <pre><code class="language-x"> is one pre entity with a language.
            outer["language"] = language
            return
        if entity["length"] > 0:
            self.entities.append(entity)

    def close(self) -> None:
        super().close()
        if self.open:
            tag = self.open[-1][0]
            raise bad_request(
                f"can't parse entities: Can't find end tag corresponding to start tag \"{tag}\""
            )


def parse_html(source: str) -> tuple[str, list[dict[str, Any]]]:
    """Telegram's HTML parse mode: the plain text and its entities, or Telegram's error."""
    parser = _TelegramHtml()
    parser.feed(source)
    parser.close()
    entities = sorted(parser.entities, key=lambda e: (e["offset"], -e["length"]))
    return "".join(parser.parts), entities


def detect_entities(text: str) -> list[dict[str, Any]]:
    """The entities Telegram finds by itself in plain text: commands, links, mentions."""
    found = []
    for kind, pattern in DETECTED:
        for match in pattern.finditer(text):
            offset = utf16_len(text[: match.start()])
            found.append({"type": kind, "offset": offset, "length": utf16_len(match.group())})
    return sorted(found, key=lambda e: e["offset"])


def safe_url(url: str) -> str:
    """A link target a page can show: known schemes only, quoted for an attribute."""
    return html.escape(url if url.lower().startswith(SAFE_SCHEMES) else "#", quote=True)


class _SafeHtml(HtmlDecoration):
    """aiogram's entity-to-HTML with every attribute value escaped and links checked."""

    def link(self, value: str, link: str) -> str:
        return f'<a href="{safe_url(link)}" target="_blank" rel="noopener">{value}</a>'

    def pre_language(self, value: str, language: str) -> str:
        return self.pre(value)

    def custom_emoji(self, value: str, custom_emoji_id: str) -> str:
        return value


def to_safe_html(text: str, entities: list[dict[str, Any]]) -> str:
    """Text with its entities as HTML from a whitelist; everything else escaped."""
    parsed = [MessageEntity.model_validate(entity) for entity in entities]
    return _SafeHtml().unparse(text, parsed)
