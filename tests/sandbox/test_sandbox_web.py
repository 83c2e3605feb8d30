"""The sandbox app's own endpoints, through aiohttp's test client against a running sandbox."""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import re
from datetime import datetime, timedelta
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import select, update

from bot.sandbox.runtime import SANDBOX_TOKEN, Sandbox, resolve_commands, site_personas
from bot.sandbox.web import STATIC_DIR
from bot.services.checkin import CHECKED_IN
from bot.settings import TOKEN_PATTERN
from storage.models import Booking, Task
from tests.sandbox.conftest import SHANGHAI, START, book_tomorrow_at_ten, png
from tests.support.factories import booking_request

Client = TestClient[web.Request, web.Application]
WANG_MIN, ALICE, LI_QIANG, CHEN_JING = 1001, 1002, 3001, 2201
TEA_GROUP = -1001


async def ok(response: Any, status: int = 200) -> dict[str, Any]:
    body = await response.json()
    assert response.status == status, body
    return body


async def wait_for_bot_reply(
    client: Client, user_id: int, chat_id: int, count: int = 1
) -> list[dict[str, Any]]:
    for _ in range(100):
        body = await ok(await client.get(f"/api/chats/{chat_id}/messages", params={"user_id": user_id}))
        replies = [m for m in body["messages"] if m["sender"] == "bot"]
        if len(replies) >= count:
            return replies
        await asyncio.sleep(0.05)
    raise AssertionError(f"the bot did not answer in chat {chat_id}")


# ---- personas and chats --------------------------------------------------------------------------------
async def test_personas_are_the_people_of_the_site_file(client: Client, sandbox: Sandbox) -> None:
    body = await ok(await client.get("/api/personas"))
    by_id = {p["id"]: p for p in body["personas"]}
    assert set(by_id) == {p.id for p in sandbox.site.people}
    assert by_id[WANG_MIN]["department"] == {"zh": "财务处", "en": "Finance Department"}
    assert by_id[WANG_MIN]["language"] == "zh"
    assert by_id[ALICE]["language"] == "en"
    assert by_id[CHEN_JING]["roles"] == ["supervisor"]
    tea = by_id[LI_QIANG]["teams"]
    assert tea == [
        {
            "id": "service",
            "name": {"zh": "会务茶水组", "en": "Conference service & tea"},
            "leader": True,
            "chat_id": TEA_GROUP,
        }
    ]


async def test_a_personas_chats_are_the_bot_and_their_team_groups(client: Client) -> None:
    requester = await ok(await client.get(f"/api/personas/{WANG_MIN}/chats"))
    assert [c["id"] for c in requester["chats"]] == [WANG_MIN]
    staff = await ok(await client.get(f"/api/personas/{LI_QIANG}/chats"))
    assert [c["id"] for c in staff["chats"]] == [LI_QIANG, TEA_GROUP]
    assert staff["chats"][1]["title"] == "会务茶水组"
    missing = await client.get("/api/personas/999/chats")
    assert missing.status == 404


async def test_history_is_only_for_chats_the_persona_is_in(client: Client) -> None:
    refused = await client.get(f"/api/chats/{TEA_GROUP}/messages", params={"user_id": WANG_MIN})
    assert refused.status == 403
    assert (await refused.json())["code"] == "not_in_chat"
    bad = await client.get(f"/api/chats/{TEA_GROUP}/messages", params={"user_id": "x"})
    assert bad.status == 400


# ---- talking to the bot -----------------------------------------------------------------------------------
async def test_a_message_reaches_the_bot_and_its_reply_is_stamped_with_sandbox_time(client: Client) -> None:
    sent = await ok(
        await client.post(f"/api/chats/{WANG_MIN}/messages", json={"user_id": WANG_MIN, "text": "/start"})
    )
    assert sent["delivered"] is True
    replies = await wait_for_bot_reply(client, WANG_MIN, WANG_MIN)
    assert "/book" in replies[0]["text"]
    # The sandbox's clock (2026-12-01 09:00 Shanghai), not the emulator's wall clock.
    stamped = datetime.fromtimestamp(replies[0]["sandbox_date"], SHANGHAI)
    assert abs(stamped - START) < timedelta(minutes=5)


