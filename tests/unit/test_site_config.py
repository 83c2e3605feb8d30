"""The site file: the example loads, and every problem is reported with its TOML path."""

from __future__ import annotations

import copy
import tomllib
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any, get_args

import pytest
from pydantic import BaseModel

from bot.site import (
    INVOLVED_TEAMS,
    PLACEHOLDERS,
    Anchor,
    ExpiryFrom,
    Role,
    SiteConfig,
    SiteConfigError,
    TaskKind,
    load_site,
    parse_site,
)

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "site.toml"

Data = dict[str, Any]


def example_data() -> Data:
    return tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))


def minimal_data() -> Data:
    """The smallest site the bot accepts: no teams, so nobody needs an escalation role."""
    return {
        "site": {"name": {"zh": "大厦", "en": "Building"}},
        "departments": [{"id": "office", "name": {"zh": "办公室", "en": "Office"}, "invite_code": "join"}],
        "room_classes": {"A": {"min_notice_minutes": 60, "buffer_minutes": 30}},
        "layouts": [{"id": "discussion", "name": {"zh": "座谈式", "en": "Discussion"}}],
        "rooms": [
            {
                "id": "r1",
                "name": {"zh": "一号", "en": "Room 1"},
                "class": "A",
                "capacity": 10,
                "layouts": ["discussion"],
            }
        ],
    }


def problems_of(data: Data) -> list[str]:
    with pytest.raises(SiteConfigError) as caught:
        parse_site(data)
    return caught.value.problems


def template_index(data: Data, template_id: str) -> int:
    return next(i for i, t in enumerate(data["task_templates"]) if t["id"] == template_id)


# ---- the example ------------------------------------------------------------------------


def test_example_site_loads() -> None:
    site = load_site(EXAMPLE)

    assert isinstance(site, SiteConfig)
    assert site.site.timezone == "Asia/Shanghai"
    assert str(site.zone) == "Asia/Shanghai"
    assert site.site.default_language == "zh"
    assert [r.id for r in site.rooms] == ["r101", "r102", "r301", "r203", "vc1"]
    assert {t.id for t in site.teams} == {"service", "av", "security", "cleaning", "hotline"}
    assert len(site.task_templates) == 17


def test_example_site_lookups_follow_the_file() -> None:
    site = load_site(str(EXAMPLE))

    hall = site.room("r203")
    assert hall is not None and hall.room_class == "C" and hall.capacity == 400
    assert site.room_class_of(hall).needs_approval
    assert site.room_class_of(hall).min_notice == timedelta(days=1)
    assert site.room_class_of(hall).buffer == timedelta(minutes=30)
    banquet = site.layout("banquet")
    assert banquet is not None and banquet.needs_approval
    finance = site.department("finance")
    assert finance is not None and finance.admins == (1001,)
    # invites are issued with /invite: the example has no standing codes
    assert site.department_by_invite("join-finance") is None
    assert site.site.invite_valid_days == 7
    assert [d.id for d in site.administered_departments(1001)] == ["finance"]
    assert [d.id for d in site.administered_departments(2301)] == ["finance", "office", "planning"]
    assert site.administered_departments(2101) == []
    assert site.placed_department(1001) == "finance" and site.placed_by_site(1001)
    assert site.placed_department(3101) is None and site.placed_by_site(3101)  # the AV team's leader
    assert not site.placed_by_site(2101) and not site.placed_by_site(999)
    assert site.team_by_chat(-1001) == site.team("service")
    assert [t.id for t in site.teams_of(3001)] == ["service"]
    assert site.people_with(Role.supervisor) == [2201]
    assert site.roles_of(2301) == {Role.manager, Role.admin}
    assert site.roles_of(999) == frozenset()
    tea = site.service("tea")
    assert tea is not None and tea.details[0].key == "refill_minutes" and tea.details[0].default == 30
    assert site.site.name.get("en") == "Administrative Centre Conference Building"
    assert site.site.name.get("zh") == "行政办事中心会议大厦"


