"""Telegram's HTML parse mode and the safe HTML the chat page shows."""

from __future__ import annotations

import pytest

from sandbox.botapi.errors import ApiError
from sandbox.botapi.formatting import detect_entities, parse_html, to_safe_html


def test_offsets_count_utf16_units_as_telegram_does() -> None:
    text, entities = parse_html("😀 <b>bold</b>")
    assert text == "😀 bold"
    assert entities == [{"type": "bold", "offset": 3, "length": 4}]


def test_a_code_block_keeps_its_language() -> None:
    text, entities = parse_html('<pre><code class="language-python">x = 1</code></pre>')
    assert text == "x = 1"
    assert entities == [{"type": "pre", "offset": 0, "length": 5, "language": "python"}]


def test_spoilers_links_and_quotes_become_entities() -> None:
    _, entities = parse_html(
        '<tg-spoiler>a</tg-spoiler><span class="tg-spoiler">b</span>'
        '<a href="https://x.example">c</a><blockquote expandable>d</blockquote>'
    )
    kinds = [entity["type"] for entity in entities]
    assert kinds == ["spoiler", "spoiler", "text_link", "expandable_blockquote"]


@pytest.mark.parametrize(
    ("source", "complaint"),
    [
        ("<b>open", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<script>x</script>", 'Unsupported start tag "script"'),
        ("<b><i>x</b></i>", "Unmatched end tag"),
    ],
)
def test_html_telegram_would_refuse_is_refused(source: str, complaint: str) -> None:
    with pytest.raises(ApiError) as refused:
        parse_html(source)
    assert refused.value.description.startswith("Bad Request: can't parse entities")
    assert complaint in refused.value.description


def test_commands_links_and_mentions_are_found_in_plain_text() -> None:
    found = detect_entities("/start abc then /help@some_bot, see https://x.example @someone")
    assert [(e["type"], e["offset"], e["length"]) for e in found] == [
        ("bot_command", 0, 6),
        ("bot_command", 16, 14),
        ("url", 36, 17),
        ("mention", 54, 8),
    ]


def test_safe_html_escapes_text_and_drops_unsafe_links() -> None:
    text, entities = parse_html('&lt;img onerror=x&gt; <a href="javascript:alert(1)">x</a>')
    html = to_safe_html(text, entities)
    assert "<img" not in html
    assert "javascript" not in html
