"""Telegram text formatting: the HTML parse mode, automatic entities and rendering back to HTML.

The HTML parser follows TDLib's ``parse_html`` (the code behind the Bot API): the same tags,
attribute syntax, entity decoding and error messages, with offsets in UTF-16 code units.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import escape
from typing import Any

Entity = dict[str, Any]

ALLOWED_TAGS = frozenset(
    {
        "a", "b", "strong", "i", "em", "s", "strike", "del", "u", "ins",
        "tg-spoiler", "tg-emoji", "span", "pre", "code", "blockquote",
    }
)  # fmt: skip

_SIMPLE_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
}

_PRIORITY = {
    "blockquote": 0,
    "expandable_blockquote": 0,
    "pre": 11,
    "code": 20,
    "text_link": 49,
    "text_mention": 49,
    "bold": 90,
    "italic": 91,
    "underline": 92,
    "strikethrough": 93,
    "spoiler": 94,
    "custom_emoji": 99,
}

_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_SPACES = " \t\r\n\f\v"

ENTITY_TYPES = frozenset(
    {
        "mention", "hashtag", "cashtag", "bot_command", "url", "email", "phone_number",
        "bold", "italic", "underline", "strikethrough", "spoiler", "blockquote",
        "expandable_blockquote", "code", "pre", "text_link", "text_mention", "custom_emoji",
        "date_time",
    }
)  # fmt: skip


class EntityParseError(ValueError):
    """Raised with TDLib's own wording; the Bot API prefixes it with "can't parse entities: "."""


class InvalidEntitiesError(ValueError):
    """An explicit ``entities`` list that Telegram would reject (full description)."""


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _char_units(ch: str) -> int:
    return 2 if ord(ch) > 0xFFFF else 1


def utf16_to_index(text: str, offset: int) -> int:
    """Python string index of a UTF-16 offset (clamped to the text)."""
    units = 0
    for index, ch in enumerate(text):
        if units >= offset:
            return index
        units += _char_units(ch)
    return len(text)


def entity_text(text: str, entity: Entity) -> str:
    start = utf16_to_index(text, entity["offset"])
    end = utf16_to_index(text, entity["offset"] + entity["length"])
    return text[start:end]


def sort_entities(entities: list[Entity]) -> list[Entity]:
    return sorted(
        entities,
        key=lambda e: (e["offset"], -e["length"], _PRIORITY.get(e["type"], 50)),
    )


def _decode_entity(text: str, pos: int) -> tuple[str, int] | None:
    """Decode an HTML character reference at ``text[pos] == '&'`` like TDLib does."""
    end = pos + 1
    size = len(text)
    if end < size and text[end] == "#":
        end += 1
        value = 0
        if end < size and text[end] == "x":
            end += 1
            while end < size and text[end] in "0123456789abcdefABCDEF":
                value = value * 16 + int(text[end], 16)
                end += 1
                if value >= 0x10FFFF:
                    return None
        else:
            while end < size and text[end].isascii() and text[end].isdigit():
                value = value * 10 + int(text[end])
                end += 1
                if value >= 0x10FFFF:
                    return None
        if value == 0 or end - pos >= 10:
            return None
        if 0xD800 <= value <= 0xDFFF:
            raise EntityParseError(
                "Text contains invalid Unicode characters after decoding HTML entities, "
                "check for unmatched surrogate code units"
            )
        decoded = chr(value)
    else:
        while end < size and text[end].isascii() and text[end].isalpha():
            end += 1
        name = text[pos + 1 : end]
        if name not in _NAMED_ENTITIES:
            return None
        decoded = _NAMED_ENTITIES[name]
    if end < size and text[end] == ";":
        end += 1
    return decoded, end


_URL_HOST = re.compile(r"^[A-Za-z0-9\-._~%]+\.[A-Za-z0-9\-]{2,}(?::\d{1,5})?$")


