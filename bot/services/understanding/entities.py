"""Everything but dates and times: rooms, counts, services and their details, title, …

Two passes. The first reads the text as typed (quotations already replaced by private-use
characters): the pieces whose wording must be kept — contact, notes, banner text and other
text details, title — are taken out whole, each ending where the request goes on. The second
reads the normalised text: the site's vocabulary, then numbers next to it (microphones,
parking spaces), reception level, attendee count. Whatever it recognises is blanked out, so
the time readers never see "203" or "120人".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from bot.site import DetailKind, SiteConfig

from .result import Confidence, Problem, Understanding
from .text import (
    EN_NUMBER,
    HAN,
    MONTH_NAME,
    PLACEHOLDER,
    Captures,
    en_number,
    fold,
    has_han,
    is_ascii_word_char,
    mask,
    normalise,
)
from .vocabulary import Hit, Kind, Lexicon

_STOP = r"[,，。;；\n!?！？．｡]|\.(?=\s|$)"  # a clause ends here


def _choose(result: Understanding, name: str, values: list[Any], problem: str, said: str = "") -> None:
    """One distinct value is the field's; several are a question."""
    distinct = list(dict.fromkeys(values))
    if len(distinct) == 1:
        setattr(result, name, distinct[0])
        result.confidence[name] = Confidence.stated
    elif distinct:
        result.ambiguous[name] = tuple(distinct)
        result.problems.append(Problem(problem, name, said))


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
    _choose(result, "contact_phone", phones, "two_phones")
    names = []
    for match in _CONTACT.finditer(work):
        group = 1 if match.group(1) else 2
        start, end = match.span(group)
        goes_on = _GOES_ON.search(work, start + 1)  # "contact: Mary Jones Friday 10am"
        end = min(end, goes_on.start()) if goes_on is not None else end
        names.append(work[start:end])
        work = mask(work, start, end)
    _choose(result, "contact_name", names, "two_contacts")
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


# ---- pass 2: the site's vocabulary ---------------------------------------------------------
_NEGATION_BEFORE = re.compile(
    r"(?:不要|不需要|不用|无需|不必|不需|毋需|免|别|没有|不)(?:准备|安排|提供|摆放|摆|放|上|配|备|设|用)?\s*$"
    r"|\b(?:no|without|don'?t\s+(?:need|want)|do\s+not\s+(?:need|want)|no\s+need\s+for|not)\s+(?:any\s+|a\s+|an\s+|the\s+)?$"
)
# "鲜花就不要了", "话筒不用": the negation closes the clause (in "要录像 不需要保密" it is 保密's)
_NEGATION_AFTER = re.compile(
    r"^(?:就|也|都)?(?:不要|不用|不需要|不必|免了)(?=\s*(?:了|的)?\s*(?:[,，。;；!！]|$))"
    r"|^\s*(?:(?:is|are)\s+)?not\s+(?:needed|required|necessary)"
)
# "不要鲜花和茶水" declines both; after a comma a new clause starts ("不要鲜花，茶水要").
_LIST_GAP = re.compile(r"^\s*(?:、|和|及|与|以及|或|or|nor|/)?\s*$")


def _negated(norm: str, hit: Hit) -> bool:
    before = norm[max(0, hit.start - 10) : hit.start]
    after = norm[hit.end : hit.end + 8]
    return bool(_NEGATION_BEFORE.search(before) or _NEGATION_AFTER.match(after))


_CLASSIFIER = "个|只|支|把|套|台|张|位|辆|块|副|排|座"
_ADJ_ZH = "无线|有线|手持|领夹式?|鹅颈|桌面|会议|台式|立式|访客|来宾|贵宾|外来|备用|小|大"
_ADJ_EN = (
    r"wireless|handheld|hand-held|lapel|table|desk|podium|extra|more|additional|clip-on|gooseneck|cordless"
    r"|visitor|visitors'?|guest|car|reserved|vip|standing|spare"
)
_NUMBER_LEFT = [
    re.compile(rf"(?<![\d:.])(\d{{1,3}})\s*(?:{_CLASSIFIER})\s*(?:{_ADJ_ZH})?\s*$|(?<![\d:.\s])(\d{{1,3}})$"),
    re.compile(rf"(?<![\d:./-])\b({EN_NUMBER})\s+(?:(?:{_ADJ_EN})\s+){{0,2}}$"),
]
_NUMBER_RIGHT = [
    re.compile(
        rf"^(?:\s*(?:[:：]|要|需要|需|共|一共|各|坐|就座|安排|设|x|×|\*)\s*)?(\d{{1,3}})\s*(?:{_CLASSIFIER}|人)?"
        r"(?![\d:.])"
    ),
    re.compile(
        rf"^\s*(?:[:x×*]|for|count|needed|required)?\s*({EN_NUMBER})\b(?!\s*(?:pm|am|:|\.|people|persons"
        r"|ppl|pax|/|hours?|hrs?|minutes?|mins?|days?))"
    ),
]


