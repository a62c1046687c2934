"""reply_markup checks as strict as Telegram's, and what a keyboard does to the chat."""

from __future__ import annotations

from typing import Any

from sandbox.botapi.errors import bad_request
from sandbox.botapi.models import Dialog

INLINE_ACTIONS = (
    "callback_data",
    "url",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)


def check_markup(markup: Any, *, private: bool) -> dict[str, Any] | None:
    """The markup as stored, or Telegram's error for a button it would refuse."""
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        rows = markup["inline_keyboard"]
        for row in rows:
            for button in row:
                _check_inline_button(button, private=private)
        return {"inline_keyboard": rows}
    if "keyboard" in markup:
        rows = [[_reply_button(button) for button in row] for row in markup["keyboard"]]
        return {**markup, "keyboard": rows}
    if markup.get("remove_keyboard") or markup.get("force_reply"):
        return markup
    raise bad_request("can't parse reply keyboard markup JSON object")


def _check_inline_button(button: dict[str, Any], *, private: bool) -> None:
    if not button.get("text"):
        raise bad_request("BUTTON_TEXT_INVALID")
    actions = [key for key in INLINE_ACTIONS if key in button]
    if not actions:
        raise bad_request(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
    data = button.get("callback_data")
    if data is not None and not 1 <= len(str(data).encode()) <= 64:
        raise bad_request("BUTTON_DATA_INVALID")
    if "url" in button and not str(button["url"]).strip():
        raise bad_request("BUTTON_URL_INVALID")
    if "web_app" in button and not private:
        raise bad_request("BUTTON_TYPE_INVALID")


def _reply_button(button: Any) -> dict[str, Any]:
    if isinstance(button, str):
        return {"text": button}
    if not isinstance(button, dict) or not button.get("text"):
        raise bad_request("BUTTON_TEXT_INVALID")
    return button


def apply_reply_keyboard(dialog: Dialog, markup: dict[str, Any] | None) -> None:
    """A reply keyboard stays under the input field until a later message removes it."""
    if markup is None:
        return
    if "keyboard" in markup:
        dialog.reply_keyboard = markup
    elif markup.get("remove_keyboard"):
        dialog.reply_keyboard = None


def button_kind(button: dict[str, Any]) -> tuple[str, str]:
    """A button's kind and value, as the person's side shows it."""
    for key in INLINE_ACTIONS:
        if key in button:
            value = button[key]
            if isinstance(value, dict):
                value = value.get("url", "")
            return key.removesuffix("_data"), str(value)
    for key in ("request_contact", "request_location", "web_app", "request_users"):
        if button.get(key):
            value = button[key].get("url", "") if isinstance(button[key], dict) else ""
            return key, value
    return "text", button.get("text", "")