def normalize_url(url: str) -> str | None:
    """Roughly TDLib's ``check_link``: returns the normalized URL, or None when it is not a link."""
    if not url or any(ch in url for ch in _SPACES):
        return None
    match = re.match(r"^([A-Za-z][A-Za-z0-9+.\-]*):(//)?(.*)$", url)
    if match and (match.group(2) or match.group(1).lower() in {"tg", "ton", "mailto"}):
        scheme = match.group(1).lower()
        if scheme in {"tg", "ton", "tonsite", "mailto"}:
            return url
        if scheme not in {"http", "https"}:
            return None
        rest = match.group(3)
    elif match and not match.group(2) and not re.match(r"^[^/?#]*:\d", url):
        return None
    else:
        scheme, rest = "http", url
    host_end = len(rest)
    for sep in "/?#":
        found = rest.find(sep)
        if found != -1:
            host_end = min(host_end, found)
    host, tail = rest[:host_end], rest[host_end:]
    if not _URL_HOST.match(host) and host.lower() != "localhost":
        return None
    if not tail.startswith("/"):
        tail = "/" + tail
    return f"{scheme}://{host}{tail}"


def _tg_user_id(url: str) -> int | None:
    match = re.fullmatch(r"tg://user\?id=(\d{1,20})", url.strip())
    return int(match.group(1)) if match else None


@dataclass
class _Open:
    tag: str
    argument: str
    offset: int
    start_index: int