def _number(text: str) -> int | None:
    return int(text) if text.isdigit() else en_number(text)


def _detail_number(rest: str, hit: Hit) -> tuple[int, int, int] | None:
    """A count written right next to a service word: (value, start, end) in ``rest``."""
    left = rest[max(0, hit.start - 16) : hit.start]
    for pattern in _NUMBER_LEFT:
        match = pattern.search(left)
        if match:
            value = _number(next(group for group in match.groups() if group))
            if value is not None:
                offset = hit.start - len(left)
                return value, offset + match.start(), offset + match.end()
    right = rest[hit.end : hit.end + 16]
    for pattern in _NUMBER_RIGHT:
        match = pattern.match(right)
        if match:
            value = _number(match.group(1))
            if value is not None:
                return value, hit.end + match.start(), hit.end + match.end()
    return None


def _unit_number(rest: str, hit: Hit, units: tuple[str, ...]) -> tuple[int, int, int] | None:
    """A number written with one of ``units`` near a detail word ("每15分钟续水")."""
    unit = "|".join(re.escape(normalise(u)) for u in sorted(units, key=len, reverse=True))
    left = rest[max(0, hit.start - 14) : hit.start]
    match = re.search(rf"(?:每隔?|every)?\s*(\d{{1,3}})\s*(?:{unit})\s*(?:一次)?\s*$", left)
    if match:
        offset = hit.start - len(left)
        return int(match.group(1)), offset + match.start(), offset + match.end()
    right = rest[hit.end : hit.end + 16]
    match = re.match(
        rf"^\s*(?:间隔|每隔?|(?:once\s+)?every|interval(?:\s+of)?|[:：])?\s*(\d{{1,3}})\s*(?:{unit})", right
    )
    if match:
        return int(match.group(1)), hit.end + match.start(), hit.end + match.end()
    return None


def read_vocabulary(
    norm: str, site: SiteConfig, lexicon: Lexicon, result: Understanding, texts: Texts
) -> str:
    """Rooms, departments, layouts, services (with details), confidential; returns the rest."""
    hits = lexicon.find(norm)
    rest = norm
    for hit in hits:
        rest = mask(rest, hit.start, hit.end)
    rooms: list[str] = []
    departments: list[str] = []
    layouts: list[str] = []
    secrecy: list[bool] = []
    wanted: dict[str, dict[str, Any]] = {}
    declined: list[str] = []
    numbers: dict[str, list[int]] = {}
    previous_negated: Hit | None = None
    for hit in hits:
        entry = hit.entry
        if entry.kind is Kind.room:
            rooms.append(entry.ref)
        elif entry.kind is Kind.department:
            departments.append(entry.ref)
        elif entry.kind is Kind.layout:
            layouts.append(entry.ref)
        elif entry.kind is Kind.confidential:
            secrecy.append(not _negated(norm, hit))
        elif entry.kind is Kind.not_confidential:
            secrecy.append(False)
        elif entry.kind is Kind.service:
            negated = _negated(norm, hit) or (
                previous_negated is not None and bool(_LIST_GAP.match(norm[previous_negated.end : hit.start]))
            )
            if negated:
                declined.append(entry.ref)
                previous_negated = hit
                continue
            previous_negated = None
            wanted.setdefault(entry.ref, {})
            detail = lexicon.first_detail(entry.ref, DetailKind.number)
            if detail is not None:
                found = _detail_number(rest, hit)
                if found is not None:
                    numbers.setdefault(f"{entry.ref}.{detail.key}", []).append(found[0])
                    rest = mask(rest, found[1], found[2])
        elif entry.kind is Kind.detail:
            detail = lexicon.detail(entry.ref)
            if detail is None or detail.kind != DetailKind.number:
                continue
            found = _unit_number(rest, hit, detail.units) if detail.units else _detail_number(rest, hit)
            wanted.setdefault(
                entry.ref.partition(".")[0], {}
            )  # "续水" asks for tea, with or without a number
            if found is not None:
                numbers.setdefault(entry.ref, []).append(found[0])
                rest = mask(rest, found[1], found[2])
    _choose(result, "room_id", rooms, "two_rooms")
    _choose(result, "department_id", departments, "two_departments")
    _choose(result, "layout", layouts, "two_layouts")
    if secrecy:
        _choose(result, "confidential", secrecy, "contradiction")
    for service_id in texts.declined:
        declined.append(service_id)
        wanted.pop(service_id, None)
    for service_id, details in texts.values.items():
        if service_id not in declined:
            wanted.setdefault(service_id, {}).update(details)
    for ref, values in numbers.items():
        service_id, _, key = ref.partition(".")
        detail = lexicon.detail(ref)
        distinct = list(dict.fromkeys(values))
        if detail is None or service_id not in wanted:
            continue
        if len(distinct) > 1:
            result.ambiguous[f"services.{ref}"] = tuple(distinct)
            result.problems.append(Problem("two_counts", f"services.{ref}"))
        elif (detail.min is not None and distinct[0] < detail.min) or (
            detail.max is not None and distinct[0] > detail.max
        ):
            result.problems.append(Problem("detail_out_of_range", f"services.{ref}", str(distinct[0])))
        else:
            wanted[service_id][key] = distinct[0]
    result.declined_services = tuple(dict.fromkeys(s for s in declined if s not in wanted))
    for service_id in list(wanted):
        if service_id in result.declined_services:
            del wanted[service_id]
    result.services = wanted
    for service_id in wanted:
        result.confidence[f"services.{service_id}"] = Confidence.stated
    return rest