def test_example_task_templates_read_as_documented() -> None:
    site = load_site(EXAMPLE)
    templates = {t.id: t for t in site.task_templates}

    notice = templates["notice_c"]
    assert notice.team == INVOLVED_TEAMS
    assert notice.anchor == Anchor.start
    assert (notice.push_offset_minutes, notice.due_offset_minutes) == (-2880, -1440)
    assert notice.applies_to.classes == ("C",)
    assert templates["check_1"].kind == TaskKind.check and templates["check_1"].leader_only
    refill = templates["tea_refill"]
    assert refill.kind == TaskKind.reminder and not refill.needs_confirmation
    assert refill.due_offset_minutes is None
    assert refill.repeat_every_minutes == 30 and refill.repeat_interval_detail == "tea.refill_minutes"
    assert templates["cleaning"].anchor == Anchor.end
    # after the meeting, a task ends two hours after its due time (before it: at the start)
    assert templates["cleaning"].expires_after_minutes == 120
    assert templates["cleaning"].expiry_from == ExpiryFrom.due
    assert templates["tea_welcome"].expires_after_minutes is None
    assert templates["onsite_12"].applies_to.levels == (1, 2)
    assert templates["tea_prep"].applies_to.services == ("tea", "water", "bottled_water")


def test_minimal_site_gets_the_documented_defaults() -> None:
    data = minimal_data()
    data["task_templates"] = [
        {
            "id": "t",
            "team": INVOLVED_TEAMS,
            "text": {"zh": "{room}", "en": "{room}"},
            "push_offset_minutes": -0.5,
            "due_offset_minutes": 0.25,
        }
    ]

    site = parse_site(data)

    assert site.site.timezone == "Asia/Shanghai"
    assert site.site.default_language == "zh"
    assert site.site.bot_username == "huiwu_bot"
    assert site.services == () and site.teams == () and site.people == ()
    assert not site.room_classes["A"].needs_approval
    assert not site.layouts[0].needs_approval
    room = site.rooms[0]
    assert (room.aliases, room.building, room.floor, room.equipment) == ((), "", 1, ())
    escalation = site.escalation
    assert escalation.reminder_after_due_minutes == 0
    assert [(s.role, s.wait_minutes) for s in escalation.chain] == [("supervisor", 10), ("manager", 10)]
    assert (escalation.repeat_every_minutes, escalation.max_repeats) == (0, 0)
    template = site.task_templates[0]
    assert template.kind == TaskKind.task and template.anchor == Anchor.start
    assert template.needs_confirmation and not template.leader_only
    assert template.applies_to.classes == template.applies_to.levels == template.applies_to.services == ()
    assert template.repeat_every_minutes is None and template.repeat_interval_detail is None
    # Offsets are minutes and fractions are allowed (a test site can run in seconds).
    assert (template.push_offset_minutes, template.due_offset_minutes) == (-0.5, 0.25)


def test_every_placeholder_and_literal_braces_are_accepted() -> None:
    data = minimal_data()
    text = " ".join(f"{{{name}}}" for name in sorted(PLACEHOLDERS)) + " {{literal}}"
    data["task_templates"] = [
        {
            "id": "t",
            "team": INVOLVED_TEAMS,
            "text": {"zh": text, "en": text},
            "push_offset_minutes": 0,
            "due_offset_minutes": 5,
        }
    ]

    parse_site(data)


# ---- one problem at a time, with its TOML path ------------------------------------------

Mutation = Callable[[Data], object]


def _set(*path: Any, value: Any) -> Mutation:
    def mutate(data: Data) -> None:
        target: Any = data
        for part in path[:-1]:
            target = target[part]
        target[path[-1]] = value

    return mutate


def _delete(*path: Any) -> Mutation:
    def mutate(data: Data) -> None:
        target: Any = data
        for part in path[:-1]:
            target = target[part]
        del target[path[-1]]

    return mutate


def _both(*mutations: Mutation) -> Mutation:
    def mutate(data: Data) -> None:
        for mutation in mutations:
            mutation(data)

    return mutate


def _template(template_id: str, key: str, value: Any) -> Mutation:
    def mutate(data: Data) -> None:
        data["task_templates"][template_index(data, template_id)][key] = value

    return mutate


def _template_text(template_id: str, language: str, text: str) -> Mutation:
    def mutate(data: Data) -> None:
        data["task_templates"][template_index(data, template_id)]["text"][language] = text

    return mutate


