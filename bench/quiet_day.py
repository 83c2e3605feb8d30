"""A quiet day (docs/benchmarks.md "Quiet day"): what the teams, the supervisor and the manager
receive on one working day of ten meetings.

The example site; ten meetings on one day (every room class, every reception level, one
confidential, tea and water where a real day has them), booked the day before (the class-C
ones approved at once). The bot runs in this process against the project's Bot API emulator,
as in the end-to-end tests, with a ManualClock moved from the booking day's morning to the
meeting day's night, stopping at every task timer and clock job.

Two runs:

- ``nobody``: nobody of the staff presses anything;
- ``on time``: every task is done when it is posted (its team's leader presses Done on the
  card as it arrives), the hotline's check 3 included.

In both, the meetings take place: each organiser checks in when the check-in prompt comes
(a meeting nobody checks in for is released as a no-show at start + 15 minutes, which would
make it another day than the one measured).

Per chat it prints the new messages and the edits, the keyboards still live at the end (a
keyboard is live while its message has buttons) and how many tasks had, at some moment, more
than one live keyboard in that chat; the most messages naming one meeting's tasks, and the
reminders and escalations.

    uv run python bench/quiet_day.py
"""

from __future__ import annotations

import asyncio
import re
import sys
import tempfile
from collections import Counter, defaultdict
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select

from bot.jobs import next_clock_job_at, run_clock_jobs
from storage.models import Booking, OutboxMessage, Task
from storage.repositories.tasks import TaskRepository
from tests.support.harness import Harness, running_bot
from tests.unit.dispatch_support import request

JSON = dict[str, Any]
SUPERVISOR, MANAGER, APPROVER = 2201, 2301, 2101
TASK_DATA = re.compile(r"^[te]:(\d+):")

# (room, start hour, minute, hours, reception level, services, confidential)
MEETINGS: list[tuple[str, int, int, float, int, dict[str, dict[str, Any]], bool]] = [
    ("r101", 9, 0, 1, 1, {"tea": {}}, False),
    ("r203", 9, 30, 2, 1, {"tea": {}, "microphones": {"count": 4}}, False),
    ("r301", 10, 0, 2, 3, {"microphones": {}, "projector": {}}, False),
    ("r102", 10, 30, 1, 2, {"tea": {}, "bottled_water": {}}, True),
    ("r101", 11, 0, 1, 4, {}, False),
    ("vc1", 14, 0, 2, 2, {"video": {}, "water": {}}, False),
    ("r102", 14, 0, 1, 3, {"tea": {}}, False),
    ("r301", 14, 30, 1.5, 4, {"water": {}}, False),
    ("r101", 15, 30, 1, 2, {"tea": {}}, False),
    ("r102", 16, 0, 1, 1, {"bottled_water": {}}, False),
]
LAYOUTS = {"r101": "discussion", "r102": "discussion", "r301": "classroom"}


async def quiet(h: Harness) -> None:
    """Settle, then wait for rows the app's own sender loop has in flight."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 20
    while True:
        await h.settle()
        async with h.app.db.transaction() as session:
            busy = await session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.status.in_(("pending", "sending")))
            )
        if not busy or loop.time() > deadline:
            return
        await asyncio.sleep(0.05)


async def book_the_day(h: Harness) -> None:
    data = h.app.dispatcher.workflow_data
    service, delivery = data["booking_service"], data["delivery"]
    for number, (room, hour, minute, hours, level, services, confidential) in enumerate(MEETINGS, 1):
        base = request(room=room, start=h.at(1, hour, minute), hours=hours)
        wanted = replace(
            base,
            layout=LAYOUTS.get(room, "theatre"),
            reception_level=level,
            services=services,
            confidential=confidential,
            title=f"Meeting {number}",
            attendees=12,
        )
        async with h.app.db.transaction() as session:
            outcome = await service.create(session, wanted)
            await delivery.deliver(session, outcome.notices)
        if outcome.booking.status.value == "pending":
            async with h.app.db.transaction() as session:
                decided = await service.decide(session, outcome.booking.id, APPROVER, True)
                await delivery.deliver(session, decided.notices)
        await quiet(h)


async def next_moment(h: Harness, after: datetime) -> datetime | None:
    async with h.app.db.transaction() as session:
        timer = await TaskRepository(session).earliest_timer()
        job = await next_clock_job_at(session, h.site, after)
    moments = [m for m in (timer, job) if m is not None and m > after]
    return min(moments, default=None)


async def press_done_on_new_cards(h: Harness, chats: dict[int, int], seen: set[tuple[int, int]]) -> int:
    """Every card with a Done button not pressed yet: its team's leader presses it."""
    pressed = 0
    for chat_id, leader in chats.items():
        for message in await h.emu.bot_messages(chat_id):
            for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
                for button in row:
                    data = button.get("callback_data") or ""
                    if not data.startswith("t:") or not data.endswith(":d"):
                        continue
                    key = (chat_id, message["message_id"])
                    if key in seen:
                        continue
                    seen.add(key)
                    await h.emu.click_button(leader, chat_id, message["message_id"], data)
                    pressed += 1
    return pressed


