"""Everything but dates and times: rooms, counts, services and their details, …

Two passes. The first (``typed_values``) reads the text as typed and takes out the pieces
whose wording must be kept (contact, notes, banner text, title). The second, here, reads the
normalised text: the site's vocabulary, then numbers next to it (microphones, parking
spaces), reception level, attendee count. Whatever it recognises is blanked out, so the time
readers never see "203" or "120人".
"""

from __future__ import annotations

import re
from typing import Any

from bot.site import DetailKind, SiteConfig

from .result import Confidence, Problem, Understanding, choose
from .text import (
    EN_NUMBER,
    HAN,
    en_number,
    mask,
    normalise,
)
from .typed_values import Texts
from .vocabulary import Hit, Kind, Lexicon

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
    choose(result, "room_id", rooms, "two_rooms")
    choose(result, "department_id", departments, "two_departments")
    choose(result, "layout", layouts, "two_layouts")
    if secrecy:
        choose(result, "confidential", secrecy, "contradiction")
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
    choose(result, "reception_level", good, "two_levels")
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