PROBLEMS: list[tuple[str, Mutation, str]] = [
    # structure (pydantic)
    ("negative capacity", _set("rooms", 3, "capacity", value=-5), "rooms[3].capacity: must be > 0"),
    ("zero capacity", _set("rooms", 0, "capacity", value=0), "rooms[0].capacity: must be > 0"),
    (
        "capacity not a number",
        _set("rooms", 1, "capacity", value="big"),
        "rooms[1].capacity: must be a whole number",
    ),
    (
        "fractional capacity",
        _set("rooms", 1, "capacity", value=2.5),
        "rooms[1].capacity: must be a whole number",
    ),
    (
        "negative notice",
        _set("room_classes", "B", "min_notice_minutes", value=-1),
        "room_classes.B.min_notice_minutes: must be >= 0",
    ),
    (
        "bad time zone",
        _set("site", "timezone", value="Mars/Olympus"),
        "site.timezone: unknown time zone 'Mars/Olympus'",
    ),
    ("unknown key", _set("rooms", 2, "colour", value="red"), "rooms[2].colour: unknown key (allowed here: "),
    ("unknown top-level key", _set("extras", value=1), "extras: unknown key"),
    (
        "unknown key in a room class",
        _set("room_classes", "A", "notice", value=5),
        "room_classes.A.notice: unknown key "
        "(allowed here: buffer_minutes, min_notice_minutes, needs_approval)",
    ),
    ("missing required key", _delete("rooms", 2, "capacity"), "rooms[2].capacity: is required"),
    ("missing class (an alias)", _delete("rooms", 0, "class"), "rooms[0].class: is required"),
    ("missing section", _delete("site"), "site: is required"),
    ("missing translation", _delete("layouts", 1, "name", "en"), "layouts[1].name.en: is required"),
    ("empty translation", _set("rooms", 0, "name", "zh", value=""), "rooms[0].name.zh: must not be empty"),
    ("text instead of a table", _set("rooms", 0, "name", value="Room"), "rooms[0].name: must be a table"),
    (
        "text instead of a list",
        _set("rooms", 0, "layouts", value="discussion"),
        "rooms[0].layouts: must be a list",
    ),
    ("empty list", _set("rooms", value=[]), "rooms: must not be empty"),
    ("bad id", _set("rooms", 0, "id", value="room 1"), "rooms[0].id: must match ^[A-Za-z0-9_-]+$"),
    (
        "room id too long",
        _set("rooms", 0, "id", value="r" * 33),
        "rooms[0].id: must be at most 32 characters",
    ),
    (
        "short invite code",
        _set("departments", 0, "invite_code", value="ab"),
        "departments[0].invite_code: must match",
    ),
    ("bad bot username", _set("site", "bot_username", value="@huiwu_bot"), "site.bot_username: must match"),
    (
        "unknown language",
        _set("people", 1, "language", value="fr"),
        "people[1].language: must be one of 'zh' or 'en'",
    ),
    (
        "unknown role",
        _set("people", 1, "roles", value=["boss"]),
        "people[1].roles[0]: must be one of 'requester'",
    ),
    (
        "unknown anchor",
        _template("inspection", "anchor", "middle"),
        "task_templates[1].anchor: must be one of 'start' or 'end'",
    ),
    (
        "offset not a number",
        _template("inspection", "push_offset_minutes", "soon"),
        "task_templates[1].push_offset_minutes: must be a number",
    ),
    (
        "repeat every 0",
        _template("tea_refill", "repeat_every_minutes", 0),
        "task_templates[13].repeat_every_minutes: must be > 0",
    ),
    (
        "flag not a boolean",
        _set("layouts", 4, "needs_approval", value="maybe"),
        "layouts[4].needs_approval: must be true or false",
    ),
    (
        "unknown chain role",
        _set("escalation", "chain", 0, "role", value="ceo"),
        "escalation.chain[0].role: must be one of 'supervisor' or 'manager'",
    ),
    (
        "negative wait",
        _set("escalation", "chain", 1, "wait_minutes", value=-1),
        "escalation.chain[1].wait_minutes: must be >= 0",
    ),
    (
        "detail default of the wrong type",
        _set("services", 3, "details", 0, "default", value=[30]),
        "services[3].details[0].default: must be a whole number or a text",
    ),
    (
        "digest time not HH:MM",
        _set("digest", value={"time": "5pm"}),
        'digest.time: must be a time of day written HH:MM, like "17:00"',
    ),
    ("weekday out of range", _set("weekly", value={"weekday": 8}), "weekly.weekday: must be <= 7"),
    # references between sections
    (
        "unknown aftercare team",
        _set("aftercare", value={"teams": ["service", "kitchen"]}),
        "aftercare.teams[1]: unknown team 'kitchen'",
    ),
    (
        "duplicate consumable id",
        _set(
            "consumables",
            value=[
                {"id": "pens", "name": {"zh": "笔", "en": "Pens"}, "unit": "pen", "price": 2},
                {"id": "pens", "name": {"zh": "笔", "en": "Pens"}, "unit": "pen", "price": 3},
            ],
        ),
        "consumables[1].id: duplicate id 'pens' (already used by consumables[0])",
    ),
    (
        "unknown room class",
        _set("rooms", 0, "class", value="Z"),
        "rooms[0].class: unknown room class 'Z' (known: A, B, C)",
    ),
    (
        "unknown layout",
        _set("rooms", 0, "layouts", value=["discussion", "circus"]),
        "rooms[0].layouts[1]: unknown layout 'circus' "
        "(known: banquet, classroom, discussion, theatre, u_shape)",
    ),
    (
        "duplicate room id",
        _set("rooms", 1, "id", value="r101"),
        "rooms[1].id: duplicate id 'r101' (already used by rooms[0])",
    ),
    (
        "duplicate team id",
        lambda data: data["teams"].append({**data["teams"][1], "chat_id": -1009}),
        "teams[5].id: duplicate id 'av' (already used by teams[1])",
    ),
    (
        "duplicate template id",
        _template("av_test", "id", "check_1"),
        "task_templates[5].id: duplicate id 'check_1' (already used by task_templates[2])",
    ),
    (
        "a check that verifies an unknown template",
        _template("check_3", "verifies", ["check_1", "check_9"]),
        "task_templates[9].verifies[1]: 'check_9' is not another task template",
    ),
    (
        "duplicate person",
        _set("people", 3, "id", value=2001),
        "people[3].id: duplicate person 2001 (already people[2])",
    ),
    (
        "duplicate invite code",
        _both(
            _set("departments", 0, "invite_code", value="join-finance"),
            _set("departments", 2, "invite_code", value="join-finance"),
        ),
        "departments[2].invite_code: 'join-finance' is already the invite code of departments[0]",
    ),
    (
        "invites valid for no time",
        _set("site", "invite_valid_days", value=0),
        "site.invite_valid_days: must be > 0",
    ),
    (
        "invites valid for over a year",
        _set("site", "invite_valid_days", value=400),
        "site.invite_valid_days: must be <= 365",
    ),
    (
        "department admin not a user id",
        _set("departments", 0, "admins", value=["wang"]),
        "departments[0].admins[0]: must be a whole number",
    ),
    (
        "department admin nobody knows",
        _set("departments", 2, "admins", value=[4242]),
        "departments[2].admins[0]: 4242 is not in [[people]] (list them with department = 'planning')",
    ),
    (
        "department admin of another department",
        _set("departments", 1, "admins", value=[1002, 1001]),
        "departments[1].admins[1]: people[0] (1001) has department 'finance', not 'office'",
    ),
    (
        "department admin without a department",
        _set("departments", 2, "admins", value=[2301]),
        "departments[2].admins[0]: people[6] (2301) has no department, not 'planning'",
    ),
    (
        "department admin listed twice",
        _set("departments", 0, "admins", value=[1001, 1001]),
        "departments[0].admins[1]: 1001 is listed twice",
    ),
    (
        "unknown department",
        _set("people", 0, "department", value="sales"),
        "people[0].department: unknown department 'sales' (known: finance, office, planning)",
    ),
    ("positive group chat id", _set("teams", 0, "chat_id", value=5), "teams[0].chat_id: must be negative"),
    (
        "group shared by two teams",
        _set("teams", 1, "chat_id", value=-1001),
        "teams[1].chat_id: already the group of teams[0]",
    ),
    (
        "nobody escalated to",
        _set("people", 5, "roles", value=[]),
        "people: nobody has the role 'supervisor' (the escalation chain needs one)",
    ),
    (
        "unknown team in a template",
        _template("inspection", "team", "kitchen"),
        "task_templates[1].team: unknown team 'kitchen' "
        "(known: av, cleaning, hotline, security, service, or '@involved')",
    ),
    (
        "unknown service in a template",
        _template("tea_welcome", "applies_to", {"services": ["coffee"]}),
        "task_templates[11].applies_to.services[0]: unknown service 'coffee'",
    ),
    (
        "unknown class in a template",
        _template("notice_c", "applies_to", {"classes": ["C", "D"]}),
        "task_templates[0].applies_to.classes[1]: unknown room class 'D' (known: A, B, C)",
    ),
    (
        "reception level out of range",
        _template("onsite_12", "applies_to", {"levels": [1, 7]}),
        "task_templates[3].applies_to.levels[1]: must be 1 to 4 (got 7)",
    ),
    (
        "due before push",
        _template("inspection", "due_offset_minutes", -2000),
        "task_templates[1].due_offset_minutes: due (-2000) before it is pushed (push_offset_minutes = -1440)",
    ),
    (
        "confirmable task without a due time",
        _delete("task_templates", 1, "due_offset_minutes"),
        "task_templates[1].due_offset_minutes: is required when needs_confirmation = true",
    ),
    (
        "reminder needing confirmation",
        _template("tea_refill", "needs_confirmation", True),
        "task_templates[13].needs_confirmation: a reminder cannot need confirmation",
    ),
    (
        "repeating task needing confirmation",
        lambda data: data["task_templates"][13].update(
            kind="task", needs_confirmation=True, due_offset_minutes=5
        ),
        "task_templates[13].needs_confirmation: a repeating task is a reminder and cannot need confirmation",
    ),
    (
        "task name too long",
        _template("inspection", "name", {"zh": "检查", "en": "x" * 41}),
        "task_templates[1].name.en: must be at most 40 characters",
    ),
    (
        "expiry after the start of a task due by the start",
        _template("inspection", "expires_after_minutes", 1400),
        "task_templates[1].expires_after_minutes: a task due by the meeting's start ends at the start",
    ),
    (
        "expiry before the due time",
        _both(
            _template("inspection", "expires_from", "start"),
            _template("inspection", "expires_after_minutes", -1400),
        ),
        "task_templates[1].expires_after_minutes: the task could expire before its due time",
    ),
    (
        "after the meeting, an expiry counted from the start",
        _template("clear_room", "expires_from", "start"),
        "task_templates[14].expires_after_minutes: the task could expire before its due time",
    ),
    (
        "negative expiry counted from the due time",
        _template("clear_room", "expires_after_minutes", -5),
        "task_templates[14].expires_after_minutes: must be >= 0 when counted from the due time (got -5)",
    ),
    (
        "expires_from without expires_after_minutes",
        _template("inspection", "expires_from", "start"),
        "task_templates[1].expires_from: needs expires_after_minutes",
    ),
    (
        "expiry of a repeating reminder",
        _template("tea_refill", "expires_after_minutes", 5),
        "task_templates[13].expires_after_minutes: a repeating reminder ends when the next one comes",
    ),
    (
        "unknown repeat detail",
        _template("tea_refill", "repeat_interval_detail", "tea.nope"),
        "task_templates[13].repeat_interval_detail: unknown detail 'tea.nope'",
    ),
    (
        "repeat detail that is not a number",
        _template("tea_refill", "repeat_interval_detail", "banner.text"),
        "task_templates[13].repeat_interval_detail: 'banner.text' is not a number detail",
    ),
    (
        "repeat detail without a fallback interval",
        _delete("task_templates", 13, "repeat_every_minutes"),
        "task_templates[13].repeat_interval_detail: needs repeat_every_minutes",
    ),
    (
        "unknown placeholder",
        _template_text("inspection", "en", "Inspect {rooom}"),
        "task_templates[1].text.en: unknown placeholder {rooom} (known: attendees, banner, date, due, end, "
        "layout, level, microphones, room, services, start, title, unit)",
    ),
    (
        "attribute of a placeholder",
        _template_text("inspection", "zh", "{room.name}"),
        "task_templates[1].text.zh: unknown placeholder {room.name}",
    ),
    (
        "positional placeholder",
        _template_text("inspection", "en", "{0}"),
        "task_templates[1].text.en: unknown placeholder {0}",
    ),
    (
        "empty placeholder",
        _template_text("inspection", "en", "{}"),
        "task_templates[1].text.en: {} names no placeholder",
    ),
    (
        "format spec",
        _template_text("inspection", "en", "{attendees:d} people"),
        "task_templates[1].text.en: placeholder {attendees} takes no format spec or conversion",
    ),
    (
        "unclosed brace",
        _template_text("inspection", "en", "Inspect {room"),
        "task_templates[1].text.en: bad placeholder syntax (expected '}' before end of string",
    ),
    (
        "single closing brace",
        _template_text("inspection", "en", "Inspect }"),
        "task_templates[1].text.en: bad placeholder syntax (Single '}' encountered",
    ),
    (
        "detail default out of range",
        _set("services", 7, "details", 0, "default", value=100),
        "services[7].details[0].default: must be >= 1 and <= 60 (got 100)",
    ),
    (
        "detail min above max",
        _set("services", 7, "details", 0, "min", value=99),
        "services[7].details[0].max: must be >= min (99)",
    ),
    (
        "text default for a number detail",
        _set("services", 7, "details", 0, "default", value="two"),
        "services[7].details[0].default: a number detail needs a whole-number default",
    ),
]