async def test_bad_input_is_refused_by_the_emulator_with_telegrams_rules(client: Client) -> None:
    for text, wording in (("", "empty"), ("   ", "empty"), ("字" * 10_000, "4096")):
        response = await client.post(
            f"/api/chats/{WANG_MIN}/messages", json={"user_id": WANG_MIN, "text": text}
        )
        body = await ok(response, 400)
        assert body["code"] == "emulator"
        assert wording in body["error"]
    history = await ok(await client.get(f"/api/chats/{WANG_MIN}/messages", params={"user_id": WANG_MIN}))
    assert history["messages"] == []


async def test_markup_typed_by_a_person_stays_plain_text(client: Client) -> None:
    text = "<b>not bold</b> & <script>alert(1)</script>"
    sent = await ok(
        await client.post(f"/api/chats/{WANG_MIN}/messages", json={"user_id": WANG_MIN, "text": text})
    )
    assert sent["message"]["text"] == text
    formatting = {"bold", "italic", "underline", "strikethrough", "code", "pre", "text_link"}
    assert not [e for e in sent["message"]["entities"] if e["type"] in formatting]
    await wait_for_bot_reply(client, WANG_MIN, WANG_MIN)


async def test_a_person_cannot_write_into_someone_elses_chat(client: Client) -> None:
    response = await client.post(f"/api/chats/{ALICE}/messages", json={"user_id": WANG_MIN, "text": "hi"})
    assert response.status == 403


async def test_pressing_a_button_goes_through_the_emulator(client: Client) -> None:
    await ok(
        await client.post(f"/api/chats/{WANG_MIN}/messages", json={"user_id": WANG_MIN, "text": "/book"})
    )
    replies = await wait_for_bot_reply(client, WANG_MIN, WANG_MIN)
    message = replies[-1]
    button = next(b for b in message["buttons"] if "callback_data" in b)
    pressed = await ok(
        await client.post(
            f"/api/chats/{WANG_MIN}/press",
            json={"user_id": WANG_MIN, "message_id": message["message_id"], "data": button["callback_data"]},
        )
    )
    assert pressed["callback_query_id"]
    forged = await client.post(
        f"/api/chats/{WANG_MIN}/press",
        json={"user_id": WANG_MIN, "message_id": message["message_id"], "data": "forged"},
    )
    assert (await ok(forged, 400))["code"] == "emulator"


async def test_photos_and_documents_are_served_back(client: Client) -> None:
    image_bytes = png()
    photo = await ok(
        await client.post(
            f"/api/chats/{WANG_MIN}/messages",
            json={
                "user_id": WANG_MIN,
                "photo": base64.b64encode(image_bytes).decode(),
                "caption": "lost umbrella",
            },
        )
    )
    file_id = photo["message"]["photo"][-1]["file_id"]
    image = await client.get(f"/api/files/{file_id}")
    assert image.status == 200
    assert await image.read() == image_bytes
    assert "Content-Disposition" not in image.headers
    document = await ok(
        await client.post(
            f"/api/chats/{WANG_MIN}/messages",
            json={
                "user_id": WANG_MIN,
                "document": base64.b64encode(b"a,b\n1,2\n").decode(),
                "file_name": "周报.csv",
            },
        )
    )
    doc_id = document["message"]["document"]["file_id"]
    download = await client.get(f"/api/files/{doc_id}", params={"name": "周报.csv", "download": "1"})
    assert await download.read() == b"a,b\n1,2\n"
    assert "attachment" in download.headers["Content-Disposition"]
    assert (await client.get("/api/files/nope")).status == 404


# ---- command menus ---------------------------------------------------------------------------------------
async def test_command_menu_follows_the_chat_and_the_persona_language(client: Client) -> None:
    private = await ok(await client.get(f"/api/chats/{ALICE}/commands", params={"user_id": ALICE}))
    assert "book" in [c["command"] for c in private["commands"]]
    assert all(c["description"].isascii() for c in private["commands"])
    group = await ok(await client.get(f"/api/chats/{TEA_GROUP}/commands", params={"user_id": LI_QIANG}))
    commands = [c["command"] for c in group["commands"]]
    assert "book" not in commands
    assert "mytasks" in commands


