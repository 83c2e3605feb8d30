"""Telegram's Markdown and MarkdownV2 parse modes (the common constructs, TDLib's error wording)."""

from __future__ import annotations

from dataclasses import dataclass

from .formatting import Entity, normalize_url, sort_entities

RESERVED_V2 = "_*[]()~`>#+-=|{}.!"

_NAMES = {
    "italic": "Italic",
    "bold": "Bold",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "code": "Code",
    "pre": "Pre",
    "text_link": "TextUrl",
    "custom_emoji": "CustomEmoji",
}


class MarkdownError(ValueError):
    pass


@dataclass
class _Open:
    kind: str
    offset: int
    byte_pos: int
    argument: str = ""
    index: int = 0


def _units(ch: str) -> int:
    return 2 if ord(ch) > 0xFFFF else 1


def parse_markdown(text: str, *, v2: bool) -> tuple[str, list[Entity]]:
    return _parse_v2(text) if v2 else _parse_legacy(text)


def _read_url(text: str, i: int, byte_of: list[int]) -> tuple[str, int]:
    """``text[i] == '('``: read up to the matching ``)`` honouring ``\\`` escapes."""
    start = i
    i += 1
    url: list[str] = []
    while i < len(text) and text[i] != ")":
        if text[i] == "\\" and i + 1 < len(text):
            url.append(text[i + 1])
            i += 2
            continue
        url.append(text[i])
        i += 1
    if i >= len(text):
        raise MarkdownError(f"Can't find end of a URL at byte offset {byte_of[start + 1]}")
    return "".join(url), i + 1


def _parse_v2(text: str) -> tuple[str, list[Entity]]:
    byte_of = [0]
    for ch in text:
        byte_of.append(byte_of[-1] + len(ch.encode("utf-8")))
    out: list[str] = []
    units = 0
    stack: list[_Open] = []
    entities: list[Entity] = []
    quote_start: int | None = None
    size = len(text)
    i = 0

    def emit(ch: str) -> None:
        nonlocal units
        out.append(ch)
        units += _units(ch)

    while i < size:
        ch = text[i]
        at_line_start = i == 0 or text[i - 1] == "\n"
        if ch == "\\" and i + 1 < size and 0 < ord(text[i + 1]) <= 126:
            emit(text[i + 1])
            i += 2
            continue
        if at_line_start and quote_start is not None and ch != ">":
            if units > quote_start:
                end = units - 1 if out and out[-1] == "\n" else units
                entities.append({"type": "blockquote", "offset": quote_start, "length": end - quote_start})
            quote_start = None
        top = stack[-1] if stack else None
        if top is not None and top.kind in ("code", "pre") and ch != "`":
            emit(ch)
            i += 1
            continue
        if ch not in RESERVED_V2:
            emit(ch)
            i += 1
            continue
        if ch == ">" and at_line_start and not stack:
            if quote_start is None:
                quote_start = units
            i += 1
            continue

        closes = False
        if top is not None:
            nxt = text[i + 1] if i + 1 < size else ""
            closes = (
                (top.kind == "bold" and ch == "*")
                or (top.kind == "italic" and ch == "_" and nxt != "_")
                or (top.kind == "underline" and ch == "_" and nxt == "_")
                or (top.kind == "strikethrough" and ch == "~")
                or (top.kind == "spoiler" and ch == "|" and nxt == "|")
                or (top.kind == "code" and ch == "`")
                or (top.kind == "pre" and text.startswith("```", i))
                or (top.kind in ("text_link", "custom_emoji") and ch == "]")
            )
        if closes and top is not None:
            stack.pop()
            length = units - top.offset
            if top.kind in ("underline", "spoiler"):
                i += 2
            elif top.kind == "pre":
                i += 3
            else:
                i += 1
            if top.kind in ("text_link", "custom_emoji"):
                url = ""
                if i < size and text[i] == "(":
                    url, i = _read_url(text, i, byte_of)
                elif top.kind == "custom_emoji":
                    raise MarkdownError("The entity must contain a tg://emoji or tg://time URL")
                else:
                    url = "".join(out[top.index :])
                if length > 0:
                    _link_entity(entities, top, length, url)
                continue
            if length > 0:
                entity: Entity = {"type": top.kind, "offset": top.offset, "length": length}
                if top.kind == "pre" and top.argument:
                    entity["language"] = top.argument
                entities.append(entity)
            continue

        start_byte = byte_of[i]
        if ch == "_":
            if text.startswith("__", i):
                stack.append(_Open("underline", units, start_byte, index=len(out)))
                i += 2
            else:
                stack.append(_Open("italic", units, start_byte, index=len(out)))
                i += 1
        elif ch == "*":
            stack.append(_Open("bold", units, start_byte, index=len(out)))
            i += 1
        elif ch == "~":
            stack.append(_Open("strikethrough", units, start_byte, index=len(out)))
            i += 1
        elif ch == "|" and text.startswith("||", i):
            stack.append(_Open("spoiler", units, start_byte, index=len(out)))
            i += 2
        elif ch == "[":
            stack.append(_Open("text_link", units, start_byte, index=len(out)))
            i += 1
        elif ch == "!" and text.startswith("![", i):
            stack.append(_Open("custom_emoji", units, start_byte, index=len(out)))
            i += 2
        elif ch == "`":
            if text.startswith("```", i):
                i += 3
                language_end = i
                while language_end < size and text[language_end] not in "\n`":
                    language_end += 1
                language = ""
                if language_end < size and text[language_end] == "\n":
                    language = text[i:language_end].strip()
                    i = language_end + 1
                stack.append(_Open("pre", units, start_byte, language, len(out)))
            else:
                stack.append(_Open("code", units, start_byte, index=len(out)))
                i += 1
        else:
            raise MarkdownError(f"Character '{ch}' is reserved and must be escaped with the preceding '\\'")
    if stack:
        top = stack[-1]
        raise MarkdownError(f"Can't find end of {_NAMES[top.kind]} entity at byte offset {top.byte_pos}")
    if quote_start is not None and units > quote_start:
        entities.append({"type": "blockquote", "offset": quote_start, "length": units - quote_start})
    return "".join(out), sort_entities(entities)


