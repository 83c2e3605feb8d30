"""The site's own words, compiled once per site: rooms, departments, layouts, services.

A site teaches the bot its vocabulary in the site file (rooms' ``aliases``, departments'
``aliases``, layouts' and services' ``words``, ``[vocabulary]``); nothing here names a room
or a service.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from bot.site import DetailKind, ServiceDetail, SiteConfig

from .text import HAN, is_ascii_word_char, normalise


class Kind(StrEnum):
    room = "room"
    department = "department"
    layout = "layout"
    service = "service"
    detail = "detail"  # a word naming a service detail ("续水")
    confidential = "confidential"
    not_confidential = "not_confidential"


@dataclass(frozen=True)
class Entry:
    phrase: str  # normalised
    kind: Kind
    ref: str  # room id, service id, "service_id.detail_key", …
    pattern: re.Pattern[str]


@dataclass(frozen=True)
class Hit:
    entry: Entry
    start: int
    end: int

    @property
    def text(self) -> str:
        return self.entry.phrase


# A single Han character is a word only where it cannot be part of a longer word: "要茶、"
# is tea, "茶歇" and "花费" are not tea and flowers.
_SINGLE_HAN_BEFORE = r"(?:^|(?<=[\s,.;:!?、。，；：()（）\"'要摆放备加和及与有点送上需配]))"
_SINGLE_HAN_AFTER = r"(?=$|[\s,.;:!?、。，；：()（）\"'和及与等])"
# A Chinese room name right after one of these is part of a longer name ("贵宾接待室").
_ROOM_MODIFIERS = "大小宾东西南北新旧楼层号厅功能型"


def _pattern(phrase: str, kind: Kind) -> re.Pattern[str]:
    body = re.escape(phrase).replace(r"\ ", r"\s*")  # "room 203" also matches "room203"
    if phrase[-1].isascii() and phrase[-1].isalpha():
        body += r"(?:s|es)?"  # plurals: "mics", "projectors"
    before = r"(?<![A-Za-z0-9_])" if is_ascii_word_char(phrase[0]) else ""
    after = r"(?![A-Za-z0-9_])" if is_ascii_word_char(phrase[-1]) else ""
    if phrase.isdigit():  # "203" is a room, "203人" is not, nor is "2032" or "12/203"
        before = r"(?<![\d:./-])"
        after = r"(?![\d:./-]|\s*(?:人|位|名|个|号|点|年|月|日|people|persons|ppl|pax|am|pm))"
    if len(phrase) == 1 and re.match(f"[{HAN}]", phrase):
        before, after = _SINGLE_HAN_BEFORE, _SINGLE_HAN_AFTER
    elif kind is Kind.room and re.match(f"[{HAN}]", phrase):
        before = f"(?<![{_ROOM_MODIFIERS}])"
    return re.compile(before + body + after)


class Lexicon:
    def __init__(self, site: SiteConfig) -> None:
        self.site = site
        entries: dict[tuple[str, Kind, str], None] = {}

        def add(words: list[str] | tuple[str, ...], kind: Kind, ref: str) -> None:
            for word in words:
                phrase = normalise(word).strip()
                if phrase:
                    entries[(phrase, kind, ref)] = None

        for room in site.rooms:
            add([room.name.zh, room.name.en, *room.aliases], Kind.room, room.id)
        for department in site.departments:
            add([department.name.zh, department.name.en, *department.aliases], Kind.department, department.id)
        for layout in site.layouts:
            add([layout.name.zh, layout.name.en, *layout.words], Kind.layout, layout.id)
        for service in site.services:
            add([service.name.zh, service.name.en, *service.words], Kind.service, service.id)
            for detail in service.details:
                add(detail.words, Kind.detail, f"{service.id}.{detail.key}")
        add(site.vocabulary.confidential, Kind.confidential, "yes")
        add(site.vocabulary.not_confidential, Kind.not_confidential, "no")
        self.entries = [Entry(phrase, kind, ref, _pattern(phrase, kind)) for phrase, kind, ref in entries]
        self.reception_cues = [normalise(word) for word in site.vocabulary.reception_level if word.strip()]
        self.title_cues = sorted(
            (word for word in site.vocabulary.title if word.strip()), key=len, reverse=True
        )

    def find(self, text: str) -> list[Hit]:
        """Every vocabulary word in ``text``, longest first where two overlap, in text order."""
        found = [
            Hit(entry, match.start(), match.end())
            for entry in self.entries
            for match in entry.pattern.finditer(text)
        ]
        found.sort(key=lambda hit: (-(hit.end - hit.start), hit.start))
        taken: list[Hit] = []
        for hit in found:
            if all(hit.end <= other.start or hit.start >= other.end for other in taken):
                taken.append(hit)
        return sorted(taken, key=lambda hit: hit.start)

    def detail(self, ref: str) -> ServiceDetail | None:
        service_id, _, key = ref.partition(".")
        service = self.site.service(service_id)
        return next((d for d in service.details if d.key == key), None) if service else None

    def first_detail(self, service_id: str, kind: DetailKind) -> ServiceDetail | None:
        """The detail a bare number or text next to the service's own word fills."""
        service = self.site.service(service_id)
        if service is None:
            return None
        return next((d for d in service.details if d.kind == kind and not d.units), None)


_CACHE: dict[int, Lexicon] = {}


def lexicon_for(site: SiteConfig) -> Lexicon:
    """One compiled lexicon per site object (a site is immutable once loaded)."""
    lexicon = _CACHE.get(id(site))
    if lexicon is None or lexicon.site is not site:
        if len(_CACHE) > 8:
            _CACHE.clear()
        lexicon = _CACHE[id(site)] = Lexicon(site)
    return lexicon
