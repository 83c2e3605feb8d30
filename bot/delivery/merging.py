"""What one Bot API call of the outbox shows: a claimed row, or a burst of rows merged into one message.

When a group has more rows waiting than its remaining budget of the minute, the outbox
(bot/delivery/outbox.py) claims consecutive mergeable rows together; they go out as one
message, one numbered line and one button row per row, and an edit of any part re-renders the
whole message. :func:`compose` turns the claim's renderings into the :class:`Delivery` the
sender makes: parts that no longer fit once rendered are cut and wait for their own turn, and
room is kept per part so that the usual later edit of a line (its task done) still fits in
Telegram's 4,096 characters; a rarer, longer one (a problem's reason) is made to fit by
:func:`merged_text_within_limit`. Lengths are measured as Telegram measures them
(:func:`visible_length`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from html import unescape
from typing import Any, Literal, Protocol

from bot.delivery.notices import OutgoingFile, Rendered
from bot.delivery.pacing import Slot
from storage.models import OutboxMessage
from storage.repositories.outbox import Shown

Keyboard = list[list[dict[str, Any]]]

MAX_TEXT = 4096
"""Telegram's limit, on the text as :func:`visible_length` counts it."""
MAX_MERGED_PARTS = 40
"""Two buttons per part stay well under the ~100 buttons Telegram shows in one keyboard."""
EDIT_ROOM_PER_PART = 16
"""Characters (as :func:`visible_length` counts them) kept free per part of a merged message,
so that a part's line may grow by this much when it is edited: what a task's line grows by when
it is done (its Done line, with a name cut short, takes the place of its due line; see the merged
line in bot/render/tasks.py) or reminded, in either language. A longer state line (a problem's
reason) is rare enough to rely on :func:`merged_text_within_limit` instead: the ~70 characters
it would need per part would hold a message of task cards to ~25 parts instead of 40."""

_TAG = re.compile(r"<[^>]*>")


class MessagePart(Protocol):
    @property
    def merge_text(self) -> str | None: ...


def visible_length(html: str) -> int:
    """The length Telegram holds a text sent with ``parse_mode=HTML`` to: that of the text once
    parsed (tags count nothing, an entity such as ``&lt;`` one character), in UTF-16 code units
    (an emoji beyond the Basic Multilingual Plane such as 📋 counts 2, ☑️ too: two code points)."""
    return len(unescape(_TAG.sub("", html)).encode("utf-16-le")) // 2


def merged_text(parts: Sequence[MessagePart]) -> str:
    return "\n\n".join(f"<b>{index}.</b> {part.merge_text or ''}" for index, part in enumerate(parts, 1))


def merged_text_within_limit(parts: Sequence[MessagePart]) -> str:
    """The merged message as it may go to Telegram. The parts were merged with room left for
    their usual later lines (:data:`EDIT_ROOM_PER_PART`); should an edit still outgrow the limit
    (long problem lines, long names), parts give up their second line — a task's text, which the
    message showed when it was sent; the first says what, where and when, the later ones how it
    stands — one at a time until the message fits: first the parts that have no buttons left
    (their task is closed), then the others, in order. If even that is not enough, each part
    keeps only its first line and the number that its buttons carry, rather than the edit
    failing at Telegram. Every line of a part's text is whole HTML, so a part cut by lines
    stays well formed."""
    text = merged_text(parts)
    if visible_length(text) <= MAX_TEXT:
        return text
    texts = [part.merge_text or "" for part in parts]
    sizes = [visible_length(f"<b>{index}.</b> {line}") for index, line in enumerate(texts, 1)]
    total = sum(sizes) + 2 * (len(parts) - 1)
    closed_first = sorted(range(len(parts)), key=lambda index: _has_buttons(parts[index]))
    for index in closed_first:
        lines = texts[index].split("\n")
        if len(lines) < 3:
            continue
        texts[index] = "\n".join([lines[0], *lines[2:]])
        shorter = visible_length(f"<b>{index + 1}.</b> {texts[index]}")
        total -= sizes[index] - shorter
        sizes[index] = shorter
        if total <= MAX_TEXT:
            return "\n\n".join(f"<b>{number}.</b> {line}" for number, line in enumerate(texts, 1))
    firsts = [line.split("\n", 1)[0] for line in texts]
    heads = [f"<b>{number}.</b> {first}" for number, first in enumerate(firsts, 1)]
    kept = len(heads)
    while kept and visible_length("\n".join(heads[:kept])) > MAX_TEXT - 2:
        kept -= 1
    return "\n".join([*heads[:kept], "…"]) if kept < len(heads) else "\n".join(heads)