def _link_entity(entities: list[Entity], opened: _Open, length: int, url: str) -> None:
    if opened.kind == "custom_emoji":
        prefix = "tg://emoji?id="
        if not url.startswith(prefix) or not url[len(prefix) :].isdigit():
            raise MarkdownError("Invalid tg://emoji or tg://time URL specified")
        entities.append(
            {
                "type": "custom_emoji",
                "offset": opened.offset,
                "length": length,
                "custom_emoji_id": url[len(prefix) :],
            }
        )
        return
    if url.startswith("tg://user?id=") and url[len("tg://user?id=") :].isdigit():
        entities.append(
            {
                "type": "text_mention",
                "offset": opened.offset,
                "length": length,
                "user": {"id": int(url[len("tg://user?id=") :])},
            }
        )
        return
    normalized = normalize_url(url)
    if normalized is not None:
        entities.append({"type": "text_link", "offset": opened.offset, "length": length, "url": normalized})


def _parse_legacy(text: str) -> tuple[str, list[Entity]]:
    byte_of = [0]
    for ch in text:
        byte_of.append(byte_of[-1] + len(ch.encode("utf-8")))
    out: list[str] = []
    units = 0
    entities: list[Entity] = []
    size = len(text)
    i = 0
    while i < size:
        ch = text[i]
        if ch not in "_*`[":
            out.append(ch)
            units += _units(ch)
            i += 1
            continue
        begin = i
        if ch == "`" and text.startswith("```", i):
            end = text.find("```", i + 3)
            if end == -1:
                raise MarkdownError(f"Can't find end of the entity starting at byte offset {byte_of[begin]}")
            body = text[i + 3 : end]
            language = ""
            if "\n" in body and body.split("\n", 1)[0].strip() and " " not in body.split("\n", 1)[0]:
                language, body = body.split("\n", 1)
            entity: Entity = {"type": "pre", "offset": units}
            if language:
                entity["language"] = language
            out.append(body)
            length = sum(_units(c) for c in body)
            units += length
            entity["length"] = length
            if length:
                entities.append(entity)
            i = end + 3
            continue
        closing = "]" if ch == "[" else ch
        end = text.find(closing, i + 1)
        if end == -1:
            raise MarkdownError(f"Can't find end of the entity starting at byte offset {byte_of[begin]}")
        body = text[i + 1 : end]
        length = sum(_units(c) for c in body)
        offset = units
        out.append(body)
        units += length
        i = end + 1
        if ch == "[":
            url = ""
            if i < size and text[i] == "(":
                close = text.find(")", i)
                if close == -1:
                    raise MarkdownError(f"Can't find end of a URL at byte offset {byte_of[i + 1]}")
                url = text[i + 1 : close]
                i = close + 1
            if length:
                _link_entity(entities, _Open("text_link", offset, byte_of[begin]), length, url)
            continue
        kind = {"_": "italic", "*": "bold", "`": "code"}[ch]
        if length:
            entities.append({"type": kind, "offset": offset, "length": length})
    return "".join(out), sort_entities(entities)