@pytest.mark.parametrize(
    ("mutate", "expected"), [(m, e) for _, m, e in PROBLEMS], ids=[name for name, _, _ in PROBLEMS]
)
def test_each_problem_is_reported_with_its_path(mutate: Mutation, expected: str) -> None:
    data = example_data()
    mutate(data)

    problems = problems_of(data)

    assert len(problems) == 1, problems
    assert problems[0].startswith(expected), problems[0]


def test_the_mutations_hit_what_their_paths_say() -> None:
    """Guards the table above: the indexes it uses are the example's."""
    data = example_data()
    assert data["rooms"][3]["id"] == "r203"
    assert data["services"][3]["id"] == "tea" and data["services"][7]["id"] == "microphones"
    assert data["people"][5]["roles"] == ["supervisor"]
    assert [p["id"] for p in data["people"][:7:6]] == [1001, 2301]
    assert [d["id"] for d in data["departments"]] == ["finance", "office", "planning"]
    assert [t["id"] for t in data["task_templates"]][:5] == [
        "notice_c",
        "inspection",
        "check_1",
        "onsite_12",
        "check_2",
    ]
    assert data["task_templates"][11]["id"] == "tea_welcome"
    assert data["task_templates"][13]["id"] == "tea_refill"


def test_room_class_names_that_are_not_bare_keys_are_quoted() -> None:
    data = minimal_data()
    data["room_classes"] = {"Hall C": {"min_notice_minutes": 60, "buffer_minutes": -1}}
    data["rooms"][0]["class"] = "Hall C"

    assert problems_of(data) == ['room_classes."Hall C".buffer_minutes: must be >= 0']


