"""Property-based fuzzing through the emulator: random text (markup, emoji, control characters,
other scripts' digits, bidirectional and zero-width characters, dates that do not exist,
4096 characters), photos and files where words are expected, and forged button data (every
button family, ids of other people's bookings and tasks) pressed by every kind of person.
Every update is answered, nothing is logged as an error, nobody without the right changes a
booking or a task, and no message to a reader who may not see it names the confidential
meeting.

One bot per test (not per example) keeps it fast; hypothesis is derandomized and bounded."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import example as known_case
from hypothesis import strategies as st
from sqlalchemy import select

from emulator.client import EmulatorError
from storage.models import Task
from tests.security.support import AV, GROUPS, SECURITY, anchor, every_bot_text, snapshot
from tests.support.clock_steps import book
from tests.support.harness import Harness, running_bot
from tests.support.people import (
    ALICE,
    APPROVER,
    AV_MEMBER,
    DISPATCHER,
    MANAGER,
    SECURITY_LEADER,
    STRANGER,
    SUPERVISOR,
    WANG,
)

FUZZ = settings(
    max_examples=40,
    derandomize=True,
    database=None,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],  # no shrinking: bounded time even on a failure
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)

MARKUP = [
    "<b>bold</b>",
    "<script>alert(1)</script>",
    "</pre>",
    '<a href="javascript:x">x</a>',
    "&amp;",
    "&lt;",
    "<",
    ">",
    "&",
    "*bold*",
    "_it_",
    "`code`",
    "[link](http://x)",
    "||spoiler||",
    "'; DROP TABLE bookings; --",
    '" OR 1=1 --',
    "%s",
    "{0}",
    "{title}",
    "\\",
    "/",
    "/book",
    "/start join-finance",
    "😀",
    "👨‍👩‍👧‍👦",
    "🇨🇳",
    "\u200b",
    "\u202e",
    "\ufeff",
    "\x00",
    "\x07",
    "\x1b[31m",
    "\r\n",
    "\t",
    "会议室",
    "明天上午10点",
    "2026-12-03",
    "10:00",
    "12",
    "r101",
    "101",
    "Meeting Room 1",
]
# Digits int() and str.isdigit() take but the bot must not (superscripts, Arabic-Indic,
# Devanagari, circled), full-width ones it takes on purpose, and the invisible characters
# that spoof a display: bidirectional overrides, isolates and marks, zero-width characters.
OTHER_DIGITS = "\u00b2\u00b3\u00b9\u0660\u0661\u0665\u0669\u06f5\u0967\u2460\uff10\uff11\uff12\uff15"
INVISIBLE = (
    "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c\u200b\u200c\u200d\u2060\ufeff"
)
DIGIT_SCRIPTS = [
    str.maketrans("0123456789", "\u0660\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669"),
    str.maketrans("0123456789", "\u2070\u00b9\u00b2\u00b3\u2074\u2075\u2076\u2077\u2078\u2079"),
    str.maketrans("0123456789", "\uff10\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18\uff19"),
    str.maketrans("0123456789", "\u0966\u0967\u0968\u0969\u096a\u096b\u096c\u096d\u096e\u096f"),
]


def sprinkled(texts: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """``texts`` with invisible characters put between their characters."""
    return st.builds(
        lambda text, marks: "".join(
            ch + mark for ch, mark in zip(text, marks + [""] * len(text), strict=False)
        ),
        texts,
        st.lists(st.sampled_from(["", "", *INVISIBLE]), max_size=12),
    )


def in_other_digits(texts: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """``texts`` with their ASCII digits written in another script."""
    return st.builds(lambda text, table: text.translate(table), texts, st.sampled_from(DIGIT_SCRIPTS))


TYPED_NUMBERS = ["12", "12人", "10:00", "2026-12-03", "12月3日", "30", "3 瓶", "4 很好", "010-6512 3456"]
# dates that do not exist and ranges that cannot be read one way only: asked, never moved
IMPOSSIBLE = [
    "2月30日",
    "2026年2月30日 下午2点到4点 10人",
    "2026-02-30",
    "2026-13-01",
    "4月31日",
    "Feb 30",
    "31 April 2pm",
    "4-2pm",
    "10am-9",
    "明天下午2点以后",
]
TEXTS = st.one_of(
    st.lists(st.sampled_from(MARKUP), min_size=1, max_size=6).map(" ".join),
    in_other_digits(st.sampled_from(TYPED_NUMBERS)),
    sprinkled(st.sampled_from(MARKUP + TYPED_NUMBERS + IMPOSSIBLE)),
    st.sampled_from(IMPOSSIBLE),
    st.text(alphabet="0123456789" + OTHER_DIGITS + INVISIBLE + " 人点:-", min_size=1, max_size=20),
    st.text(min_size=1, max_size=200),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=60),
    st.sampled_from(["x" * 4096, "<b>" * 1365, "😀" * 2048, "会" * 4096, "&" * 4096]),
)


class ErrorLog(logging.Handler):
    """Collects every ERROR the bot logs (aiogram logs an unhandled handler exception so)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def take(self) -> list[str]:
        found = [f"{r.name}: {r.getMessage()}" for r in self.records]
        self.records.clear()
        return found


