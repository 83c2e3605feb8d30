"""Text normalisation shared by every extractor.

The same ``normalise`` is applied to the request and to the site's vocabulary, so that
"一号会议室" in the site file meets "1号会议室" typed by a person, and "ROOM 203" meets
"room 203".
"""

from __future__ import annotations

import re

# Full-width ASCII (０-９, Ａ-Ｚ, ：, （ …) and the ideographic space to their plain forms.
_WIDE = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
_WIDE[0x3000] = 0x20

HAN = r"\u4e00-\u9fff"
_HAN_CHAR = re.compile(f"[{HAN}]")

_CN_DIGIT = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "兩": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_CN_UNIT = {"十": 10, "百": 100, "千": 1000}
_CN_NUMERAL = "零〇一二两兩三四五六七八九十百千"
# Chinese numerals are turned into digits only before a measure word or unit (or after 第),
# where they are certainly numbers: "十二人", "两点", "一个半小时", "第一会议室", "十一月".
_CN_NUMBER_BEFORE_UNIT = re.compile(
    # not "早一点"/"差一点" (a little earlier / almost), "一点点", "同一时间" (the same time)
    f"(第)?(?<![早晚快慢差多少有提])([{_CN_NUMERAL}]+)(?=个半?小时|个半?钟头|个|小时|钟头|点(?!点|儿)|點|时(?![间候期代])|"
    "時(?![間候期代])|号|號|日|月|人|位|名|只|支|把|张|台|辆|间|级|分钟|分|天|楼|层|套|块|副|排|桌|周年)"
)
_CN_ORDINAL = re.compile(f"(第)([{_CN_NUMERAL}]+)")


def cn_number(text: str) -> int | None:
    """ "十二" → 12, "一百零五" → 105, "两" → 2, "二零二六" → 2026; None if it is not one number."""
    if not text or any(ch not in _CN_DIGIT and ch not in _CN_UNIT for ch in text):
        return None
    if all(ch in _CN_DIGIT for ch in text):
        if len(text) == 1:
            return _CN_DIGIT[text]
        if len(text) >= 3:  # digit by digit, like a year: 二零二六
            return int("".join(str(_CN_DIGIT[ch]) for ch in text))
        return None  # "三四" is "three or four", not 34
    total = 0
    pending: int | None = None
    last_unit = 10_000
    for index, ch in enumerate(text):
        if ch in _CN_DIGIT:
            if pending is not None and pending != 0:
                return None
            pending = _CN_DIGIT[ch]
            continue
        unit = _CN_UNIT[ch]
        if unit >= last_unit:
            return None
        if pending is None:
            if ch != "十" or index != 0:
                return None
            pending = 1  # "十二": the leading 一 is left out
        total += pending * unit
        pending = None
        last_unit = unit
    if pending:
        total += pending
    return total


def _convert_numeral(match: re.Match[str]) -> str:
    ordinal, numeral = match.group(1) or "", match.group(2)
    value = cn_number(numeral)
    return match.group(0) if value is None else f"{ordinal}{value}"


# Colloquial day-and-period contractions jionlp does not know ("明早9点" reads as today).
_CONTRACTIONS = (
    ("明早", "明天早上"),
    ("明晚", "明天晚上"),
    ("明晨", "明天早上"),
    ("今早", "今天早上"),
    ("今晚", "今天晚上"),
    ("后早", "后天早上"),
    ("后晚", "后天晚上"),
    ("禮拜", "礼拜"),
    ("點", "点"),
    ("時", "时"),
    ("號", "号"),
    ("兩", "两"),
)


def fold(text: str) -> str:
    """Full width to half width, lower case; nothing else changes."""
    return text.translate(_WIDE).lower()


# The commonest pinyin slip: 午 (wu) typed as 五 before a clock time ("下五3点").
_WU_SLIP = re.compile(r"([上下中])五(?=\s*(?:\d|[一二三四五六七八九十两]+点))")