def parse_html(source: str, *, strict_ampersand: bool = True) -> tuple[str, list[Entity]]:
    """Parse Telegram HTML into (plain text, entities); raise EntityParseError like Telegram.

    With ``strict_ampersand`` an ``&`` that does not start a character reference is an error
    (Telegram itself keeps it as text); this catches text the bot forgot to escape.
    """
    out: list[str] = []
    out_len = 0
    units = 0
    stack: list[_Open] = []
    entities: list[Entity] = []
    size = len(source)

    def byte_offset(index: int) -> int:
        return len(source[:index].encode("utf-8"))

    i = 0
    while i < size:
        ch = source[i]
        if ch == "&":
            decoded = _decode_entity(source, i)
            if decoded is not None:
                char, i = decoded
                out.append(char)
                out_len += 1
                units += _char_units(char)
                continue
            if strict_ampersand:
                raise EntityParseError(
                    f'Character "&" must be escaped as "&amp;" at byte offset {byte_offset(i)}'
                )
        if ch != "<":
            out.append(ch)
            out_len += 1
            units += _char_units(ch)
            i += 1
            continue

        begin = i
        i += 1
        if i < size and source[i] == "/":
            if not stack:
                raise EntityParseError(f"Unexpected end tag at byte offset {byte_offset(begin)}")
            name_start = i + 1
            while i < size and source[i] not in _SPACES and source[i] != ">":
                i += 1
            end_name = source[name_start:i]
            while i < size and source[i] in _SPACES:
                i += 1
            if i >= size or source[i] != ">":
                raise EntityParseError(f"Unclosed end tag at byte offset {byte_offset(begin)}")
            i += 1
            opened = stack[-1]
            if end_name and end_name != opened.tag:
                raise EntityParseError(
                    f"Unmatched end tag at byte offset {byte_offset(begin)}, "
                    f'expected "</{opened.tag}>", found "</{end_name}>"'
                )
            stack.pop()
            if units > opened.offset:
                inner = "".join(out[opened.start_index :])
                _close_entity(entities, opened, units - opened.offset, inner)
            continue

        while i < size and source[i] not in _SPACES and source[i] != ">":
            i += 1
        if i >= size:
            raise EntityParseError(f"Unclosed start tag at byte offset {byte_offset(begin)}")
        tag = source[begin + 1 : i].lower()
        if tag not in ALLOWED_TAGS:
            raise EntityParseError(f'Unsupported start tag "{tag}" at byte offset {byte_offset(begin)}')
        argument = ""
        while i < size and source[i] != ">":
            while i < size and source[i] in _SPACES:
                i += 1
            if i < size and source[i] == ">":
                break
            attr_start = i
            while i < size and source[i] not in _SPACES and source[i] != "=" and source[i] != ">":
                i += 1
            attr = source[attr_start:i]
            if not attr:
                raise EntityParseError(
                    f'Empty attribute name in the tag "{tag}" at byte offset {byte_offset(begin)}'
                )
            while i < size and source[i] in _SPACES:
                i += 1
            if i >= size:
                raise EntityParseError(f'Unclosed start tag "{tag}" at byte offset {byte_offset(begin)}')
            if source[i] != "=":
                if tag == "blockquote" and attr.lower() == "expandable":
                    argument = "1"
                continue
            i += 1
            while i < size and source[i] in _SPACES:
                i += 1
            if i >= size:
                raise EntityParseError(f'Unclosed start tag "{tag}" at byte offset {byte_offset(begin)}')
            if source[i] not in "'\"":
                token_start = i
                while i < size and ((source[i].isascii() and source[i].isalnum()) or source[i] in ".-"):
                    i += 1
                value = source[token_start:i].lower()
                if i >= size or (source[i] not in _SPACES and source[i] != ">"):
                    raise EntityParseError(
                        f"Unexpected end of name token at byte offset {byte_offset(token_start)}"
                    )
            else:
                quote = source[i]
                i += 1
                chars: list[str] = []
                while i < size and source[i] != quote:
                    if source[i] == "&":
                        decoded = _decode_entity(source, i)
                        if decoded is not None:
                            chars.append(decoded[0])
                            i = decoded[1]
                            continue
                    chars.append(source[i])
                    i += 1
                if i < size:
                    i += 1
                value = "".join(chars)
            if i >= size:
                raise EntityParseError(f"Unclosed start tag at byte offset {byte_offset(begin)}")
            name = attr.lower()
            if tag == "a" and name == "href":
                argument = value
            elif tag == "code" and name == "class" and value.startswith("language-"):
                argument = value[len("language-") :]
            elif tag == "span" and name == "class" and value.startswith("tg-"):
                argument = value[len("tg-") :]
            elif tag == "tg-emoji" and name == "emoji-id":
                argument = value
            elif tag == "blockquote" and name == "expandable":
                argument = "1"
        if i >= size:
            raise EntityParseError(f"Unclosed start tag at byte offset {byte_offset(begin)}")
        i += 1
        if tag == "span" and argument != "spoiler":
            raise EntityParseError(
                f'Tag "span" must have class "tg-spoiler" at byte offset {byte_offset(begin)}'
            )
        if tag == "tg-emoji" and not argument.isdigit():
            raise EntityParseError("Invalid custom emoji identifier specified")
        stack.append(_Open(tag, argument, units, out_len))

    if stack:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1].tag}"')
    return "".join(out), clean_entities(sort_entities(entities))


def _close_entity(entities: list[Entity], opened: _Open, length: int, inner: str) -> None:
    offset = opened.offset
    tag = opened.tag
    if tag in _SIMPLE_TAGS:
        entities.append({"type": _SIMPLE_TAGS[tag], "offset": offset, "length": length})
    elif tag == "a":
        url = opened.argument or inner
        user_id = _tg_user_id(url)
        if user_id is not None:
            entities.append(
                {"type": "text_mention", "offset": offset, "length": length, "user": {"id": user_id}}
            )
        elif (normalized := normalize_url(url)) is not None:
            entities.append({"type": "text_link", "offset": offset, "length": length, "url": normalized})
    elif tag == "pre":
        last = entities[-1] if entities else None
        if (
            last is not None
            and last["type"] == "code"
            and last["offset"] == offset
            and last["length"] == length
            and last.get("_language")
        ):
            last["type"] = "pre"
            last["language"] = last.pop("_language")
        else:
            entities.append({"type": "pre", "offset": offset, "length": length})
    elif tag == "code":
        last = entities[-1] if entities else None
        if (
            last is not None
            and last["type"] == "pre"
            and last["offset"] == offset
            and last["length"] == length
            and opened.argument
        ):
            last["language"] = opened.argument
        else:
            entity: Entity = {"type": "code", "offset": offset, "length": length}
            if opened.argument:
                entity["_language"] = opened.argument
            entities.append(entity)
    elif tag == "tg-emoji":
        entities.append(
            {
                "type": "custom_emoji",
                "offset": offset,
                "length": length,
                "custom_emoji_id": opened.argument,
            }
        )
    elif tag == "blockquote":
        kind = "expandable_blockquote" if opened.argument else "blockquote"
        entities.append({"type": kind, "offset": offset, "length": length})