def test_a_list_with_one_bad_item_is_not_also_called_empty() -> None:
    data = minimal_data()
    data["rooms"] = ["r1"]

    assert problems_of(data) == ["rooms[0]: must be a table ({ key = value, ... } or a [section])"]


def test_an_escalation_chain_without_a_manager_needs_no_manager() -> None:
    data = example_data()
    data["escalation"]["chain"] = [{"role": "supervisor", "wait_minutes": 5}]
    for person in data["people"]:
        person["roles"] = [r for r in person.get("roles", []) if r != "manager"]

    site = parse_site(data)

    assert site.people_with(Role.manager) == []


def test_a_site_without_teams_needs_no_escalation_roles() -> None:
    site = parse_site(minimal_data())

    assert site.teams == () and site.people == ()


# ---- several problems at once ----------------------------------------------------------


def test_several_structure_problems_are_reported_together() -> None:
    data = example_data()
    data["rooms"][3]["capacity"] = -1
    data["rooms"][2]["colour"] = "red"
    del data["teams"][0]["leader"]
    data["site"]["timezone"] = "Nowhere/City"

    problems = problems_of(data)

    assert len(problems) == 4, problems
    assert "site.timezone: unknown time zone 'Nowhere/City'" in problems
    assert "rooms[3].capacity: must be > 0" in problems
    assert any(p.startswith("rooms[2].colour: unknown key") for p in problems)
    assert "teams[0].leader: is required" in problems