def normalise(text: str) -> str:
    """The form every extractor reads: folded, with Chinese numerals before units as digits."""
    folded = fold(text)
    for old, new in _CONTRACTIONS:
        folded = folded.replace(old, new)
    folded = _WU_SLIP.sub(r"\1午", folded)
    folded = _CN_ORDINAL.sub(_convert_numeral, folded)
    return _CN_NUMBER_BEFORE_UNIT.sub(_convert_numeral, folded)


def has_han(text: str) -> bool:
    return _HAN_CHAR.search(text) is not None


def is_ascii_word_char(ch: str) -> bool:
    return ch.isascii() and (ch.isalnum() or ch == "_")


# ---- English numbers ------------------------------------------------------------------
_EN_SMALL = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
}
_EN_TENS = {
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}
_SMALL_WORDS = "|".join(sorted((w for w in _EN_SMALL if w not in ("a", "an")), key=len, reverse=True))
_TENS_WORDS = "|".join(_EN_TENS)
# An English month name or its short form, lower case ("feb", "february", "sept").
MONTH_NAME = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?"
    r"|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
# A number as people type it: digits, or words up to ninety-nine ("twelve", "twenty-five").
EN_NUMBER = rf"(?:\d{{1,5}}|(?:{_TENS_WORDS})(?:[- ](?:{_SMALL_WORDS}))?|{_SMALL_WORDS}|a hundred)"


def en_number(text: str) -> int | None:
    word = text.strip().lower()
    if word.isdigit():
        return int(word)
    if word == "a hundred":
        return 100
    if word in _EN_SMALL:
        return _EN_SMALL[word]
    parts = re.split(r"[- ]", word)
    if parts[0] in _EN_TENS:
        if len(parts) == 1:
            return _EN_TENS[parts[0]]
        if len(parts) == 2 and parts[1] in _EN_SMALL and _EN_SMALL[parts[1]] < 10:
            return _EN_TENS[parts[0]] + _EN_SMALL[parts[1]]
    return None


# ---- quotations ------------------------------------------------------------------------
PLACEHOLDER_BASE = 0xE000  # private-use characters stand in for quoted and captured text
_QUOTES = re.compile(
    r"“([^“”]{1,120})”|「([^「」]{1,120})」|『([^『』]{1,120})』|《([^《》]{1,120})》|‘([^‘’]{1,120})’"
    r"|＂([^＂]{1,120})＂|\"([^\"]{1,120})\"|(?<![A-Za-z])'([^'\n]{2,120})'(?![A-Za-z])"
)


class Captures:
    """Pieces of the request taken out whole (quotations, titles, names) before the rest is read.

    Each piece is replaced by one private-use character, so no later step reads the digits
    or words inside a banner text or a title, and its own spelling and case are kept.
    """

    def __init__(self) -> None:
        self.texts: list[str] = []

    def token(self, text: str) -> str:
        self.texts.append(text.strip())
        return chr(PLACEHOLDER_BASE + len(self.texts) - 1)

    def text_of(self, token: str) -> str | None:
        index = ord(token) - PLACEHOLDER_BASE if len(token) == 1 else -1
        return self.texts[index] if 0 <= index < len(self.texts) else None

    def protect_quotes(self, text: str) -> str:
        def replace(match: re.Match[str]) -> str:
            inner = next(group for group in match.groups() if group is not None)
            return self.token(inner) if inner.strip() else match.group(0)

        return _QUOTES.sub(replace, text)

    def restore(self, text: str) -> str:
        """Put quoted pieces back (for a title that contains a quotation)."""
        return "".join(self.text_of(ch) or ch for ch in text)


PLACEHOLDER = f"[{chr(PLACEHOLDER_BASE)}-{chr(PLACEHOLDER_BASE + 0x7FF)}]"


def mask(text: str, start: int, end: int) -> str:
    """Blank out text[start:end] without moving anything."""
    return text[:start] + " " * (end - start) + text[end:]