# ---- pass 2: reception level, attendees, rooms the site does not know ---------------------
def read_level(rest: str, lexicon: Lexicon, result: Understanding) -> str:
    if not lexicon.reception_cues:
        return rest
    cue = (
        "(?:"
        + "|".join(
            re.escape(c).replace(r"\ ", r"\s*") for c in sorted(lexicon.reception_cues, key=len, reverse=True)
        )
        + ")"
    )
    patterns = [
        re.compile(rf"(?<!\d)(\d{{1,2}})\s*级\s*{cue}"),
        re.compile(
            rf"{cue}\s*(?:[:：]|为|是|按|(?:is|at)\b)?\s*(?:第|level\s*|等级\s*)?(\d{{1,2}})\s*(?:级)?(?!\d)"
        ),
        re.compile(rf"\blevel[\s-]*(\d{{1,2}})\s*{cue}"),
        re.compile(rf"\b(\d)(?:st|nd|rd|th)[\s-]*level\s+{cue}"),
    ]
    levels: list[int] = []
    for pattern in patterns:
        for match in pattern.finditer(rest):
            levels.append(int(match.group(1)))
            rest = mask(rest, match.start(), match.end())
    good = [level for level in levels if 1 <= level <= 4]
    for level in levels:
        if level not in good:
            result.problems.append(Problem("level_out_of_range", "reception_level", str(level)))
    _choose(result, "reception_level", good, "two_levels")
    return rest


_PEOPLE_EN = (
    r"(?:people|persons?|ppl|pple|pax|attendees|participants|guests|delegates|heads|visitors|colleagues"
    r"|members|folks?|of\s+us|staff)"
)
_COUNT_VAGUE = [
    re.compile(r"(\d{1,5})\s*多\s*(?:个)?\s*(?:人|位|名)"),
    re.compile(r"(?<![\d])([一二三四五六七八九十几两数]{2,})\s*(?:多|来)?\s*(?:个)?\s*(?:人|位|名)"),
    re.compile(r"(\d{1,5})\s*(?:个)?\s*(?:人|位|名)\s*(?:以上|以内|以下|之内)"),
    re.compile(r"(?:不超过|不少于|至少|最多|超过)\s*(\d{1,5})\s*(?:个)?\s*(?:人|位|名)"),
    re.compile(
        rf"\b(?:over|more\s+than|at\s+least|up\s+to|under|fewer\s+than|less\s+than|no\s+more\s+than"
        rf"|max(?:imum)?|a\s+few|several|a\s+dozen\s+or\s+so)\s+({EN_NUMBER})?\s*{_PEOPLE_EN}"
    ),
]
_COUNT_RANGE = [
    re.compile(r"(?<![\d:.])(\d{1,5})\s*(?:-|~|到|至|—|–|～)\s*(\d{1,5})\s*(?:个)?\s*(?:人|位|名)"),
    re.compile(rf"\b({EN_NUMBER})\s*(?:-|–|to|or)\s*({EN_NUMBER})\s+{_PEOPLE_EN}\b"),
]
_COUNT = [
    re.compile(
        r"(?:人数|参会人数|参加人数|与会人数|出席人数|参会人员|规模)\s*(?:[:：]|约|大约|大概|为|是|共)*\s*(\d{1,5})"
        r"(?!\d)"
    ),
    re.compile(
        r"(?<![\d:./-])(\d{1,5})\s*(?:个)?\s*(?:人|位|名)(?!次|民|员|字|份|\s*(?:领导|嘉宾|贵宾|专家|代表|主持|发言))"
    ),
    re.compile(rf"(?<![\d:./-])\b({EN_NUMBER})\s*{_PEOPLE_EN}\b"),
    re.compile(
        rf"\b(?:for|party\s+of|group\s+of|team\s+of|headcount|attendees|attendance|participants|people|pax|guests"
        rf"|number\s+of\s+people|size)\s*[:=]?\s*(?:about|around|approx(?:imately|\.)?|roughly|~|some)?\s*"
        rf"({EN_NUMBER})\b(?!\s*(?:hours?|hrs?|h\b|minutes?|mins?|:|\.\d|am\b|pm\b|a\.m|p\.m|o'?clock|th\b|st\b"
        rf"|nd\b|rd\b|/|-\s*\d|to\s+\d|days?|weeks?|mics?|microphones?))"
    ),
]