def test_command_resolution_takes_the_narrowest_scope_and_language() -> None:
    stored = [
        {
            "scope": {"type": "default"},
            "language_code": "",
            "commands": [{"command": "default", "description": "d"}],
        },
        {
            "scope": {"type": "all_private_chats"},
            "language_code": "",
            "commands": [{"command": "zh", "description": "z"}],
        },
        {
            "scope": {"type": "all_private_chats"},
            "language_code": "en",
            "commands": [{"command": "en", "description": "e"}],
        },
        {
            "scope": {"type": "chat", "chat_id": 7},
            "language_code": "",
            "commands": [{"command": "mine", "description": "m"}],
        },
    ]

    def resolve(chat_id: int, chat_type: str, language: str) -> str:
        found = resolve_commands(
            stored, chat_id=chat_id, chat_type=chat_type, user_id=chat_id, language=language
        )
        return found[0]["command"]

    assert resolve(5, "private", "en") == "en"
    assert resolve(5, "private", "zh-hans") == "zh"
    assert resolve(7, "private", "en") == "mine"
    assert resolve(-5, "group", "en") == "default"


# ---- time ------------------------------------------------------------------------------------------------
async def test_clock_shows_the_sandbox_time_in_the_site_zone(client: Client) -> None:
    body = await ok(await client.get("/api/clock"))
    assert body["zone"] == "Asia/Shanghai"
    assert body["local"].startswith("2026-12-01 09:0")
    assert body["next_task_at"] is None


