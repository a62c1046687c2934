"""Telegram's Markdown and MarkdownV2 parse modes: plain text and entities, or Telegram's refusal.

As the Bot API's "Formatting options" define them. Entity offsets and lengths count UTF-16 code
units, as everywhere in the Bot API; the refusals name UTF-8 byte offsets of the source, as
Telegram's do ("Can't find end of Bold entity at byte offset 0").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sandbox.botapi.errors import ApiError, bad_request
from sandbox.botapi.formatting import utf16_len

# MarkdownV2: "In all other places characters '_', '*', '[', ']', '(', ')', '~', '`', '>',
# '#', '+', '-', '=', '|', '{', '}', '.', '!' must be escaped with the preceding character '\'."
RESERVED = frozenset("_*[]()~`>#+-=|{}.!")
# How Telegram names an entity in "Can't find end of <Name> entity at byte offset N".
NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "code": "Code",
    "pre": "Pre",
    "text_link": "TextUrl",
    "custom_emoji": "CustomEmoji",
}
MARKERS = {"*": "bold", "_": "italic", "__": "underline", "~": "strikethrough", "||": "spoiler"}


def refused(reason: str) -> ApiError:
    return bad_request(f"can't parse entities: {reason}")


@dataclass
class _Open:
    kind: str
    offset: int  # in the text, UTF-16 units
    byte: int  # in the source, UTF-8 bytes
    extra: dict[str, Any] = field(default_factory=dict)
    part: int = 0  # the text's pieces before it opened


class _Text:
    """The plain text being built, with its length in UTF-16 units."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.length = 0

    def add(self, piece: str) -> None:
        self.parts.append(piece)
        self.length += utf16_len(piece)

    def value(self) -> str:
        return "".join(self.parts)


def _byte(source: str, index: int) -> int:
    return len(source[:index].encode("utf-8"))


def _entity(kind: str, offset: int, end: int, **extra: Any) -> dict[str, Any] | None:
    if end <= offset:
        return None  # Telegram drops empty entities
    return {"type": kind, "offset": offset, "length": end - offset, **extra}