def clean_entities(entities: list[Entity]) -> list[Entity]:
    return [{k: v for k, v in e.items() if not k.startswith("_")} for e in entities]


def strip_text(text: str, entities: list[Entity]) -> tuple[str, list[Entity]]:
    """Trim surrounding whitespace as Telegram does, moving and clipping entities."""
    stripped = text.strip()
    if stripped == text:
        return text, entities
    lead = utf16_len(text[: len(text) - len(text.lstrip())])
    total = utf16_len(stripped)
    result: list[Entity] = []
    for entity in entities:
        start = max(entity["offset"] - lead, 0)
        end = min(entity["offset"] + entity["length"] - lead, total)
        if end > start:
            result.append({**entity, "offset": start, "length": end - start})
    return stripped, result


def validate_entities(text: str, raw: Any) -> list[Entity]:
    """Check an explicit ``entities`` list against the text; invalid ones are errors as in Telegram."""
    if not isinstance(raw, list):
        raise InvalidEntitiesError("can't parse entities JSON object")
    total = utf16_len(text)
    result: list[Entity] = []
    for item in raw:
        if not isinstance(item, dict):
            raise InvalidEntitiesError("can't parse MessageEntity JSON object")
        kind = item.get("type")
        offset = item.get("offset")
        length = item.get("length")
        if kind not in ENTITY_TYPES:
            raise InvalidEntitiesError("Wrong message entity: Unsupported type specified")
        if not isinstance(offset, int) or not isinstance(length, int) or offset < 0 or length < 0:
            raise InvalidEntitiesError("Wrong message entity: Invalid offset or length specified")
        if length == 0 or offset >= total:
            continue
        entity = dict(item)
        entity["length"] = min(length, total - offset)
        if kind == "text_link":
            url = normalize_url(str(item.get("url", "")))
            if url is None:
                raise InvalidEntitiesError("Wrong message entity: Wrong HTTP URL")
            entity["url"] = url
        result.append(entity)
    return sort_entities(result)