async def organisers_check_in(h: Harness) -> None:
    """Every meeting whose check-in prompt went out: its organiser checks in."""
    checkin = h.app.dispatcher.workflow_data["checkin_service"]
    async with h.app.db.transaction() as session:
        prompted = (
            await session.execute(
                select(Booking.id, Booking.requester_id, Booking.department_id).where(
                    Booking.checkin_state == "prompted"
                )
            )
        ).all()
        for booking_id, requester_id, department_id in prompted:
            await checkin.check_in(session, booking_id, requester_id, department_id)


async def run_day(press: bool) -> JSON:
    with tempfile.TemporaryDirectory() as tmp:
        async with running_bot(Path(tmp), group_per_minute=1000, global_per_second=1000) as h:
            await book_the_day(h)
            chats = {team.chat_id: team.leader for team in h.site.teams if team.chat_id is not None}
            seen: set[tuple[int, int]] = set()
            peak: dict[str, set[int]] = defaultdict(set)
            end = h.at(1, 23, 30)
            moment = h.clock.now()
            while True:
                found = await next_moment(h, moment)
                if found is None or found > end:
                    break
                moment = found
                h.clock.set(moment)
                await run_clock_jobs(h.app.jobs)
                await quiet(h)
                await organisers_check_in(h)
                if press:
                    while await press_done_on_new_cards(h, chats, seen):
                        await asyncio.sleep(0.3)
                        await quiet(h)
                await note_duplicates(h, peak)
            h.clock.set(end)
            await quiet(h)
            async with h.app.db.transaction() as session:
                rows = await session.execute(select(Task.id, Task.booking_id))
                booking_of = {task_id: booking_id for task_id, booking_id in rows}
                statuses = Counter((await session.scalars(select(Task.status))).all())
            return await tally(h, booking_of, statuses, peak)


def chat_names(h: Harness) -> dict[int, str]:
    names = {team.chat_id: team.id for team in h.site.teams if team.chat_id is not None}
    return names | {SUPERVISOR: "supervisor", MANAGER: "manager"}


def live_keyboards(messages: list[JSON]) -> Counter[int]:
    """Per task, how many of these messages have a button about it."""
    live: Counter[int] = Counter()
    for message in messages:
        live.update(
            {
                int(found.group(1))
                for row in (message.get("reply_markup") or {}).get("inline_keyboard", [])
                for button in row
                if (found := TASK_DATA.match(button.get("callback_data") or ""))
            }
        )
    return live


async def note_duplicates(h: Harness, peak: dict[str, set[int]]) -> None:
    """The tasks that have, at this moment, more than one live keyboard in a chat."""
    for chat_id, name in chat_names(h).items():
        live = live_keyboards(await h.emu.bot_messages(chat_id))
        peak[name] |= {task for task, count in live.items() if count > 1}


async def tally(
    h: Harness, booking_of: dict[int, int], statuses: Counter[str], peak: dict[str, set[int]]
) -> JSON:
    report: JSON = {"tasks": dict(statuses), "chats": {}}
    for chat_id, name in chat_names(h).items():
        messages = await h.emu.bot_messages(chat_id)
        live = live_keyboards(messages)
        per_meeting: dict[int, int] = defaultdict(int)
        escalations = 0
        for message in messages:
            text = message.get("text") or ""
            if "🔺" in text or "⚠️ <b>" in text or "⏰ " in text.split("\n", 1)[0]:
                escalations += 1
            ids = {int(n) for n in re.findall(r"#(\d+)", text)}
            bookings = {booking_of[i] for i in ids if i in booking_of}
            for booking in bookings:
                per_meeting[booking] += 1
        report["chats"][name] = {
            "new": len(messages),
            "edits": sum(int(m.get("edit_count") or 0) for m in messages),
            "live_keyboards": sum(live.values()),
            "tasks_with_duplicated_live_keyboards": len(peak[name]),
            "max_messages_per_meeting": max(per_meeting.values(), default=0),
            "escalations_or_reminders": escalations,
        }
    return report


def show(title: str, report: JSON) -> None:
    print(f"\n== {title} ==  tasks: {report['tasks']}")
    print(f"{'chat':<12}{'new':>6}{'edits':>7}{'live kb':>9}{'dup kb':>8}{'max/meeting':>13}{'alerts':>8}")
    for name, row in report["chats"].items():
        print(
            f"{name:<12}{row['new']:>6}{row['edits']:>7}{row['live_keyboards']:>9}"
            f"{row['tasks_with_duplicated_live_keyboards']:>8}{row['max_messages_per_meeting']:>13}"
            f"{row['escalations_or_reminders']:>8}"
        )


async def main() -> None:
    from bench._support import machine

    print(f"quiet day: {len(MEETINGS)} meetings, example site; {machine()}")
    show("nobody presses anything", await run_day(press=False))
    show("every task done when posted", await run_day(press=True))
    print(
        "\nalerts: messages that remind (⏰ first line), escalate (🔺) or report a problem;"
        " max/meeting: the most messages naming one meeting's tasks; live kb: keyboards left at the"
        " end; dup kb: tasks that had two or more live keyboards in the chat at some moment"
    )


if __name__ == "__main__":
    asyncio.run(main())
