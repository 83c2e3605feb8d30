"""What Telegram checks in message text, captions and reply markup, with its error wording."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from .errors import bad_request
from .formatting import (
    EntityParseError,
    InvalidEntitiesError,
    auto_entities,
    parse_html,
    strip_text,
    validate_entities,
)

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64
MAX_CALLBACK_ANSWER = 200

JSON = dict[str, Any]

_INLINE_ACTIONS = (
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


@dataclass
class FormattedText:
    text: str
    entities: list[JSON] = field(default_factory=list)
    source: str | None = None
    parse_mode: str | None = None


def format_text(
    raw: str | None,
    *,
    parse_mode: str | None,
    entities: Any = None,
    strict_html: bool = True,
    caption: bool = False,
) -> FormattedText:
    """Turn the submitted text into Telegram's (plain text, entities), or raise its 400."""
    raw = raw or ""
    mode = (parse_mode or "").strip()
    if entities is not None:
        try:
            parsed = validate_entities(raw, entities)
        except InvalidEntitiesError as exc:
            raise bad_request(str(exc)) from exc
        text = raw
        mode = ""
    elif mode.lower() == "html":
        try:
            text, parsed = parse_html(raw, strict_ampersand=strict_html)
        except EntityParseError as exc:
            raise bad_request(f"can't parse entities: {exc}") from exc
    elif mode.lower() in ("markdown", "markdownv2"):
        from .markdown import MarkdownError, parse_markdown

        try:
            text, parsed = parse_markdown(raw, v2=mode.lower() == "markdownv2")
        except MarkdownError as exc:
            raise bad_request(f"can't parse entities: {exc}") from exc
    elif mode:
        raise bad_request("unsupported parse_mode")
    else:
        text, parsed = raw, []

    text, parsed = strip_text(text, parsed)
    if caption:
        if len(text) > MAX_CAPTION:
            raise bad_request("message caption is too long")
    else:
        if not text:
            raise bad_request("message text is empty")
        if len(text) > MAX_TEXT:
            raise bad_request("message is too long")
    parsed = auto_entities(text, parsed)
    return FormattedText(text, parsed, raw, mode or None)


def parse_json_param(value: Any, error: str) -> Any:
    if value is None or not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError as exc:
        raise bad_request(error) from exc


def validate_reply_markup(raw: Any) -> JSON | None:
    """Validate and normalize any reply markup; returns None when absent."""
    markup = parse_json_param(raw, "can't parse reply keyboard markup JSON object")
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        return {"inline_keyboard": _validate_inline_keyboard(markup["inline_keyboard"])}
    if "keyboard" in markup:
        return _validate_reply_keyboard(markup)
    if markup.get("remove_keyboard") is True:
        return {k: v for k, v in markup.items() if k in ("remove_keyboard", "selective")}
    if markup.get("force_reply") is True:
        allowed = ("force_reply", "input_field_placeholder", "selective")
        return {k: v for k, v in markup.items() if k in allowed}
    raise bad_request('can\'t find field "inline_keyboard"')


def validate_inline_markup(raw: Any) -> JSON | None:
    """Edits accept only inline keyboards."""
    markup = parse_json_param(raw, "can't parse reply keyboard markup JSON object")
    if markup is None:
        return None
    if not isinstance(markup, dict) or "inline_keyboard" not in markup:
        raise bad_request('can\'t find field "inline_keyboard"')
    keyboard = _validate_inline_keyboard(markup["inline_keyboard"])
    return {"inline_keyboard": keyboard} if keyboard else None


def _validate_inline_keyboard(rows: Any) -> list[list[JSON]]:
    if not isinstance(rows, list):
        raise bad_request('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array')
    result: list[list[JSON]] = []
    for row in rows:
        if not isinstance(row, list):
            raise bad_request(
                'field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays'
            )
        buttons: list[JSON] = []
        for button in row:
            buttons.append(_validate_inline_button(button))
        if buttons:
            result.append(buttons)
    return result


def _validate_inline_button(button: Any) -> JSON:
    if not isinstance(button, dict):
        raise bad_request("can't parse inline keyboard button: InlineKeyboardButton must be an Object")
    text = button.get("text")
    if not isinstance(text, str):
        raise bad_request('can\'t parse inline keyboard button: Field "text" must be of type String')
    if not text.strip():
        raise bad_request("BUTTON_TEXT_INVALID")
    cleaned: JSON = {"text": text}
    for key in ("icon_custom_emoji_id", "style"):
        if button.get(key) is not None:
            cleaned[key] = button[key]
    actions = {
        key: button[key]
        for key in _INLINE_ACTIONS
        if key in button and button[key] is not None and button[key] != "" and button[key] is not False
    }
    if not actions:
        raise bad_request(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
    if "callback_data" in actions:
        data = actions["callback_data"]
        if not isinstance(data, str):
            raise bad_request(
                'can\'t parse inline keyboard button: Field "callback_data" must be of type String'
            )
        if len(data.encode("utf-8")) > MAX_CALLBACK_DATA:
            raise bad_request("BUTTON_DATA_INVALID")
    if "url" in actions:
        url = actions["url"]
        if not isinstance(url, str) or not _valid_button_url(url):
            raise bad_request("BUTTON_URL_INVALID")
    cleaned.update(actions)
    return cleaned


def _valid_button_url(url: str) -> bool:
    from .formatting import normalize_url

    if url.startswith("tg://"):
        return len(url) > len("tg://")
    return normalize_url(url) is not None


def _validate_reply_keyboard(markup: JSON) -> JSON:
    rows = markup.get("keyboard")
    if not isinstance(rows, list):
        raise bad_request('field "keyboard" of the ReplyKeyboardMarkup must be an Array')
    keyboard: list[list[JSON]] = []
    for row in rows:
        if not isinstance(row, list):
            raise bad_request('field "keyboard" of the ReplyKeyboardMarkup must be an Array of Arrays')
        buttons: list[JSON] = []
        for button in row:
            if isinstance(button, str):
                button = {"text": button}
            if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                raise bad_request('can\'t parse keyboard button: Field "text" must be of type String')
            if not button["text"].strip():
                raise bad_request("BUTTON_TEXT_INVALID")
            buttons.append({k: v for k, v in button.items() if v is not None})
        if buttons:
            keyboard.append(buttons)
    result: JSON = {"keyboard": keyboard}
    for key in (
        "is_persistent",
        "resize_keyboard",
        "one_time_keyboard",
        "input_field_placeholder",
        "selective",
    ):
        if markup.get(key) is not None:
            result[key] = markup[key]
    return result


def markup_key(markup: JSON | None) -> str:
    """A canonical form to compare reply markups for "message is not modified"."""
    if not markup or not markup.get("inline_keyboard"):
        return ""
    return json.dumps(markup["inline_keyboard"], sort_keys=True, ensure_ascii=False)


def entities_key(entities: list[JSON]) -> str:
    return json.dumps(entities, sort_keys=True, ensure_ascii=False)