def with_bot(
    tmp_path: Path, body: Callable[[Harness, Callable[[Coroutine[Any, Any, Any]], Any]], None]
) -> None:
    """Run one bot in a private event loop so hypothesis (synchronous) can drive it."""
    loop = asyncio.new_event_loop()
    gc.collect()  # earlier tests' garbage is collected now, not inside this test's error window
    errors = ErrorLog()
    logging.getLogger().addHandler(errors)
    try:
        context = running_bot(tmp_path, group_per_minute=1000, global_per_second=1000)
        h = loop.run_until_complete(context.__aenter__())
        try:

            def run(coroutine: Coroutine[Any, Any, Any]) -> Any:
                result = loop.run_until_complete(coroutine)
                logged = errors.take()
                assert not logged, logged
                return result

            body(h, run)
        finally:
            loop.run_until_complete(context.__aexit__(None, None, None))
    finally:
        logging.getLogger().removeHandler(errors)
        loop.close()


CONFIDENTIAL_TITLE = "机密评审QX9"
"""The confidential meeting's title: a mark no message to an unprivileged reader may carry."""
UNPRIVILEGED = (STRANGER, ALICE, AV_MEMBER, SECURITY_LEADER, *GROUPS)
"""Another department, a stranger, the teams' staff and groups: never shown that title."""


async def prepare(h: Harness) -> tuple[list[int], list[int]]:
    """A finance booking with its tasks pushed to the groups; a stranger known to the emulator."""
    await h.emu.create_user(STRANGER, "Mallory <b>", language_code="en")
    first = await book(h, h.at(1, 10), title="Finance <b>plan</b>")
    second = await book(h, h.at(1, 14), room="r102", title=CONFIDENTIAL_TITLE, confidential=True)
    h.clock.set(h.at(1, 9, 0))
    await h.settle()
    async with h.app.db.transaction() as session:
        tasks = (await session.scalars(select(Task).where(Task.team_id != "security"))).all()
    return [first.id, second.id], [t.id for t in tasks]


async def answered_text(h: Harness, user: int, chat: int, prefix: str | None, text: str) -> bool:
    """Send (after ``prefix``); True when the bot answered, False when the emulator refused the
    text itself (as Telegram would: empty, or not sendable)."""
    if prefix is not None:
        since = await h.emu.current_seq()
        await h.emu.send_message(user, prefix, chat_id=None if chat == user else chat)
        if chat == user:
            await h.emu.wait_for_message(chat, None, since=since, timeout=10)
    since = await h.emu.current_seq()
    try:
        await h.emu.send_message(user, text, chat_id=None if chat == user else chat)
    except EmulatorError as error:
        assert error.status == 400, error
        return False
    if chat == user:  # in private every message gets an answer
        reply = await h.emu.wait_for_message(chat, None, since=since, timeout=10)
        assert reply.get("text") or reply.get("caption") or reply.get("reply_markup")
    else:  # in a group the bot may stay quiet; give it the time to misbehave
        await asyncio.sleep(0.05)
    return True


def assert_no_confidential_leak(h: Harness, run: Callable[[Coroutine[Any, Any, Any]], Any]) -> None:
    texts = run(every_bot_text(h))
    leaks = {chat: [t for t in found if CONFIDENTIAL_TITLE in t] for chat, found in texts.items()}
    assert not {chat: found for chat, found in leaks.items() if found and chat in UNPRIVILEGED}


