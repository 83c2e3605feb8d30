"""``looks_like_booking_request``: is a plain chat message worth reading as a booking?

Cheap (no jionlp, no dateparser): a few word lists. A booking request says "book"/"订" and
one more thing a booking has (a time, a count, a room, a service, a meeting); or it names a
time and a count, a room or a service; or a count and a room or a service. Greetings,
thanks, chatter, problem reports without a time, and changes or cancellations of an
existing booking ("改到4点", "move my meeting") are not booking requests.
"""

from __future__ import annotations

import re

from bot.site import SiteConfig

from .text import normalise
from .vocabulary import lexicon_for

_BOOK = re.compile(
    r"订|预订|预定|预约|借用|借个?|租用|申请|安排|要用|想用|\b(?:book|booking|reserve|reservation|need\s+(?:a|the)\s+"
    r"(?:room|hall)|(?:can|could|may)\s+(?:i|we)\s+(?:get|have|use|book|reserve))\b"
)
_WHEN = re.compile(
    r"今天|明天|后天|大后天|下周|本周|这周|周[一二三四五六日天]|星期|礼拜|\d+\s*月\s*\d+|\d+\s*[号日]|上午|下午|晚上|中午"
    r"|\d+\s*[点:]|\b(?:today|tonight|tomorrow|tmrw|monday|tuesday|wednesday|thursday|friday|saturday|sunday"
    r"|next\s+week|weekend|周末|morning|afternoon|evening|noon|jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)\b"
    r"|\b\d{1,2}\s*(?:am|pm)\b|\b\d{1,2}:\d{2}\b|\b\d{1,2}\s*-\s*\d{1,2}\s*(?:am|pm)\b"
)
_COUNT = re.compile(
    r"\d+\s*(?:个)?\s*(?:人|位|名)|\b\d+\s*(?:people|persons|ppl|pax|attendees|participants|guests)\b"
    r"|\bfor\s+\d+\b(?!\s*(?:am|pm|:))"
)
_MEETING = re.compile(
    r"会议|开会|会场|座谈|培训|讲座|报告会|[\u4e00-\u9fff](?:室|厅)|\b(?:meeting|conference|room|hall|seminar"
    r"|workshop|training|session|briefing)\b"
)
# Changing or cancelling a booking is not a new request.
_CHANGE = re.compile(
    r"改到|改成|改为|改期|推迟|提前到|延后|挪到|换到|调整到|取消|\b(?:move|moved|reschedule|rescheduled|postpone"
    r"|push\s+back|bring\s+forward|cancel|cancelled|canceled|change\s+(?:my|our|the)\s+booking)\b"
)
_ROOM_WORDS = re.compile(
    r"[\u4e00-\u9fff](?:室|厅)|会场|(?:在|到|用)\s*\d{3,4}(?![\d人点号日月:])|\b(?:room|hall)\b"
)
# Without the site's room list, a bare 3–4 digit number ("203") is taken for a room number.
_ROOM_NUMBER = re.compile(
    r"(?<![\d:./-])\d{3,4}(?![\d:./-]|\s*(?:人|位|名|个|号|点|年|月|日|元|块)|\s*(?:people|ppl|pax|am|pm)\b)"
)
_SERVICE_WORDS = re.compile(
    r"茶水|话筒|麦克风|投影|会标|横幅|鲜花|\b(?:tea|projector|mics?|microphones?|banner)\b"
)


def looks_like_booking_request(text: str, site: SiteConfig | None = None) -> bool:
    """True when ``text`` reads like a request to book a room (not a greeting or a chat)."""
    norm = normalise(text[:2000])
    if len(norm.strip()) < 4 or _CHANGE.search(norm):
        return False
    book = bool(_BOOK.search(norm))
    when = bool(_WHEN.search(norm))
    count = bool(_COUNT.search(norm))
    if site is not None:
        kinds = {hit.entry.kind.value for hit in lexicon_for(site).find(norm)}
        place = "room" in kinds or bool(_ROOM_WORDS.search(norm))
        things = bool(kinds & {"service", "layout"})
    else:
        place = bool(_ROOM_WORDS.search(norm) or _ROOM_NUMBER.search(norm))
        things = bool(_SERVICE_WORDS.search(norm))
    if book:  # "订会议室", "I'd like to book a room"
        return when or count or place or things or bool(_MEETING.search(norm))
    if when:  # "明天下午 203 20人", "tomorrow 2-4pm for 12": a time and something a booking has
        return count or place or things
    return count and (place or things)  # "room for 12 with a projector"
