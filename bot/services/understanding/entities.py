"""Everything but dates and times: rooms, counts, services and their details, title, …

Two passes. The first reads the text as typed (quotations already replaced by private-use
characters): the pieces whose wording must be kept — banner text, title, contact — are taken
out whole. The second reads the normalised text: the site's vocabulary, then numbers next to
it (microphones, parking spaces), reception level, attendee count. Whatever it recognises is
blanked out, so the time readers never see "203" or "120人".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from bot.site import DetailKind, SiteConfig

from .result import Confidence, Problem, Understanding
from .text import EN_NUMBER, HAN, PLACEHOLDER, Captures, en_number, mask, normalise
from .vocabulary import Hit, Kind, Lexicon

_STOP = r"[,，。;；\n!?！？]|\.(?=\s|$)"  # a clause ends here


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
_PHONE_CUE = re.compile(
    r"(?i:电话|手机|联系电话|联系方式|tel\.?|phone|mobile|cell)\s*(?:号码?)?\s*[:：]?\s*(\+?\d[\d\s-]{5,18}\d"
    r"(?:\s*(?:转|分机|(?i:ext\.?|x))\s*\d{2,6})?)"
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
        names.append(match.group(group))
        work = mask(work, *match.span(group))
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
_NAMES = re.compile(rf"[{HAN}]{{2,4}}(?:\s*[、和及]\s*[{HAN}]{{2,4}})+")


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


def _clause_text(raw: str) -> str:
    """A value written after a colon: up to the end of the clause, as typed."""
    value = re.split(_STOP, raw, maxsplit=1)[0].strip()
    if "、" in value and not _NAMES.fullmatch(value):
        value = value.split("、")[0].strip()
    return value.strip(" \"'“”「」")


# Where a title typed after its cue ends, besides the end of the clause. In Chinese, at a
# space between two Chinese words or before a number (「会议主题：季度预算评审 需要投影仪」,
# 「…评审 10人」): a Chinese title has no spaces of its own, but a space next to a Latin word
# stays (「AI 赋能培训」). English titles have spaces, so a title ends where a request for
# something begins: "Title: Budget review need a projector", "…, we need …", "… please …".
_TITLE_END = re.compile(
    rf"(?<=[{HAN}])\s+(?=[{HAN}\d])"
    r"|(?i:\s+(?:(?:and|also|plus)\s+)?(?:"
    r"(?:we|i)\s+(?:(?:will|would|also|shall)\s+)?(?:need|want|require|would\s+like)"
    r"|(?:we'd|i'd|we'll|i'll)\s+(?:need|want|require|like)"
    r"|(?:need|needs|require|requires|want|request|requesting)\s+(?=(?:a|an|the|some|\d+|"
    + EN_NUMBER
    + r")\b)"
    r"|please|pls"
    r")\b)"
)


def _title_text(raw: str) -> str:
    """A title written after its cue: the clause, cut where another part of the request begins."""
    value = _clause_text(raw)
    cut = _TITLE_END.search(value, 1)
    return value[: cut.start()].rstrip() if cut else value


@dataclass
class Texts:
    """Text details found in pass 1: {service id: {detail key: text}}, and 「会标：无」."""

    values: dict[str, dict[str, str]] = field(default_factory=dict)
    declined: list[str] = field(default_factory=list)


def capture_texts(
    work: str, site: SiteConfig, lexicon: Lexicon, captures: Captures, result: Understanding
) -> tuple[str, Texts]:
    """Banner text and other text details, and the title: taken out as typed."""
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
                value = _clause_text(match.group(1))
                start, end = match.start(1), match.start(1) + len(value)
            if value and _NONE.fullmatch(value):
                texts.declined.append(service.id)  # 「会标：无」 is no banner
            elif value:
                texts.values.setdefault(service.id, {})[detail.key] = value
                work = work[:start] + " " * (end - start) + work[end:]
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
            typed = _title_text(match.group(1))
            value = captures.restore(typed)
            start, end = match.start(1), match.start(1) + len(typed)
        if value:
            result.title = value
            result.confidence["title"] = Confidence.stated
            work = work[:start] + " " * (end - start) + work[end:]
        break
    return work, texts


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