def _has_buttons(part: MessagePart) -> bool:
    """Whether a part's task still asks for something (a part of an edit is a :class:`Rendered`)."""
    return isinstance(part, Rendered) and part.keyboard is not None


def merged_keyboard(parts: Sequence[Rendered]) -> Keyboard | None:
    rows: Keyboard = []
    for index, part in enumerate(parts, 1):
        buttons = [button for row in part.keyboard or [] for button in row]
        if buttons:
            rows.append([dict(button, text=f"{index} · {button['text']}") for button in buttons])
    return rows or None


def merged_fits(parts: Sequence[MessagePart]) -> bool:
    """Whether ``parts`` go in one message with :data:`EDIT_ROOM_PER_PART` left for each."""
    room = MAX_TEXT - EDIT_ROOM_PER_PART * len(parts)
    return len(parts) <= MAX_MERGED_PARTS and visible_length(merged_text(parts)) <= room


@dataclass
class Delivery:
    """One Bot API call the sender makes for one claimed row, rendered."""

    row_id: int
    chat_id: int
    method: Literal["send", "edit"]
    text: str
    keyboard: Keyboard | None
    message_id: int | None
    attempts: int
    part_ids: tuple[int, ...] = ()
    """A send's merged parts after the first (they get its message id)."""
    slot: Slot | None = None
    file: OutgoingFile | None = None
    """A picture or document to send with ``text`` as its caption."""
    shown: tuple[Shown, ...] = ()
    """What each row of the message shows, kept on the rows once the call succeeded."""


@dataclass
class Claim:
    """Rows leased for one call, not rendered yet: ``rows`` are what the message shows (a
    send's row and its merged parts; for an edit, those of the message it changes)."""

    row_id: int
    chat_id: int
    method: Literal["send", "edit"]
    rows: list[OutboxMessage]
    message_id: int | None
    attempts: int
    slot: Slot

    def delivery(self, **rendered: Any) -> Delivery:
        values: dict[str, Any] = {"text": "", "keyboard": None, **rendered}
        return Delivery(
            row_id=self.row_id,
            chat_id=self.chat_id,
            method=self.method,
            message_id=self.message_id,
            attempts=self.attempts,
            slot=self.slot,
            **values,
        )


def compose(claim: Claim, rendered: list[Rendered | None]) -> tuple[Delivery | None, list[int]]:
    """The call for a claim from its rows' renderings (None: nothing left to show), and the
    merged parts that no longer fit in a send's message (they wait for their own turn)."""
    pairs = list(zip(claim.rows, rendered, strict=True))
    cut: list[int] = []
    if claim.method == "send" and len(pairs) > 1:
        first = pairs[0][1]
        kept = pairs[:1]
        end = len(pairs)
        if first is not None and first.merge_text is None:
            end = 1
        else:
            lines = [first] if first is not None else []
            for index in range(1, len(pairs)):
                part = pairs[index][1]
                if part is not None:
                    if part.merge_text is None or not merged_fits([*lines, part]):
                        end = index
                        break
                    lines.append(part)
                kept.append(pairs[index])
        cut = [row.id for row, _ in pairs[end:]]
        pairs = kept
    visible = [(row, shown) for row, shown in pairs if shown is not None]
    if not visible:
        return None, cut
    records = tuple(Shown(row.id, shown.text, shown.keyboard, shown.merge_text) for row, shown in visible)
    part_ids = tuple(row.id for row, _ in pairs[1:]) if claim.method == "send" else ()
    if len(pairs) > 1:
        parts = [shown for _, shown in visible]
        return claim.delivery(
            text=merged_text_within_limit(parts),
            keyboard=merged_keyboard(parts),
            part_ids=part_ids,
            shown=records,
        ), cut
    only = visible[0][1]
    return claim.delivery(text=only.text, keyboard=only.keyboard, file=only.file, shown=records), cut