async def test_clock_moves_forward_and_runs_the_timers(
    client: Client, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    assert sandbox.app is not None

    async def tick_once() -> int:
        calls.append("tick")
        return 0

    async def send_pending() -> int:
        calls.append("send")
        return 0

    await _stop_background_loops(sandbox)
    monkeypatch.setattr(sandbox.app.workers, "tick_once", tick_once)
    monkeypatch.setattr(sandbox.app.workers, "send_pending", send_pending)
    moved = await ok(await client.post("/api/clock", json={"action": "forward", "minutes": 15}))
    assert moved["local"].startswith("2026-12-01 09:1")
    assert calls[:2] == ["tick", "send"]
    hour = await ok(await client.post("/api/clock", json={"action": "forward", "minutes": 60}))
    assert hour["local"].startswith("2026-12-01 10:1")
    tomorrow = await ok(await client.post("/api/clock", json={"action": "tomorrow_17"}))
    assert tomorrow["local"] == "2026-12-02 17:00"
    assert sandbox.clock.now().astimezone(SHANGHAI).hour == 17


async def test_clock_refuses_what_it_cannot_do(client: Client) -> None:
    nothing = await client.post("/api/clock", json={"action": "next_task"})
    assert (await ok(nothing, 409))["code"] == "nothing_planned"
    for body in (
        {"action": "backwards"},
        {"action": "forward", "minutes": -5},
        {"action": "forward"},
        {"action": "forward", "minutes": "soon"},
        {"action": "forward", "minutes": 60 * 24 * 40},
    ):
        response = await client.post("/api/clock", json=body)
        assert response.status == 400, body
    garbage = await client.post("/api/clock", data=b"not json", headers={"Content-Type": "application/json"})
    assert garbage.status == 400


async def test_next_task_moves_to_the_earliest_timer_ahead(client: Client, sandbox: Sandbox) -> None:
    now = sandbox.clock.now()
    await _add_task_timers(sandbox, (-30, 95, 300))
    clock = await ok(await client.get("/api/clock"))
    assert abs(datetime.fromisoformat(clock["next_task_at"]) - now - timedelta(minutes=95)) < timedelta(
        seconds=1
    )
    moved = await ok(await client.post("/api/clock", json={"action": "next_task"}))
    assert moved["local"] == "2026-12-01 10:35"
    assert abs(datetime.fromisoformat(moved["next_task_at"]) - now - timedelta(minutes=300)) < timedelta(
        seconds=1
    )


async def test_moving_the_clock_fires_each_timer_at_its_own_moment(
    client: Client, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A long move is time passing, not a jump: task timers and clock jobs on the way run in
    order, each with the sandbox's clock at its moment (so nothing looks late)."""
    from apscheduler.triggers.cron import CronTrigger

    assert sandbox.app is not None
    now = sandbox.clock.now()
    await _add_task_timers(sandbox, (95, 300))
    seen: list[tuple[str, str]] = []

    def local() -> str:
        return sandbox.clock.now().astimezone(SHANGHAI).strftime("%m-%d %H:%M")

    async def tick_once() -> int:
        seen.append(("tick", local()))
        return 0

    async def noon_digest() -> None:
        seen.append(("noon", local()))

    await _stop_background_loops(sandbox)
    monkeypatch.setattr(sandbox.app.workers, "tick_once", tick_once)
    sandbox.app.scheduler.add_job(noon_digest, CronTrigger(hour=12, timezone=SHANGHAI), id="noon")
    moved = await ok(await client.post("/api/clock", json={"action": "tomorrow_17"}))
    assert moved["local"] == "2026-12-02 17:00"
    # the bot's own clock jobs too: the digest at 17:00 each working day, the after-care at the
    # fixture meeting's end (tomorrow 10:00)
    assert moved["jobs"] == ["noon", "clock_jobs", "clock_jobs", "noon", "clock_jobs"]
    # a moment whose messages go out in several sender passes ticks once per pass
    assert [step for step, _ in itertools.groupby(seen)] == [
        ("tick", "12-01 09:00"),
        ("tick", "12-01 10:35"),
        ("noon", "12-01 12:00"),
        ("tick", "12-01 12:00"),
        ("tick", "12-01 14:00"),
        ("tick", "12-01 17:00"),
        ("tick", "12-02 10:00"),
        ("noon", "12-02 12:00"),
        ("tick", "12-02 12:00"),
        ("tick", "12-02 17:00"),
    ]
    assert sandbox.clock.now() - now > timedelta(hours=31)


async def test_next_task_always_moves_to_a_later_minute(client: Client, sandbox: Sandbox) -> None:
    """Timers a few seconds apart in one minute: "Next task" stops at the first, then goes on to
    the next minute that has one (running the rest of the minute on the way)."""
    await _add_task_timers(sandbox, (95, 95 + 20 / 60, 95 + 40 / 60, 300))
    first = await ok(await client.post("/api/clock", json={"action": "next_task"}))
    assert first["local"] == "2026-12-01 10:35"
    assert first["next_task_at"] is not None
    assert datetime.fromisoformat(first["next_task_at"]).astimezone(SHANGHAI).strftime("%H:%M") == "14:00"
    second = await ok(await client.post("/api/clock", json={"action": "next_task"}))
    assert second["local"] == "2026-12-01 14:00"
    assert second["claimed"] >= 2  # the 10:35:20 and 10:35:40 timers ran on the way


async def test_messages_are_stamped_with_the_sandbox_time_they_were_sent_at(
    client: Client, sandbox: Sandbox
) -> None:
    """The stamp is the sandbox's time when the bot sent the message, whenever the sandbox or
    the page hears of it: here its event stream is stopped, as if it had fallen behind a move."""
    assert sandbox._follower is not None
    sandbox._follower.cancel()
    await ok(
        await client.post(f"/api/chats/{WANG_MIN}/messages", json={"user_id": WANG_MIN, "text": "/start"})
    )
    await wait_for_bot_reply(client, WANG_MIN, WANG_MIN)
    await ok(await client.post("/api/clock", json={"action": "forward", "minutes": 120}))
    history = await ok(await client.get(f"/api/chats/{WANG_MIN}/messages", params={"user_id": WANG_MIN}))
    for message in history["messages"]:
        stamped = datetime.fromtimestamp(message["sandbox_date"], SHANGHAI)
        assert abs(stamped - START) < timedelta(minutes=1), (message["sender"], stamped)


async def test_a_clock_move_runs_the_digest_and_after_care_at_their_moments(
    unthrottled: tuple[Sandbox, Client],
) -> None:
    """A meeting today 14:00–15:00; a move to tomorrow 17:00 sends its after-meeting card at
    15:00 and the digest at 17:00, each stamped with its own time, and each task card at its
    push time."""

    sandbox, client = unthrottled
    assert sandbox.app is not None
    start = datetime(2026, 12, 1, 14, 0, tzinfo=SHANGHAI)
    request = booking_request(
        start, title="季度工作会", contact_phone="13800000000", services={"tea": {"refill_minutes": 30}}
    )
    async with sandbox.app.db.transaction() as session:
        outcome = await sandbox.app.dispatcher.workflow_data["booking_service"].create(session, request)
        await sandbox.app.workers.delivery.deliver(session, outcome.notices)
        # its organiser will have checked in: the meeting is held, not released as a no-show
        await session.execute(
            update(Booking).where(Booking.id == outcome.booking.id).values(checkin_state=CHECKED_IN)
        )
    moved = await ok(await client.post("/api/clock", json={"action": "tomorrow_17"}))
    assert "clock_jobs" in moved["jobs"]

    async def sent(user_id: int, chat_id: int, mark: str) -> list[datetime]:
        for _ in range(100):
            history = await ok(
                await client.get(f"/api/chats/{chat_id}/messages", params={"user_id": user_id})
            )
            found = [
                datetime.fromtimestamp(m["sandbox_date"], SHANGHAI)
                for m in history["messages"]
                if m["sender"] == "bot" and mark in (m.get("text") or "")
            ]
            if found:
                return found
            await asyncio.sleep(0.1)
        raise AssertionError(f"no {mark!r} in chat {chat_id}")

    ended = await sent(LI_QIANG, TEA_GROUP, "🏁")
    assert abs(ended[0] - start - timedelta(hours=1)) < timedelta(seconds=30), ended
    digests = await sent(CHEN_JING, CHEN_JING, "明日会议")
    assert abs(digests[0] - datetime(2026, 12, 1, 17, 0, tzinfo=SHANGHAI)) < timedelta(seconds=30), digests
    async with sandbox.app.db.transaction() as session:
        pushed = {
            task.id: task.pushed_at
            for task in (
                await session.scalars(select(Task).where(Task.booking_id == outcome.booking.id))
            ).all()
            if task.team_id == "service" and task.pushed_at is not None
        }
    assert pushed
    for task_id, pushed_at in pushed.items():
        cards = await sent(LI_QIANG, TEA_GROUP, f"#{task_id}")
        assert abs(cards[0] - pushed_at) < timedelta(seconds=30), (task_id, cards[0], pushed_at)


async def _stop_background_loops(sandbox: Sandbox) -> None:
    """Only the clock moves run the timers from here on (so every call can be accounted for)."""
    assert sandbox.app is not None
    await sandbox.app.workers.stop()
    await asyncio.gather(*sandbox.app.background, return_exceptions=True)


async def _add_task_timers(sandbox: Sandbox, minutes: tuple[float, ...]) -> None:
    """A booking with planned tasks whose timers are ``minutes`` from now (fixture data)."""
    assert sandbox.app is not None
    now = sandbox.clock.now()
    async with sandbox.app.db.transaction() as session:
        booking = Booking(
            status="confirmed",
            department_id="finance",
            requester_id=WANG_MIN,
            booked_by_id=WANG_MIN,
            room_id="r101",
            start_at=now + timedelta(days=1),
            end_at=now + timedelta(days=1, hours=1),
            blocked_until=now + timedelta(days=1, hours=1, minutes=30),
            attendees=10,
            layout="discussion",
            reception_level=3,
            title="t",
            contact_name="c",
            contact_phone="1",
            checkin_state=CHECKED_IN,  # its organiser checked in: it is not released as a no-show
            created_at=now,
            updated_at=now,
        )
        session.add(booking)
        await session.flush()
        for index, offset in enumerate(minutes):
            session.add(
                Task(
                    booking_id=booking.id,
                    template_id=f"fixture{index}",
                    team_id="service",
                    occurrence=index,
                    kind="task",
                    needs_confirmation=True,
                    push_at=now + timedelta(minutes=offset),
                    status="planned",
                    next_at=now + timedelta(minutes=offset),
                    updated_at=now,
                )
            )


# ---- reset -----------------------------------------------------------------------------------------------
async def test_reset_starts_over_with_an_empty_database(client: Client, sandbox: Sandbox) -> None:
    await ok(
        await client.post(f"/api/chats/{WANG_MIN}/messages", json={"user_id": WANG_MIN, "text": "/start"})
    )
    await wait_for_bot_reply(client, WANG_MIN, WANG_MIN)
    await ok(await client.post("/api/clock", json={"action": "tomorrow_17"}))
    first_generation = sandbox.generation
    first_app = sandbox.app

    body = await ok(await client.post("/api/reset"))
    assert body["generation"] == first_generation + 1
    assert sandbox.app is not first_app
    assert body["clock"]["local"].startswith("2026-12-01 09:0")
    history = await ok(await client.get(f"/api/chats/{WANG_MIN}/messages", params={"user_id": WANG_MIN}))
    assert history["messages"] == []
    staff = await ok(await client.get(f"/api/personas/{LI_QIANG}/chats"))
    assert [c["id"] for c in staff["chats"]] == [LI_QIANG, TEA_GROUP]
    # Only the newest database is kept; the bot works on it.
    assert sorted(p.name for p in sandbox.workdir.glob("huiwu-*.db")) == [f"huiwu-{body['generation']}.db"]  # type: ignore[union-attr]
    await ok(
        await client.post(f"/api/chats/{WANG_MIN}/messages", json={"user_id": WANG_MIN, "text": "/start"})
    )
    await wait_for_bot_reply(client, WANG_MIN, WANG_MIN)


# ---- live events -----------------------------------------------------------------------------------------
async def test_events_stream_messages_and_clock_changes(client: Client) -> None:
    response = await client.get("/api/events")
    assert response.headers["Content-Type"].startswith("text/event-stream")
    await ok(
        await client.post(f"/api/chats/{WANG_MIN}/messages", json={"user_id": WANG_MIN, "text": "/start"})
    )
    await ok(await client.post("/api/clock", json={"action": "forward", "minutes": 15}))
    seen: list[dict[str, Any]] = []

    async def read() -> None:
        async for raw in response.content:
            line = raw.decode().strip()
            if line.startswith("data:"):
                seen.append(json.loads(line[5:]))
                kinds = {e["type"] for e in seen}
                if "sandbox_clock" in kinds and any(
                    e.get("message", {}).get("sender") == "bot" for e in seen
                ):
                    return

    await asyncio.wait_for(read(), 10)
    bot_message = next(e for e in seen if e.get("message", {}).get("sender") == "bot")
    assert bot_message["type"] == "message"
    assert bot_message["message"]["sandbox_date"]
    assert all(e["type"] != "update" for e in seen)
    response.close()


# ---- the page --------------------------------------------------------------------------------------------
async def test_the_page_and_its_assets_are_served_locally(client: Client) -> None:
    page = await client.get("/")
    html = await page.text()
    assert page.status == 200
    assert '<script type="module" src="/static/app.js">' in html and "/static/style.css" in html
    assert "http://" not in html.replace("http-equiv", "") and "https://" not in html
    for asset in ("/static/app.js", "/static/style.css", "/static/favicon.svg"):
        assert (await client.get(asset)).status == 200


async def test_every_module_of_the_page_script_is_served_as_javascript(client: Client) -> None:
    """app.js imports the other modules, each by a relative path; a browser runs a module only
    when it comes with a JavaScript type, and loads nothing from elsewhere (no build step)."""
    seen: set[str] = set()
    waiting = ["app.js"]
    while waiting:
        name = waiting.pop()
        seen.add(name)
        response = await client.get(f"/static/{name}")
        assert response.status == 200, name
        assert response.content_type == "text/javascript", name
        script = await response.text()
        imported = re.findall(r'^import \{[^}]*\} from "\./([\w-]+\.js)";$', script, flags=re.MULTILINE)
        assert len(imported) == len(re.findall(r"^import\b|\bimport\(", script, flags=re.MULTILINE)), name
        waiting += [module for module in imported if module not in seen]
    assert seen == {path.name for path in STATIC_DIR.glob("*.js")}


async def test_page_script_never_parses_message_text_as_html(client: Client) -> None:
    for module in STATIC_DIR.glob("*.js"):
        script = await (await client.get(f"/static/{module.name}")).text()
        assert "innerHTML" not in script and "insertAdjacentHTML" not in script, module.name
        assert "outerHTML" not in script, module.name


def test_the_token_is_well_formed_and_fake() -> None:
    assert TOKEN_PATTERN.match(SANDBOX_TOKEN)
    assert "SANDBOX" in SANDBOX_TOKEN


def test_site_personas_cover_every_team_member() -> None:
    from bot.sandbox.runtime import default_site_path
    from bot.site import load_site

    site = load_site(default_site_path())
    ids = {p.id for p in site_personas(site)}
    for team in site.teams:
        assert team.everyone <= ids


# ---- questions answered without quoting ------------------------------------------------------------------
async def _wait_for(client: Client, user_id: int, chat_id: int, found: Any) -> dict[str, Any]:
    for _ in range(200):
        body = await ok(await client.get(f"/api/chats/{chat_id}/messages", params={"user_id": user_id}))
        matching = [m for m in body["messages"] if m["sender"] == "bot" and found(m)]
        if matching:
            return matching[-1]
        await asyncio.sleep(0.05)
    raise AssertionError(f"no such message of the bot in chat {chat_id}")


def _data(message: dict[str, Any], ending: str) -> str:
    return next(b["callback_data"] for b in message["buttons"] if b.get("callback_data", "").endswith(ending))


async def test_a_question_in_a_team_group_is_answered_without_quoting(
    client: Client, sandbox: Sandbox
) -> None:
    """The sandbox's groups are set up as a deployment should be (privacy mode off): after
    Problem → Other, a plain message is the reason. The page gets what it needs to put its
    composer in reply mode: the ForceReply, ``selective``, and whom it mentions."""
    await book_tomorrow_at_ten(sandbox)
    await ok(await client.post("/api/clock", json={"action": "next_task"}))
    card = await _wait_for(
        client, LI_QIANG, TEA_GROUP, lambda m: any(":p" in b.get("callback_data", "") for b in m["buttons"])
    )

    async def press(message: dict[str, Any], ending: str) -> None:
        body = {"user_id": LI_QIANG, "message_id": message["message_id"], "data": _data(message, ending)}
        await ok(await client.post(f"/api/chats/{TEA_GROUP}/press", json=body))

    await press(card, ":p")
    choices = await _wait_for(
        client,
        LI_QIANG,
        TEA_GROUP,
        lambda m: any(b.get("callback_data", "").endswith(":o") for b in m["buttons"]),
    )
    await press(choices, ":o")
    question = await _wait_for(
        client, LI_QIANG, TEA_GROUP, lambda m: "请回复本条消息" in (m.get("text") or "")
    )
    assert question["reply_markup"]["force_reply"] is True and question["reply_markup"]["selective"] is True
    mentioned = [e["user"]["id"] for e in question["entities"] if e["type"] == "text_mention"]
    assert mentioned == [LI_QIANG]

    sent = await ok(
        await client.post(
            f"/api/chats/{TEA_GROUP}/messages", json={"user_id": LI_QIANG, "text": "铭牌缺了两个"}
        )
    )
    assert sent["delivered"] is True and not sent["message"].get("reply_to_message_id")
    reported = await _wait_for(
        client, LI_QIANG, TEA_GROUP, lambda m: "已报告客服主管" in (m.get("text") or "")
    )
    assert reported["reply_to_message_id"] == sent["message"]["message_id"]

    # and any message can be replied to: the page sends reply_to_message_id
    quoted = await ok(
        await client.post(
            f"/api/chats/{TEA_GROUP}/messages",
            json={"user_id": LI_QIANG, "text": "收到", "reply_to_message_id": reported["message_id"]},
        )
    )
    assert quoted["message"]["reply_to_message_id"] == reported["message_id"]
    bad = await client.post(
        f"/api/chats/{TEA_GROUP}/messages",
        json={"user_id": LI_QIANG, "text": "?", "reply_to_message_id": "first"},
    )
    assert bad.status == 400