def _sorted(entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(entities, key=lambda e: (e["offset"], -e["length"]))


# --- MarkdownV2 --------------------------------------------------------------------------------


def parse_markdown_v2(source: str) -> tuple[str, list[dict[str, Any]]]:
    """MarkdownV2: nested entities, everything reserved escaped with a backslash."""
    return _MarkdownV2(source).parse()


class _MarkdownV2:
    def __init__(self, source: str) -> None:
        self.source = source
        self.text = _Text()
        self.open: list[_Open] = []
        self.entities: list[dict[str, Any]] = []
        self.quote: _Open | None = None

    def parse(self) -> tuple[str, list[dict[str, Any]]]:
        source, i = self.source, 0
        while i < len(source):
            char = source[i]
            after_marker = self._quote_start(i) if i == 0 or source[i - 1] == "\n" else 0
            if after_marker:
                i = after_marker
                continue
            if char == "\\" and i + 1 < len(source) and 0 < ord(source[i + 1]) < 127:
                self.text.add(source[i + 1])
                i += 2
            elif char == "\n" and self.quote is not None and not source.startswith(">", i + 1):
                self._close_quote()
                self.text.add(char)
                i += 1
            elif char == "`":
                i = self._code(i)
            elif char == "[" or source.startswith("![", i):
                here, pieces = _byte(source, i), len(self.text.parts)
                opened = _Open("link", self.text.length, here, part=pieces)
                opened.extra["emoji"] = char == "!"
                self.open.append(opened)
                i += 2 if char == "!" else 1
            elif char == "]" and self.open and self.open[-1].kind == "link":
                i = self._link_end(i)
            elif char == "|" and source.startswith("||", i) and self._ends_quote(i):
                self._close_quote()
                i += 2
            elif char in "*_~|":
                i = self._marker(i)
            elif char in RESERVED:
                raise refused(
                    f"Character '{char}' is reserved and must be escaped with the preceding '\\'"
                )
            else:
                self.text.add(char)
                i += 1
        if self.open:
            last = self.open[-1]
            name = "TextUrl" if last.kind == "link" else NAMES[last.kind]
            raise refused(f"Can't find end of {name} entity at byte offset {last.byte}")
        if self.quote is not None:
            self._close_quote()
        return self.text.value(), _sorted(self.entities)

    def _quote_start(self, i: int) -> int:
        """Where the text starts after a line's quote marker (">" or "**>"), or 0."""
        if self.source.startswith("**>", i) and self.quote is None:
            self.quote = _Open("expandable_blockquote", self.text.length, _byte(self.source, i))
            return i + 3
        if self.source.startswith(">", i):
            if self.quote is None:
                self.quote = _Open("blockquote", self.text.length, _byte(self.source, i))
            return i + 1
        return 0

    def _ends_quote(self, i: int) -> bool:
        """ "||" at the end of an expandable quotation's last line closes it."""
        after = self.source[i + 2 : i + 3]
        top_is_spoiler = bool(self.open) and self.open[-1].kind == "spoiler"
        return (
            self.quote is not None
            and self.quote.kind == "expandable_blockquote"
            and after in ("", "\n")
            and not top_is_spoiler
        )

    def _close_quote(self) -> None:
        assert self.quote is not None
        entity = _entity(self.quote.kind, self.quote.offset, self.text.length)
        if entity:
            self.entities.append(entity)
        self.quote = None

    def _marker(self, i: int) -> int:
        source = self.source
        marker = source[i : i + 2] if source.startswith(("__", "||"), i) else source[i]
        if marker == "|":
            raise refused("Character '|' is reserved and must be escaped with the preceding '\\'")
        kind = MARKERS[marker]
        if self.open and self.open[-1].kind == kind:
            opened = self.open.pop()
            entity = _entity(kind, opened.offset, self.text.length)
            if entity:
                self.entities.append(entity)
        else:
            self.open.append(_Open(kind, self.text.length, _byte(source, i)))
        return i + len(marker)

    def _code(self, i: int) -> int:
        """`code` or ```pre``` (with a language on the first line); only ` and \\ escaped."""
        source = self.source
        pre = source.startswith("```", i)
        fence = "```" if pre else "`"
        start, j = i + len(fence), i + len(fence)
        body: list[str] = []
        while j < len(source) and not source.startswith(fence, j):
            if source[j] == "\\" and j + 1 < len(source) and 0 < ord(source[j + 1]) < 127:
                body.append(source[j + 1])
                j += 2
            else:
                body.append(source[j])
                j += 1
        if j >= len(source):
            name = "Pre" if pre else "Code"
            raise refused(f"Can't find end of {name} entity at byte offset {_byte(source, i)}")
        content, extra = "".join(body), {}
        if pre:
            first, newline, rest = content.partition("\n")
            if newline and first and " " not in first and source[start] != "\\":
                content, extra = rest, {"language": first}
        offset = self.text.length
        self.text.add(content)
        entity = _entity("pre" if pre else "code", offset, self.text.length, **extra)
        if entity:
            self.entities.append(entity)
        return j + len(fence)

    def _link_end(self, i: int) -> int:
        """After "]": "(url)" with only ) and \\ escaped; a link's text is what was between."""
        source, opened = self.source, self.open.pop()
        if not source.startswith("(", i + 1):
            if opened.extra["emoji"]:
                raise refused("Custom emoji entity must contain a tg://emoji URL")
            self._add_link(opened, "".join(self.text.parts[opened.part :]))
            return i + 1
        j, url = i + 2, []
        while j < len(source) and source[j] != ")":
            if source[j] == "\\" and j + 1 < len(source) and 0 < ord(source[j + 1]) < 127:
                url.append(source[j + 1])
                j += 2
            else:
                url.append(source[j])
                j += 1
        if j >= len(source):
            raise refused(f"Can't find end of a URL at byte offset {_byte(source, i + 2)}")
        target = "".join(url)
        if opened.extra["emoji"]:
            emoji_id = target.removeprefix("tg://emoji?id=")
            if emoji_id == target or not emoji_id.isdigit():
                raise refused("Custom emoji URL must have an emoji identifier")
            end = self.text.length
            entity = _entity("custom_emoji", opened.offset, end, custom_emoji_id=emoji_id)
            if entity:
                self.entities.append(entity)
        else:
            self._add_link(opened, target)
        return j + 1

    def _add_link(self, opened: _Open, url: str) -> None:
        entity = _text_link(opened.offset, self.text.length, url)
        if entity:
            self.entities.append(entity)


def _text_link(offset: int, end: int, url: str) -> dict[str, Any] | None:
    """A link's entity; tg://user?id= is a mention by id, as Telegram makes it."""
    if url.startswith("tg://user?id=") and url.removeprefix("tg://user?id=").isdigit():
        user = {"id": int(url.removeprefix("tg://user?id=")), "is_bot": False, "first_name": ""}
        return _entity("text_mention", offset, end, user=user)
    if not url.strip():
        return None  # Telegram keeps the text and drops a link to nowhere
    return _entity("text_link", offset, end, url=url)


# --- Markdown (legacy) -------------------------------------------------------------------------

LEGACY = {"*": "bold", "_": "italic", "`": "code"}


def parse_markdown(source: str) -> tuple[str, list[dict[str, Any]]]:
    """The legacy Markdown: *bold*, _italic_, `code`, ```pre```, [text](url); no nesting; a
    backslash escapes only _ * ` and [ outside an entity."""
    text, entities, i = _Text(), [], 0
    while i < len(source):
        char = source[i]
        if char == "\\" and source[i + 1 : i + 2] in ("_", "*", "`", "["):
            text.add(source[i + 1])
            i += 2
            continue
        if char not in "*_`[":
            text.add(char)
            i += 1
            continue
        begin = i
        if source.startswith("```", i):
            end = source.find("```", i + 3)
            if end < 0:
                raise _unfinished(source, begin)
            content, extra = source[i + 3 : end], {}
            first, newline, rest = content.partition("\n")
            if newline and first and " " not in first:
                content, extra = rest, {"language": first}
            entity, i = _legacy_entity(text, "pre", content, extra), end + 3
        elif char == "[":
            close = source.find("]", i + 1)
            if close < 0:
                raise _unfinished(source, begin)
            label, url, i = source[i + 1 : close], "", close + 1
            if source.startswith("(", i):
                end = source.find(")", i + 1)
                if end < 0:
                    raise _unfinished(source, begin)
                url, i = source[i + 1 : end], end + 1
            offset = text.length
            text.add(label)
            entity = _text_link(offset, text.length, url)
        else:
            end = source.find(char, i + 1)
            if end < 0:
                raise _unfinished(source, begin)
            entity, i = _legacy_entity(text, LEGACY[char], source[i + 1 : end], {}), end + 1
        if entity:
            entities.append(entity)
    return text.value(), _sorted(entities)


def _legacy_entity(
    text: _Text, kind: str, content: str, extra: dict[str, Any]
) -> dict[str, Any] | None:
    offset = text.length
    text.add(content)
    return _entity(kind, offset, text.length, **extra)


def _unfinished(source: str, index: int) -> ApiError:
    return refused(f"Can't find end of the entity starting at byte offset {_byte(source, index)}")
