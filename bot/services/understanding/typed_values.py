"""Pass 1 of reading everything but dates and times: the pieces kept as typed.

The text is read as typed (quotations already replaced by private-use characters): the
pieces whose wording must be kept — contact, notes, banner text and other text details,
title — are taken out whole, each ending where the request goes on. Pass 2 (``entities``)
then reads the normalised rest.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.site import DetailKind, SiteConfig

from .result import Confidence, Understanding, choose
from .text import (
    EN_NUMBER,
    HAN,
    MONTH_NAME,
    PLACEHOLDER,
    Captures,
    fold,
    has_han,
    is_ascii_word_char,
    mask,
    normalise,
)
from .vocabulary import Kind, Lexicon

_STOP = r"[,，。;；\n!?！？．｡]|\.(?=\s|$)"  # a clause ends here


# ---- pass 1: pieces kept as typed --------------------------------------------------------
# A number written with a unit after it is no part of the phone number before it: in
# 「电话：13812345678 10人」 the 10 is the count, in "phone 6512 0000 2pm" the 2 the time.
_NOT_PHONE_AFTER = (
    r"(?![\d-])(?!\s*(?:[人位名个点时号日月年楼层:：]|分钟|小时"
    r"|(?i:people|persons?|ppl|pax|am\b|pm\b|a\.m|p\.m|h\b|hours?|hrs?|min|mins|minutes?)))"
)
_PHONE_CUE = re.compile(
    r"(?i:电话|手机|联系电话|联系方式|tel\.?|phone|mobile|cell)\s*(?:号码?)?\s*[:：]?\s*(\+?\d[\d\s-]{5,18}\d"
    + _NOT_PHONE_AFTER
    + r"(?:\s*(?:转|分机|(?i:ext\.?|x))\s*\d{2,6})?)"
)
_PHONE_BARE = re.compile(r"(?<![\d-])(?:1[3-9]\d{9}|0\d{2,3}-\d{7,8}(?:\s*(?:转|分机)\s*\d{2,6})?)(?![\d-])")
_CONTACT = re.compile(
    rf"联系人\s*[:：]?\s*([{HAN}]{{2,4}}?)(?=[\s,，。;；、:：(（]|电话|手机|\d|$)"
    r"|(?i:contact(?:\s+person)?|organi[sz]er)\s*(?:is\s+)?[:：-]?\s*([A-Z][a-z]+(?:\s+[A-Z][a-z]+){0,2})"
)


def capture_contacts(work: str, captures: Captures, result: Understanding) -> str:
    phones: list[str] = []
    for pattern in (_PHONE_CUE, _PHONE_BARE):
        for match in list(pattern.finditer(work)):
            number = match.group(1) if pattern is _PHONE_CUE else match.group(0)
            phones.append(" ".join(number.split()))
            start, end = match.span(1) if pattern is _PHONE_CUE else match.span()
            work = work[:start] + captures.token(number) + " " * (end - start - 1) + work[end:]
    choose(result, "contact_phone", phones, "two_phones")
    names = []
    for match in _CONTACT.finditer(work):
        group = 1 if match.group(1) else 2
        start, end = match.span(group)
        goes_on = _GOES_ON.search(work, start + 1)  # "contact: Mary Jones Friday 10am"
        end = min(end, goes_on.start()) if goes_on is not None else end
        names.append(work[start:end])
        work = mask(work, start, end)
    choose(result, "contact_name", names, "two_contacts")
    return work


# Between a banner word and its quoted text: 「会标"…"」「横幅，写"…"」 'banner reading "…"'.
_TEXT_LINK = (
    r"(?:的)?\s*(?:[,，]\s*(?=写|内容|文字|上写|印|(?i:reading|saying|with|text|wording)))?\s*"
    r"(?:[:：]|内容为?|文字为?|字样为?|为|是|写上?|写着|上写|印上?|打上?"
    r"|(?i:reading|saying|that\s+says|which\s+says|with\s+the\s+(?:text|words?)|with\s+text|text|should\s+read"
    r"|reads|wording))?\s*[:：]?\s*"
)
_TITLE_VERBS = r"(?:召开|举行|举办|开个?|组织|(?i:called|titled|named|entitled))"
_TITLE_AFTER = (
    r"(?:会议|大会|座谈会|研讨会|培训会?|讲座|报告会|专题会|例会|(?i:meeting|session|workshop|seminar|training"
    r"|review|conference|briefing))"
)
_NONE = re.compile(r"\s*(?:无|没有|不要|不需要|不用|免|(?i:none|no|n/?a|not\s+needed))\s*[.。]?\s*")


def _cue(words: list[str]) -> str:
    ordered = sorted({w.strip() for w in words if w.strip()}, key=len, reverse=True)
    return (
        "(?i:"
        + "|".join(
            (r"(?<![A-Za-z])" if w[0].isascii() and w[0].isalnum() else "")
            + re.escape(w).replace(r"\ ", r"\s+")
            + (r"s?(?![A-Za-z])" if w[-1].isascii() and w[-1].isalnum() else "")
            for w in ordered
        )
        + ")"
    )


# ---- where a value typed after a cue ends ----------------------------------------------------
# A value typed after its cue (「会标：…」, "title: …", 「备注：…」) is the rest of the clause,
# cut where the request goes on: whatever follows is read as the request, never swallowed.
# In Chinese it ends at a space between two Chinese words or before a number
# (「会标：年度工作会议 10人」; 「AI 赋能培训」 keeps its space); in either language where a
# date, a time, a count or a room begins ("Title: Budget review tomorrow 2-4pm"), where a
# request for something begins ("… we need …", "… please …", "… with tea"), and where another
# cue begins ("… banner: …").
_CLAUSE_END = re.compile(rf"{_STOP}|、")
_EN_GOES_ON = (
    r"(?:today|tonight|tomorrow|tmrw|tmr)\b"
    r"|(?:this|next|coming)\s+(?:week|weekend|month|(?:mon|tues|wednes|thurs|fri|satur|sun)day)\b"
    # a series: "… every Monday", "… every other Friday", "… monthly on the first Monday"
    r"|every\s+(?:other\s+|second\s+|first\s+|third\s+|fourth\s+|last\s+)?(?:(?:mon|tues|wednes|thurs|fri"
    r"|satur|sun)day|week|working\s+day|work\s*day|weekday|business\s+day|two\s+weeks)\b"
    r"|(?:weekly|monthly)\s+on\b"
    # not where a capitalised word follows: "Easter Sunday Service", "Meeting at 3 Rivers"
    r"|(?:on\s+)?(?:mon|tues|wednes|thurs|fri|satur|sun)day\b(?-i:(?!\s+[A-Z]))"
    r"|(?:at|from|between|starting|until|till|by)\s+\d{1,2}(?![\d/])(?-i:(?!\s+[A-Z]))"
    r"|\d{1,2}(?:[:.]\d{2})?\s*(?:am|pm|a\.m\.|p\.m\.)(?![a-z])"
    r"|\d{1,2}(?::\d{2})?\s*(?:-|–|—|~|to)\s*\d{1,2}(?::\d{2})?(?![\d/])"
    r"|\d{1,2}:\d{2}(?!\d)"
    rf"|(?:on\s+)?{MONTH_NAME}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?(?![\d:])"
    rf"|(?:on\s+)?(?:the\s+)?\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{MONTH_NAME}\b"
    r"|(?:on\s+)?(?:\d{4}-\d{1,2}-\d{1,2}|\d{1,2}/\d{1,2}(?:/\d{2,4})?)(?![\d/])"
    r"|\d{1,5}\s*(?:people|persons?|ppl|pax|attendees|participants|guests|visitors|delegates)\b"
    r"|for\s+\d{1,3}\b(?![:./]|\s*(?:am|pm|a\.m|p\.m|hours?|hrs?|h\b|minutes?|mins?|%|days?|weeks?))"
    r"|(?:in\s+)?(?:room|hall|rm)\s*(?:no\.?\s*|#\s*)?\d+[a-z]?\b"
)
_REQUEST_STARTS = (
    r"(?:(?:and|also|plus)\s+)?(?:"
    r"(?:we|i)\s+(?:(?:will|would|also|shall)\s+)?(?:need|want|require|would\s+like)"
    r"|(?:we'd|i'd|we'll|i'll)\s+(?:need|want|require|like)"
    r"|(?:need|needs|require|requires|want|request|requesting)\s+(?=(?:a|an|the|some|\d+|"
    + EN_NUMBER
    + r")\b)"
    r"|please|pls"
    r")\b"
)
_GOES_ON = re.compile(
    rf"(?<=[{HAN}])\s+(?=[{HAN}\d])|\s+(?=\d{{1,5}}\s*(?:个\s*)?[人位名])"
    rf"|(?i:\s+(?=(?:{_EN_GOES_ON}))|\s+{_REQUEST_STARTS})"
)
# "… with tea", "… and a projector": a service (or layout) asked for after a link word
_LINK_BEFORE_WORD = re.compile(
    rf"\s+(?:(?:with|plus|and|also|need|needs|want|\+)\s+(?:(?:a|an|the|some|{EN_NUMBER})\s+)?)$"
)
_ROOM_BEFORE = re.compile(r"\s+(?:(?:in|at)\s+(?:the\s+)?)?$")
# Lists of names (nameplates) go on over 、, commas and 和/and while each item is a name
# ("张伟、李娜、王强", "A<B, C&D"); titles and notes over 、 only ("安全、质量、效益").
_NAMES_GAP = re.compile(rf"\s*(?:[、,，]|和|及|\s(?i:and|&)\s)\s*|(?<=[{HAN}])\s+(?=[{HAN}])")
_ENUMERATION_GAP = re.compile(r"\s*、\s*")
_HAN_NAME = re.compile(rf"[{HAN}][{HAN}·•]{{1,4}}")
_NAME_LINKS = frozenset({"and", "&", "of", "de", "da", "di", "du", "la", "le", "van", "von", "bin", "al"})
# A Chinese date or time word: 「下周二」 after a list of names is no name
_ZH_WHEN = re.compile(
    r"今天|明天|后天|昨天|前天|[下上本这]周|[下上这]个?星期|周[一二三四五六日天末]|星期|礼拜"
    r"|[上中下]午|晚上|早上|凌晨|傍晚|今晚|明晚|明早"
)
_NOT_A_NAME = re.compile(
    r"^(?:谢|麻烦|辛苦|请|需|要|另|还|并|以上|等|共|一共|其他|其它|具体|详见"
    r"|(?i:please|pls|thanks?|also|plus|and|with|we|i|need|want|no)\b)"
)
# Cues of the other pieces typed after a colon; a value ends where one of them begins.
_CONTACT_CUES = ("联系人", "联系电话", "联系方式", "电话", "手机", "contact", "phone", "tel", "mobile")
NOTES_CUES = (
    "备注",
    "附注",
    "附言",
    "留言",
    "其他要求",
    "其它要求",
    "特殊要求",
    "特别说明",
    "注意事项",
    "note",
    "remark",
    "comment",
    "special request",
)


def _capitalised(word: str) -> bool:
    return next((ch for ch in word if ch.isalpha()), "").isupper()


class ValueEnds:
    """Where values typed after cues end, for one site (its cues and its vocabulary)."""

    def __init__(self, site: SiteConfig, lexicon: Lexicon) -> None:
        self.lexicon = lexicon
        words = [*site.vocabulary.title, *_CONTACT_CUES, *NOTES_CUES]
        for service in site.services:
            detail = lexicon.first_detail(service.id, DetailKind.text)
            if detail is not None:
                words += [service.name.zh, service.name.en, *service.words, *detail.words]
        self.cues = re.compile(rf"\s*{_cue(words)}\s*[:：]")

    def _vocabulary_cut(self, raw: str, start: int) -> int | None:
        """Where an English room, service or layout word begins the rest of the request."""
        folded = fold(raw)
        for hit in self.lexicon.find(folded):
            if hit.start <= start or not is_ascii_word_char(hit.text[0]):
                continue
            before = folded[start : hit.start]
            kind = hit.entry.kind
            link = _ROOM_BEFORE.search(before) if kind is Kind.room else None
            if kind in (Kind.service, Kind.layout, Kind.detail):
                link = _LINK_BEFORE_WORD.search(before)
            if link is not None:
                return start + link.start()
        return None

    def item_end(self, raw: str, start: int = 0) -> int:
        """The end of the item that begins at ``start``: the clause, cut where the request goes on."""
        ends = [len(raw)]
        for pattern, skip in ((_CLAUSE_END, 0), (_GOES_ON, 1), (self.cues, 1)):
            match = pattern.search(raw, start + skip)  # 「会议主题：，」 is no title
            if match is not None:
                ends.append(match.start())
        cut = self._vocabulary_cut(raw, start)
        if cut is not None:
            ends.append(cut)
        return min(ends)

    def is_name(self, item: str) -> bool:
        """A person's name as typed on a nameplate: 「张伟」, "Dr Wang", "A<B"; not a request part."""
        item = item.strip()
        if not item or len(item) > 40 or re.search(r"[\d:：]", item) or _NOT_A_NAME.match(item):
            return False
        if self.lexicon.find(normalise(item)) or _GOES_ON.search(" " + item) or _ZH_WHEN.search(item):
            return False
        if has_han(item):
            return _HAN_NAME.fullmatch(item) is not None
        words = item.split()
        return (
            len(words) <= 6
            and _capitalised(words[0])
            and all(word.lower() in _NAME_LINKS or _capitalised(word) for word in words)
        )

    def is_request_part(self, item: str) -> bool:
        """Whether ``item`` goes on with the request (「4个话筒」「鲜花」「明天」) rather than
        with the value before it (「安全、质量、效益」)."""
        item = item.strip()
        return (
            not item
            or re.search(r"[\d:：]", item) is not None
            or _NOT_A_NAME.match(item) is not None
            or bool(self.lexicon.find(normalise(item)))
            or _GOES_ON.search(" " + item) is not None
            or _ZH_WHEN.search(item) is not None
        )

    def value_end(self, raw: str, detail: bool = False) -> int:
        """How much of ``raw`` (the text after a cue) is the value.

        A service's text (``detail``: banner, nameplates) that begins with a name is a list of
        names and goes on over 、, commas and 和/and while each item is a name; otherwise it
        ends at 、 (「会标：年度工作会议、4个话筒、签字笔」). A title or notes go on over 、 while
        the next item is not a part of the request (「安全、质量、效益推进会」).
        """
        end = self.item_end(raw)
        if detail and not self.is_name(raw[:end]):
            return end
        if detail:
            gap, goes_with = _NAMES_GAP, self.is_name
        else:
            gap, goes_with = _ENUMERATION_GAP, lambda item: not self.is_request_part(item)
        while (match := gap.match(raw, end)) is not None and match.end() > end:
            item_end = self.item_end(raw, match.end())
            if not goes_with(raw[match.end() : item_end]):
                break
            end = item_end
        return end