def test_several_reference_problems_are_reported_together() -> None:
    data = example_data()
    data["rooms"][0]["class"] = "Z"
    data["rooms"][1]["id"] = "r101"
    data["departments"][0]["invite_code"] = "join-finance"
    data["departments"][1]["invite_code"] = "join-finance"
    data["task_templates"][1]["team"] = "kitchen"
    data["task_templates"][1]["due_offset_minutes"] = -2000
    data["task_templates"][2]["text"]["en"] = "{nope}"

    problems = problems_of(data)

    prefixes = [
        "rooms[1].id: duplicate id 'r101'",
        "departments[1].invite_code:",
        "rooms[0].class: unknown room class 'Z'",
        "task_templates[1].team: unknown team 'kitchen'",
        "task_templates[1].due_offset_minutes: due (-2000) before it is pushed",
        "task_templates[2].text.en: unknown placeholder {nope}",
    ]
    assert len(problems) == len(prefixes), problems
    for prefix in prefixes:
        assert any(p.startswith(prefix) for p in problems), (prefix, problems)


def test_the_error_message_lists_every_problem_one_per_line() -> None:
    data = example_data()
    data["rooms"][0]["class"] = "Z"
    data["task_templates"][1]["team"] = "kitchen"

    with pytest.raises(SiteConfigError) as caught:
        parse_site(data)

    assert str(caught.value).splitlines() == caught.value.problems