def test_random_text_from_anyone_anywhere(tmp_path: Path) -> None:
    def body(h: Harness, run: Callable[[Coroutine[Any, Any, Any]], Any]) -> None:
        run(prepare(h))
        before = run(snapshot(h))
        answered: list[bool] = []

        @FUZZ
        @given(
            who=st.sampled_from(
                [
                    (STRANGER, STRANGER),
                    (WANG, WANG),
                    (ALICE, ALICE),
                    (AV_MEMBER, AV_MEMBER),
                    (SUPERVISOR, SUPERVISOR),
                    (APPROVER, APPROVER),
                    (AV_MEMBER, AV),
                    (SECURITY_LEADER, SECURITY),
                ]
            ),
            prefix=st.sampled_from([None, None, "/book", "/my", "/start", "/cancel"]),
            text=TEXTS,
        )
        # other scripts' digits where the wizard reads a date, and a spoofed typed request
        @known_case(who=(WANG, WANG), prefix="/book", text="12-\u00b2")
        @known_case(who=(ALICE, ALICE), prefix="/book", text="2026-12-0\u0663")
        @known_case(who=(WANG, WANG), prefix=None, text="\u202e明天上午10点\u200b 第一会议室 \u0661\u0662人")
        def example(who: tuple[int, int], prefix: str | None, text: str) -> None:
            user, chat = who
            answered.append(run(answered_text(h, user, chat, prefix, text)))
            run(h.emu.send_message(user, "/cancel", chat_id=None if chat == user else chat))

        example()
        run(asyncio.sleep(0.3))
        run(h.settle())
        assert run(snapshot(h)) == before  # text alone books nothing and confirms nothing
        assert sum(answered) >= 30, answered
        assert_no_confidential_leak(h, run)

    with_bot(tmp_path, body)


def callback_data(bookings: list[int], tasks: list[int]) -> st.SearchStrategy[str]:
    ids = st.one_of(st.sampled_from(bookings + tasks), st.integers(0, 10**12), st.just(0))
    word = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_:0123456789", max_size=12)
    formats = st.one_of(
        st.builds(
            lambda i, a: f"t:{i}:{a}",
            st.sampled_from(tasks) | ids,
            st.sampled_from(["d", "p", "o", "r:equipment", "r:x", "z"]),
        ),
        st.builds(
            lambda i, a: f"e:{i}:{a}",
            st.sampled_from(tasks) | ids,
            st.sampled_from(["a", "d", "r", "b", f"m:{SECURITY_LEADER}", "m:1"]),
        ),
        st.builds(
            lambda i, r, d: f"apv:{i}:{r}:{d}",
            st.sampled_from(bookings) | ids,
            st.integers(0, 3),
            st.sampled_from(["a", "r", "x"]),
        ),
        st.builds(
            lambda i, a, r: f"bk:{i}:{a}" + (f":{r}" if r is not None else ""),
            st.sampled_from(bookings) | ids,
            st.sampled_from(["v", "c", "y", "e", "l", "q"]),
            st.none() | st.integers(0, 3),
        ),
        st.builds(
            lambda i, s: f"fb:{i}:{s}",
            st.sampled_from(bookings) | ids,
            st.sampled_from(["1", "5", "t", "c", "99"]),
        ),
        st.builds(lambda i: f"lf:n:{i}", st.sampled_from(bookings) | ids),
        st.builds(
            lambda a, i, c: f"cs:{a}:{i}:{c}", st.sampled_from("ocis"), st.sampled_from(bookings) | ids, word
        ),
        st.builds(lambda a, i: f"fee:{a}:{i}", st.sampled_from("ad"), ids),
        st.builds(lambda a, i: f"lost:{a}:{i}", st.sampled_from(["p", "h", "ph"]), ids),
        st.builds(lambda p: f"dg:m:{p}", st.integers(0, 999)),
        st.builds(lambda r: f"ics:{r}", st.sampled_from(["r101", "nosuch", "../x"])),
        st.builds(lambda p: f"icsp:{p}", st.integers(0, 999)),
        st.sampled_from(["lang:en", "lang:zh", "lang:xx", "", ":", "::::", "t:", "bk:", "apv:::"]),
        st.text(min_size=1, max_size=64),
    )
    return st.one_of(formats, in_other_digits(formats), sprinkled(formats)).filter(
        lambda data: 0 < len(data.encode()) <= 64
    )


def test_forged_buttons_from_people_without_the_right(tmp_path: Path) -> None:
    def body(h: Harness, run: Callable[[Coroutine[Any, Any, Any]], Any]) -> None:
        bookings, tasks = run(prepare(h))
        before = run(snapshot(h))
        anchors = {
            (user, chat): run(anchor(h, user, chat))
            for user, chat in [
                (STRANGER, STRANGER),
                (ALICE, ALICE),
                (SECURITY_LEADER, SECURITY_LEADER),
                (SECURITY_LEADER, SECURITY),
            ]
        }
        pressed: list[str] = []

        async def press(user: int, chat: int, data: str) -> None:
            click = await h.emu.click_button(user, chat, anchors[(user, chat)], data, forge=True)
            answer = await h.emu.wait_for_callback_answer(click["callback_query_id"], timeout=10)
            assert answer["answered"], data

        @FUZZ
        @given(who=st.sampled_from(sorted(anchors)), data=callback_data(bookings, tasks))
        # "²" passes str.isdigit() and fails int(); "١" is read by int() as 1
        @known_case(who=(ALICE, ALICE), data="bk:1:y:\u00b2")
        @known_case(who=(ALICE, ALICE), data="apv:\u00b2:1:a")
        @known_case(who=(SECURITY_LEADER, SECURITY), data="t:\u0661:d")
        @known_case(who=(ALICE, ALICE), data="fb:\u0661:5")
        def example(who: tuple[int, int], data: str) -> None:
            run(press(*who, data))
            pressed.append(data)

        example()
        run(asyncio.sleep(0.3))
        run(h.settle())
        # a stranger, another department's requester and another team's leader changed nothing
        assert run(snapshot(h)) == before
        assert len(pressed) >= 30
        assert_no_confidential_leak(h, run)

    with_bot(tmp_path, body)


