"""Strict reading of what comes from outside: ids and numbers, and the free text that is kept.

Python's own readers accept far more than they seem to: ``str.isdigit()`` is true for "²",
``int()`` reads "٥" as 5, and ``\\d`` matches every script's digits. Button data and typed
numbers are read here instead: the ASCII digits 0–9 only, of a bounded length. (A regex that
picks a piece of button data out uses ``[0-9]``, never ``\\d``.)

Free text people type, and the names Telegram gives us, lose the characters that make a
message *look* like something it is not (display spoofing): control characters,
bidirectional overrides, isolates and marks, and zero-width characters.

Plain Python, no aiogram: the bot layer turns a refusal into a message.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

_ASCII_DIGITS = re.compile(r"[0-9]+")
_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# Chinese input methods type full-width digits ("１２人"); they are the same number, in the
# same places a person types one (never in button data, which the bot wrote itself).
_FULL_WIDTH = str.maketrans("０１２３４５６７８９－＋", "0123456789-+")

# Invisible in a message and no part of any name or sentence people write here: the Hangul
# fillers (a classic "invisible name") and the combining grapheme joiner. Every format
# character (Unicode category Cf) goes too: the bidirectional overrides, isolates and marks
# (U+202A–U+202E, U+2066–U+2069, U+200E, U+200F, U+061C), the zero-width space, joiners and
# word joiner (U+200B–U+200D, U+2060) and the byte order mark (U+FEFF) are all Cf.
_INVISIBLE = frozenset("\u115f\u1160\u3164\uffa0\u034f")
_REMOVED_CATEGORIES = frozenset({"Cc", "Cf", "Cs"})  # control, format, lone surrogates
_LINE_BREAKS = frozenset("\n\r\v\f\x85\u2028\u2029")


def parse_id(text: str | None, max_digits: int = 12) -> int | None:
    """An id or number from button data (or the bot's own message): 1 to ``max_digits``
    ASCII digits and nothing else — no sign, no space, no other script's digits."""
    if text is None or len(text) > max_digits or _ASCII_DIGITS.fullmatch(text) is None:
        return None
    return int(text)


def parse_day(text: str | None) -> date | None:
    """A day the bot wrote into button data, ``YYYY-MM-DD``; None for anything else
    (``date.fromisoformat`` alone would also take other forms, and other scripts' digits)."""
    if text is None or _ISO_DAY.fullmatch(text) is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:  # 2026-02-30
        return None


def parse_count(text: str | None, max_digits: int = 6, *, signed: bool = False) -> int | None:
    """A whole number a person typed: surrounding white space and full-width digits are
    fine; with ``signed``, a leading "-" or "+" too (so that "-3" can be told it is too small
    rather than not a number). Superscripts, Arabic-Indic and every other digit: None."""
    if text is None:
        return None
    cleaned = text.strip().translate(_FULL_WIDTH)
    sign = 1
    if signed and cleaned[:1] in ("-", "+"):
        sign = -1 if cleaned[0] == "-" else 1
        cleaned = cleaned[1:]
    number = parse_id(cleaned, max_digits)
    return None if number is None else sign * number


def has_foreign_digits(text: str) -> bool:
    """Digits other than 0–9 (and their full-width forms): "²", "٥", "①"… The person meant a
    number, so they are told which digits to use, not only that it is not one."""
    return any(
        unicodedata.digit(ch, None) is not None and not "0" <= ch <= "9" for ch in text.translate(_FULL_WIDTH)
    )


def clean_text(value: str, limit: int | None = None, *, multiline: bool = False) -> str:
    """What a person typed (or their Telegram name), ready to store and show to others.

    Removes control characters, format characters (bidirectional overrides, isolates and
    marks, zero-width characters, the byte order mark) and invisible fillers. A tab is a
    space. With ``multiline`` (notes, reasons, comments) line breaks stay, as "\\n"; without
    (names, titles, contacts), every run of white space, line breaks included, is one space.
    The result is stripped and cut to ``limit`` characters.
    """
    kept: list[str] = []
    for ch in value.replace("\r\n", "\n"):
        if ch in _LINE_BREAKS:
            kept.append("\n" if multiline else " ")
        elif ch == "\t":
            kept.append(" ")
        elif ch in _INVISIBLE or unicodedata.category(ch) in _REMOVED_CATEGORIES:
            continue
        else:
            kept.append(ch)
    text = "".join(kept)
    text = text.strip() if multiline else " ".join(text.split())
    if limit is not None:
        text = text[:limit]
    return text