# ---- reading the file ------------------------------------------------------------------


def test_a_missing_file_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.toml"

    with pytest.raises(SiteConfigError) as caught:
        load_site(missing)

    assert caught.value.problems == [f"{missing}: cannot read (No such file or directory)"]


def test_a_directory_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    with pytest.raises(SiteConfigError) as caught:
        load_site(tmp_path)

    assert len(caught.value.problems) == 1
    assert caught.value.problems[0].startswith(f"{tmp_path}: cannot read (")


def test_a_file_that_is_not_toml_is_reported_with_its_line(tmp_path: Path) -> None:
    broken = tmp_path / "site.toml"
    broken.write_text('[site]\nname = { zh = "大厦", en = "Building" }\ntimezone\n', encoding="utf-8")

    with pytest.raises(SiteConfigError) as caught:
        load_site(broken)

    [problem] = caught.value.problems
    assert problem.startswith(f"{broken}: not valid TOML (")
    assert "line 3" in problem


def test_a_file_that_is_not_utf8_is_not_toml(tmp_path: Path) -> None:
    broken = tmp_path / "site.toml"
    broken.write_bytes("[site]\nname = '大厦'\n".encode("gb18030"))

    with pytest.raises(SiteConfigError) as caught:
        load_site(broken)

    [problem] = caught.value.problems
    assert problem.startswith(f"{broken}: not valid TOML (not UTF-8 text")


def test_problems_in_a_file_carry_toml_paths(tmp_path: Path) -> None:
    text = EXAMPLE.read_text(encoding="utf-8").replace("capacity = 400", "capacity = -400")
    file = tmp_path / "site.toml"
    file.write_text(text, encoding="utf-8")

    with pytest.raises(SiteConfigError) as caught:
        load_site(file)

    assert caught.value.problems == ["rooms[3].capacity: must be > 0"]


def test_loading_does_not_change_the_data_it_is_given() -> None:
    data = example_data()
    before = copy.deepcopy(data)

    parse_site(data)

    assert data == before


# ---- the documentation keeps up with the models ------------------------------------------


def _models(model: type[BaseModel], seen: set[type[BaseModel]]) -> set[type[BaseModel]]:
    if model in seen:
        return seen
    seen.add(model)
    for field in model.model_fields.values():
        stack: list[Any] = [field.annotation]
        while stack:
            annotation = stack.pop()
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                _models(annotation, seen)
            stack.extend(get_args(annotation))
    return seen


def test_every_key_of_the_site_file_is_documented() -> None:
    docs = (ROOT / "docs" / "site-config.md").read_text(encoding="utf-8")
    missing = [
        f"{model.__name__}.{field.alias or name}"
        for model in _models(SiteConfig, set())
        for name, field in model.model_fields.items()
        if f"`{field.alias or name}`" not in docs
    ]

    assert missing == []


def test_every_placeholder_is_documented() -> None:
    docs = (ROOT / "docs" / "site-config.md").read_text(encoding="utf-8")

    assert [name for name in sorted(PLACEHOLDERS) if f"`{{{name}}}`" not in docs] == []