def read_attendees(rest: str, result: Understanding) -> str:
    vague = False
    for pattern in _COUNT_VAGUE:
        for match in pattern.finditer(rest):  # well-formed numerals are digits by now: "二三十人" is not
            vague = True
            result.problems.append(Problem("count_vague", "attendees", match.group(0).strip()))
            rest = mask(rest, match.start(), match.end())
    ranges: list[tuple[int, int]] = []
    for pattern in _COUNT_RANGE:
        for match in pattern.finditer(rest):
            low, high = _number(match.group(1)), _number(match.group(2))
            if low is not None and high is not None and low < high:
                ranges.append((low, high))
                rest = mask(rest, match.start(), match.end())
    counts: list[int] = []
    for pattern in _COUNT:
        for match in pattern.finditer(rest):
            value = _number(match.group(1))
            if value is not None and value > 0:
                counts.append(value)
                rest = mask(rest, match.start(), match.end())
    distinct = list(dict.fromkeys(counts))
    if ranges:
        result.problems.append(Problem("count_range", "attendees"))
        result.ambiguous["attendees"] = tuple(dict.fromkeys([*distinct, *(v for r in ranges for v in r)]))
    elif len(distinct) > 1:
        result.problems.append(Problem("two_counts", "attendees", " / ".join(map(str, distinct))))
        result.ambiguous["attendees"] = tuple(distinct)
    elif distinct and not vague:
        result.attendees = distinct[0]
        result.confidence["attendees"] = Confidence.stated
    return rest


_UNKNOWN_ROOM = [
    re.compile(
        rf"(?:第\s*\d+|\d+\s*号|\d{{1,4}}|\d+\s*楼|[a-z]\d*|[东西南北大小]|贵宾|多功能|[{HAN}]{{1,2}}号)\s*"
        r"(?:会议室|会议厅|会客室|接待室|报告厅|多功能厅|礼堂|培训室|洽谈室|会场)"
    ),
    re.compile(r"\b(?:room|hall|rm\.?)\s*(?:no\.?\s*|#\s*)?\d{1,4}[a-z]?\b"),
    re.compile(
        r"\b(?:meeting|conference|board)\s*room\s+(?:no\.?\s*|#\s*)?(?:\d+|[a-z])\b(?!\s*(?:people|ppl))"
    ),
    re.compile(r"\b(?:small|big|large|main|little)\s+(?:meeting\s+|conference\s+)?(?:room|hall)\b"),
]
_FLOOR = re.compile(r"(\d{1,2})\s*楼|\b(\d{1,2})(?:st|nd|rd|th)[\s-]+floor\b|\bfloor\s+(\d{1,2})\b")


def read_unknown_rooms(rest: str, site: SiteConfig, result: Understanding) -> str:
    """A room named the site does not know: never replaced by a guess, but reported."""
    said: list[str] = []
    for pattern in _UNKNOWN_ROOM:
        for match in pattern.finditer(rest):
            said.append(match.group(0).strip())
            rest = mask(rest, match.start(), match.end())  # "3楼" is no clock minute
    if not said:
        return rest
    result.problems.append(Problem("unknown_room", "room", said[0]))
    candidates: list[str] = []
    if result.room_id is not None:  # "505 or 203": the one it knows is not the one asked for
        candidates.append(result.room_id)
        result.room_id = None
        result.confidence.pop("room_id", None)
    for match in _FLOOR.finditer(" ".join(said)):
        floor = int(next(g for g in match.groups() if g))
        candidates += [room.id for room in site.rooms if room.floor == floor]
    if candidates:
        result.ambiguous["room_id"] = tuple(dict.fromkeys(candidates))
    return rest