_QUOTE_MARKS = " \"'“”「」"


@dataclass
class Texts:
    """Text details found in pass 1: {service id: {detail key: text}}, and 「会标：无」."""

    values: dict[str, dict[str, str]] = field(default_factory=dict)
    declined: list[str] = field(default_factory=list)


def capture_texts(
    work: str, site: SiteConfig, lexicon: Lexicon, captures: Captures, result: Understanding
) -> tuple[str, Texts]:
    """Notes, banner text and other text details, and the title: taken out as typed."""
    ends = ValueEnds(site, lexicon)
    work = _capture_notes(work, ends, captures, result)
    texts = Texts()
    for service in site.services:
        detail = lexicon.first_detail(service.id, DetailKind.text)
        if detail is None:
            continue
        cue = _cue([service.name.zh, service.name.en, *service.words, *detail.words])
        patterns = [
            re.compile(f"{cue}{_TEXT_LINK}({PLACEHOLDER})"),
            re.compile(rf"({PLACEHOLDER})\s*(?:的|字样的?)?\s*(?:(?i:a|the)\s+)?{cue}"),
            re.compile(
                rf"{cue}\s*(?:的)?\s*(?:内容|文字|(?i:text|wording))?\s*[:：]\s*([^\s{PLACEHOLDER[1:-1]}][^\n]*)"
            ),
        ]
        for index, pattern in enumerate(patterns):
            match = pattern.search(work)
            if match is None:
                continue
            if index < 2:
                value = captures.text_of(match.group(1)) or ""
                start, end = match.span(1)
            else:
                raw = match.group(1)
                typed = raw[: ends.value_end(raw, detail=True)]
                value = captures.restore(typed.strip(_QUOTE_MARKS))
                start, end = match.start(1), match.start(1) + len(typed)
            if value and _NONE.fullmatch(value):
                texts.declined.append(service.id)  # 「会标：无」 is no banner
            elif value:
                texts.values.setdefault(service.id, {})[detail.key] = value
                work = mask(work, start, end)
            break
    cues = _cue(list(site.vocabulary.title))
    title_patterns = [
        re.compile(rf"(?<!单位|部门|公司){cues}\s*(?:[:：]|是|为|叫|(?i:is|will\s+be|-))\s*({PLACEHOLDER})"),
        re.compile(rf"{_TITLE_VERBS}\s*({PLACEHOLDER})"),
        re.compile(rf"({PLACEHOLDER})\s*{_TITLE_AFTER}"),
        re.compile(
            rf"(?<!单位|部门|公司){cues}\s*(?:[:：]|是|为|叫|(?i:is|will\s+be))\s*([^\s{PLACEHOLDER[1:-1]}][^\n]*)"
        ),
    ]
    for index, pattern in enumerate(title_patterns):
        match = pattern.search(work)
        if match is None:
            continue
        if index < 3:
            value = captures.text_of(match.group(1)) or ""
            start, end = match.span(1)
        else:
            raw = match.group(1)
            typed = raw[: ends.value_end(raw)]
            value = captures.restore(typed.strip(_QUOTE_MARKS))
            start, end = match.start(1), match.start(1) + len(typed)
        if value:
            result.title = value
            result.confidence["title"] = Confidence.stated
            work = mask(work, start, end)
        break
    return work, texts


def _capture_notes(work: str, ends: ValueEnds, captures: Captures, result: Understanding) -> str:
    """「备注：…」, "notes: …": kept as typed and taken out, so that nothing in them ("提前30分钟")
    is read as part of the booking."""
    cue = _cue(list(NOTES_CUES))
    quoted = re.search(rf"{cue}\s*[:：]?\s*({PLACEHOLDER})", work)
    if quoted is not None:
        value = captures.text_of(quoted.group(1)) or ""
        start, end = quoted.span(1)
    else:
        typed_after = re.search(rf"{cue}\s*[:：]\s*([^\s{PLACEHOLDER[1:-1]}][^\n]*)", work)
        if typed_after is None:
            return work
        raw = typed_after.group(1)
        typed = raw[: ends.value_end(raw)]
        value = captures.restore(typed.strip(_QUOTE_MARKS))
        start, end = typed_after.start(1), typed_after.start(1) + len(typed)
    if value:
        result.notes = value
        result.confidence["notes"] = Confidence.stated
        work = mask(work, start, end)
    return work
