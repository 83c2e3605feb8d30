"""What one Bot API call of the outbox shows: a claimed row, or a burst of rows merged into one message.

When a group has more rows waiting than its remaining budget of the minute, the outbox
(bot/delivery/outbox.py) claims consecutive mergeable rows together; they go out as one
message, one numbered line and one button row per row, and an edit of any part re-renders the
whole message. :func:`compose` turns the claim's renderings into the :class:`Delivery` the
sender makes: parts that no longer fit once rendered are cut and wait for their own turn, and
room is kept per part so that later edits of a line still fit in Telegram's 4,096 characters.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from bot.delivery.notices import OutgoingFile, Rendered
from bot.delivery.pacing import Slot
from storage.models import OutboxMessage
from storage.repositories.outbox import Shown

Keyboard = list[list[dict[str, Any]]]

MAX_TEXT = 4096
MAX_MERGED_PARTS = 40
"""Two buttons per part stay well under the ~100 buttons Telegram shows in one keyboard."""
EDIT_ROOM_PER_PART = 64
"""Characters kept free per part of a merged message, so later edits of a line still fit."""


class MessagePart(Protocol):
    @property
    def merge_text(self) -> str | None: ...


def merged_text(parts: Sequence[MessagePart]) -> str:
    return "\n\n".join(f"<b>{index}.</b> {part.merge_text or ''}" for index, part in enumerate(parts, 1))


def merged_text_within_limit(parts: Sequence[MessagePart]) -> str:
    """The merged message as it may go to Telegram. The parts were merged with room left for
    their later lines (:data:`EDIT_ROOM_PER_PART`); should an edit still outgrow the limit (many
    parts with long problem lines), each part keeps its first line (what, where, when) and the
    number that its buttons carry, rather than the edit failing at Telegram. Every line of a
    part's text is whole HTML, so a part cut to its first line stays well formed."""
    text = merged_text(parts)
    if len(text) <= MAX_TEXT:
        return text
    heads = [(part.merge_text or "").split("\n", 1)[0] for part in parts]
    lines = [f"<b>{index}.</b> {head}" for index, head in enumerate(heads, 1)]
    while len("\n".join(lines)) > MAX_TEXT - 2:
        lines.pop()
    return "\n".join([*lines, "…"]) if len(lines) < len(parts) else "\n".join(lines)


def merged_keyboard(parts: Sequence[Rendered]) -> Keyboard | None:
    rows: Keyboard = []
    for index, part in enumerate(parts, 1):
        buttons = [button for row in part.keyboard or [] for button in row]
        if buttons:
            rows.append([dict(button, text=f"{index} · {button['text']}") for button in buttons])
    return rows or None


def merged_fits(parts: Sequence[MessagePart]) -> bool:
    room = MAX_TEXT - EDIT_ROOM_PER_PART * len(parts)
    return len(parts) <= MAX_MERGED_PARTS and len(merged_text(parts)) <= room


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