_AUTO_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("url", re.compile(r"(?<![\w@/.])https?://[^\s<>\"']+[^\s<>\"'.,;:!?)\]]")),
    ("email", re.compile(r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")),
    # tdlib's match_bot_commands: no word character, "/", "<" or ">" on either side (so the
    # "/b" of a typed "</b>" is no command), 1-64 name characters, and an "@name" of 3-32
    # or none: a shorter or longer "@name" spoils the whole command
    (
        "bot_command",
        re.compile(
            r"(?<![\w/<>])/[A-Za-z0-9_]{1,64}(?![A-Za-z0-9_])"
            r"(?:@[A-Za-z0-9_]{3,32}(?![A-Za-z0-9_]))?(?![\w/<>@])"
        ),
    ),
    ("mention", re.compile(r"(?<![\w@/])@[A-Za-z][A-Za-z0-9_]{3,31}(?![\w@])")),
    ("hashtag", re.compile(r"(?<![\w#])#\w*[^\W\d]\w*")),
    ("cashtag", re.compile(r"(?<![\w$])\$[A-Z]{3,8}(?![\w])")),
]

_NO_AUTO_INSIDE = frozenset({"code", "pre", "text_link", "text_mention", "custom_emoji"})


def auto_entities(text: str, existing: list[Entity]) -> list[Entity]:
    """Add the entities Telegram detects by itself (commands, mentions, links, hashtags...)."""
    found: list[Entity] = []
    taken: list[tuple[int, int]] = [
        (e["offset"], e["offset"] + e["length"]) for e in existing if e["type"] in _NO_AUTO_INSIDE
    ]
    if not any(ch in text for ch in "/@#$:"):
        return existing
    positions: list[int] = []
    units = 0
    for ch in text:
        positions.append(units)
        units += _char_units(ch)
    positions.append(units)
    for kind, pattern in _AUTO_PATTERNS:
        for match in pattern.finditer(text):
            start, end = positions[match.start()], positions[match.end()]
            if any(start < b and a < end for a, b in taken):
                continue
            taken.append((start, end))
            found.append({"type": kind, "offset": start, "length": end - start})
    if not found:
        return existing
    return sort_entities([*existing, *found])


_RENDER_TAGS = {
    "bold": ("<b>", "</b>"),
    "italic": ("<i>", "</i>"),
    "underline": ("<u>", "</u>"),
    "strikethrough": ("<s>", "</s>"),
    "spoiler": ("<tg-spoiler>", "</tg-spoiler>"),
    "code": ("<code>", "</code>"),
    "blockquote": ("<blockquote>", "</blockquote>"),
    "expandable_blockquote": ("<blockquote expandable>", "</blockquote>"),
}


def _open_tag(entity: Entity) -> tuple[str, str] | None:
    kind = entity["type"]
    if kind in _RENDER_TAGS:
        return _RENDER_TAGS[kind]
    if kind == "pre":
        language = entity.get("language")
        if language:
            return f'<pre><code class="language-{escape(language)}">', "</code></pre>"
        return "<pre>", "</pre>"
    if kind == "text_link":
        return f'<a href="{escape(entity.get("url", ""))}">', "</a>"
    if kind == "text_mention":
        user_id = (entity.get("user") or {}).get("id")
        return f'<a href="tg://user?id={user_id}">', "</a>"
    if kind == "custom_emoji":
        return f'<tg-emoji emoji-id="{escape(str(entity.get("custom_emoji_id", "")))}">', "</tg-emoji>"
    return None


def render_html(text: str, entities: list[Entity]) -> str:
    """Render plain text plus entities as Telegram-compatible HTML (properly escaped)."""
    positions: dict[int, int] = {}
    units = 0
    for index, ch in enumerate(text):
        positions[units] = index
        units += _char_units(ch)
    positions[units] = len(text)

    def to_index(offset: int) -> int:
        while offset not in positions and offset > 0:
            offset -= 1
        return positions.get(offset, 0)

    spans: list[tuple[int, int, int, tuple[str, str]]] = []
    for order, entity in enumerate(sort_entities(entities)):
        tags = _open_tag(entity)
        if tags is None:
            continue
        start = to_index(entity["offset"])
        end = to_index(entity["offset"] + entity["length"])
        if end > start:
            spans.append((start, end, order, tags))

    result: list[str] = []
    stack: list[tuple[int, int, int, tuple[str, str]]] = []
    pending = sorted(spans, key=lambda s: (s[0], -s[1], s[2]))
    cursor = 0
    boundaries = sorted({0, len(text), *(s[0] for s in spans), *(s[1] for s in spans)})
    for point in boundaries:
        if point > cursor:
            result.append(escape(text[cursor:point], quote=False))
            cursor = point
        reopen: list[tuple[int, int, int, tuple[str, str]]] = []
        while any(span[1] <= point for span in stack):
            span = stack.pop()
            result.append(span[3][1])
            if span[1] > point:
                reopen.append(span)
        starting = [s for s in pending if s[0] == point]
        pending = [s for s in pending if s[0] != point]
        for span in sorted([*reversed(reopen), *starting], key=lambda s: (-s[1], s[2])):
            result.append(span[3][0])
            stack.append(span)
    while stack:
        result.append(stack.pop()[3][1])
    return "".join(result)