EVERY_ROLE = [
    (STRANGER, STRANGER),
    (WANG, WANG),  # the booking department's requester
    (ALICE, ALICE),  # another department's
    (APPROVER, APPROVER),
    (DISPATCHER, DISPATCHER),
    (SUPERVISOR, SUPERVISOR),
    (MANAGER, MANAGER),
    (AV_MEMBER, AV_MEMBER),
    (AV_MEMBER, AV),
    (SECURITY_LEADER, SECURITY),
]


def test_every_button_kind_pressed_as_every_role(tmp_path: Path) -> None:
    """Those with a right may change something here; what must hold for everyone is an answer
    to every press, no error, and the confidential meeting kept from the unprivileged."""

    def body(h: Harness, run: Callable[[Coroutine[Any, Any, Any]], Any]) -> None:
        bookings, tasks = run(prepare(h))
        anchors = {(user, chat): run(anchor(h, user, chat)) for user, chat in EVERY_ROLE}
        pressed: list[str] = []

        async def press(user: int, chat: int, data: str) -> None:
            click = await h.emu.click_button(user, chat, anchors[(user, chat)], data, forge=True)
            answer = await h.emu.wait_for_callback_answer(click["callback_query_id"], timeout=10)
            assert answer["answered"], data

        @FUZZ
        @given(who=st.sampled_from(EVERY_ROLE), data=callback_data(bookings, tasks))
        def example(who: tuple[int, int], data: str) -> None:
            run(press(*who, data))
            pressed.append(data)

        example()
        run(asyncio.sleep(0.3))
        run(h.settle())
        assert len(pressed) >= 30
        assert_no_confidential_leak(h, run)

    with_bot(tmp_path, body)


PHOTO = b"\x89PNG\r\n\x1a\n" + b"0" * 64
MEDIA = st.one_of(
    st.builds(lambda caption: {"photo": PHOTO, "caption": caption}, st.none() | TEXTS),
    st.builds(
        lambda caption: {"document": b"%PDF-1.4", "file_name": "agenda.pdf", "caption": caption},
        st.none() | st.sampled_from(["议程", "\u200b", "12"]),
    ),
)


def test_photos_and_files_where_words_are_expected(tmp_path: Path) -> None:
    def body(h: Harness, run: Callable[[Coroutine[Any, Any, Any]], Any]) -> None:
        run(prepare(h))
        before = run(snapshot(h))
        answered: list[bool] = []

        async def send(user: int, chat: int, prefix: str | None, media: dict[str, Any]) -> bool:
            in_group = chat != user
            if prefix is not None:
                since = await h.emu.current_seq()
                await h.emu.send_message(user, prefix, chat_id=chat if in_group else None)
                if not in_group:
                    await h.emu.wait_for_message(chat, None, since=since, timeout=10)
            since = await h.emu.current_seq()
            fields = {key: value for key, value in media.items() if value is not None}
            try:
                await h.emu.send_message(user, chat_id=chat if in_group else None, **fields)
            except EmulatorError as error:  # a caption Telegram itself would refuse
                assert error.status == 400, error
                return False
            if not in_group:  # in private every message gets an answer
                await h.emu.wait_for_message(chat, None, since=since, timeout=10)
            else:
                await asyncio.sleep(0.05)
            return True

        @FUZZ
        @given(
            who=st.sampled_from(EVERY_ROLE),
            prefix=st.sampled_from([None, "/book", "/my", "/start", "/lost", "/language", "/cancel"]),
            media=MEDIA,
        )
        @known_case(who=(WANG, WANG), prefix="/book", media={"photo": PHOTO, "caption": None})
        def example(who: tuple[int, int], prefix: str | None, media: dict[str, Any]) -> None:
            user, chat = who
            answered.append(run(send(user, chat, prefix, media)))
            run(h.emu.send_message(user, "/cancel", chat_id=None if chat == user else chat))

        example()
        run(asyncio.sleep(0.3))
        run(h.settle())
        assert run(snapshot(h)) == before
        assert sum(answered) >= 30, answered
        assert_no_confidential_leak(h, run)

    with_bot(tmp_path, body)
