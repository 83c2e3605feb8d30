"""Validation problems of the site file, each with its TOML path (``rooms[3].capacity: must be
> 0``): the structure pydantic refuses, said plainly, and the cross-references it cannot check."""

from __future__ import annotations

import re
import types
from collections.abc import Iterable
from string import Formatter
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from bot.site.basics import INVOLVED_TEAMS, LANGUAGES, DetailKind, Role, ServiceItem
from bot.site.config import SiteConfig
from bot.site.tasks import ExpiryFrom, TaskKind, TaskTemplate

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def _path(loc: Iterable[Any]) -> str:
    """A pydantic location as a TOML path: ``rooms[3].capacity``, ``room_classes."A 1"``."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            key = str(part) if _BARE_KEY.match(str(part)) else f'"{part}"'
            text += f".{key}" if text else key
    return text or "(file)"


_FRIENDLY = {
    "greater_than": "must be > {gt}",
    "greater_than_equal": "must be >= {ge}",
    "less_than": "must be < {lt}",
    "less_than_equal": "must be <= {le}",
    "missing": "is required",
    "extra_forbidden": "unknown key",
    "too_short": "must not be empty",
    "string_too_short": "must not be empty",
    "string_too_long": "must be at most {max_length} characters",
    "string_pattern_mismatch": "must match {pattern}",
    "string_type": "must be a text (a quoted string)",
    "int_parsing": "must be a whole number",
    "int_type": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_parsing": "must be a number",
    "float_type": "must be a number",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "literal_error": "must be one of {expected}",
    "enum": "must be one of {expected}",
    "tuple_type": "must be a list ([...])",
    "list_type": "must be a list ([...])",
    "dict_type": "must be a table ({{ key = value, ... }} or a [section])",
    "model_type": "must be a table ({{ key = value, ... }} or a [section])",
    "model_attributes_type": "must be a table ({{ key = value, ... }} or a [section])",
}


def _number(value: Any) -> Any:
    """``0.0`` reads as ``0`` in a message about minutes."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The model that holds the key at ``loc`` (for listing the keys it does accept)."""
    annotation: Any = SiteConfig
    for part in loc[:-1]:
        annotation = _unwrap_optional(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            field = next((f for name, f in annotation.model_fields.items() if part in (name, f.alias)), None)
            if field is None:
                return None
            annotation = field.annotation
        elif get_origin(annotation) in (tuple, list) and isinstance(part, int):
            annotation = get_args(annotation)[0]
        elif get_origin(annotation) is dict and isinstance(part, str):
            annotation = get_args(annotation)[1]
        else:
            return None
    annotation = _unwrap_optional(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def _unwrap_optional(annotation: Any) -> Any:
    if get_origin(annotation) in (Union, types.UnionType):
        members = [a for a in get_args(annotation) if a is not type(None)]
        if len(members) == 1:
            return members[0]
    return annotation


def _friendly(error: Any) -> str:
    if error["type"] == "extra_forbidden":
        model = _model_at(tuple(error["loc"]))
        if model is not None:
            keys = sorted(f.alias or name for name, f in model.model_fields.items())
            return f"unknown key (allowed here: {', '.join(keys)})"
    template = _FRIENDLY.get(error["type"])
    if template is None:
        message = str(error["msg"])
        return message.removeprefix("Value error, ")
    try:
        context = {key: _number(value) for key, value in (error.get("ctx") or {}).items()}
        return template.format(**context)
    except (KeyError, IndexError):
        return str(error["msg"])


def structure_problems(exc: ValidationError) -> list[str]:
    errors = exc.errors()
    locations = [tuple(e["loc"]) for e in errors]
    problems = []
    for error, loc in zip(errors, locations, strict=True):
        # A list whose only item is invalid is also "too short" after validation: the item's
        # own problem is the one worth reading.
        if error["type"] == "too_short" and any(
            other[: len(loc)] == loc and len(other) > len(loc) for other in locations
        ):
            continue
        problems.append(f"{_path(loc)}: {_friendly(error)}")
    return problems


def _known(values: Iterable[str]) -> str:
    return ", ".join(sorted(values)) or "none"


def reference_problems(site: SiteConfig) -> list[str]:
    problems: list[str] = []

    def unique(items: Iterable[str], where: str) -> None:
        first: dict[str, int] = {}
        for index, item in enumerate(items):
            if item in first:
                problems.append(
                    f"{where}[{index}].id: duplicate id {item!r} (already used by {where}[{first[item]}])"
                )
            else:
                first[item] = index

    unique((d.id for d in site.departments), "departments")
    unique((r.id for r in site.rooms), "rooms")
    unique((s.id for s in site.services), "services")
    unique((t.id for t in site.teams), "teams")
    unique((t.id for t in site.task_templates), "task_templates")
    unique((layout.id for layout in site.layouts), "layouts")
    unique((c.id for c in site.consumables), "consumables")
    codes: dict[str, int] = {}
    for index, department in enumerate(site.departments):
        if department.invite_code is not None and department.invite_code in codes:
            problems.append(
                f"departments[{index}].invite_code: {department.invite_code!r} is already the invite code "
                f"of departments[{codes[department.invite_code]}]"
            )
        elif department.invite_code is not None:
            codes[department.invite_code] = index
    layout_ids = {layout.id for layout in site.layouts}
    for index, room in enumerate(site.rooms):
        if room.room_class not in site.room_classes:
            problems.append(
                f"rooms[{index}].class: unknown room class {room.room_class!r} "
                f"(known: {_known(site.room_classes)})"
            )
        for position, layout in enumerate(room.layouts):
            if layout not in layout_ids:
                problems.append(
                    f"rooms[{index}].layouts[{position}]: unknown layout {layout!r} "
                    f"(known: {_known(layout_ids)})"
                )
    for index, service in enumerate(site.services):
        problems.extend(_detail_problems(service, f"services[{index}]"))
    people_ids: dict[int, int] = {}
    department_ids = {d.id for d in site.departments}
    for index, person in enumerate(site.people):
        if person.id in people_ids:
            problems.append(
                f"people[{index}].id: duplicate person {person.id} (already people[{people_ids[person.id]}])"
            )
        else:
            people_ids[person.id] = index
        if person.department is not None and person.department not in department_ids:
            problems.append(
                f"people[{index}].department: unknown department {person.department!r} "
                f"(known: {_known(department_ids)})"
            )
    problems.extend(_department_admin_problems(site, people_ids))
    chats: dict[int, int] = {}
    for index, team in enumerate(site.teams):
        if team.chat_id is not None:
            if team.chat_id >= 0:
                problems.append(
                    f"teams[{index}].chat_id: must be negative (a group's chat id, like -1001234567890)"
                )
            if team.chat_id in chats:
                problems.append(f"teams[{index}].chat_id: already the group of teams[{chats[team.chat_id]}]")
            else:
                chats[team.chat_id] = index
    # The supervisor hears of every problem report; the chain names whoever else it needs.
    needed_roles = [Role.supervisor, *(Role(step.role) for step in site.escalation.chain)]
    for role in dict.fromkeys(needed_roles):
        if site.teams and not site.people_with(role):
            problems.append(f"people: nobody has the role {role.value!r} (the escalation chain needs one)")
    team_ids = {t.id for t in site.teams}
    service_ids = {s.id for s in site.services}
    for index, template in enumerate(site.task_templates):
        problems.extend(_template_problems(site, template, f"task_templates[{index}]", team_ids, service_ids))
    for position, team_id in enumerate(site.aftercare.teams):
        if team_id not in team_ids:
            problems.append(
                f"aftercare.teams[{position}]: unknown team {team_id!r} (known: {_known(team_ids)})"
            )
    problems.extend(_approval_problems(site))
    problems.extend(_checkin_problems(site))
    return problems


def _checkin_problems(site: SiteConfig) -> list[str]:
    """The room classes and rooms ``[checkin]`` names must exist."""
    problems: list[str] = []
    checkin = site.checkin
    for room_class in checkin.release_after_minutes:
        if room_class not in site.room_classes:
            problems.append(
                f"checkin.release_after_minutes.{room_class}: unknown room class "
                f"(known: {_known(site.room_classes)})"
            )
    for position, room_class in enumerate(checkin.off_classes):
        if room_class not in site.room_classes:
            problems.append(
                f"checkin.off_classes[{position}]: unknown room class {room_class!r} "
                f"(known: {_known(site.room_classes)})"
            )
    room_ids = {room.id for room in site.rooms}
    for position, room_id in enumerate(checkin.off_rooms):
        if room_id not in room_ids:
            problems.append(
                f"checkin.off_rooms[{position}]: unknown room {room_id!r} (known: {_known(room_ids)})"
            )
    return problems


def _approval_problems(site: SiteConfig) -> list[str]:
    """Whoever a waiting request is escalated to must exist; second approvers must be
    approvers, and someone must be left to be asked first."""
    target = site.approvals.escalate_to
    approvals_needed = any(c.needs_approval for c in site.room_classes.values()) or any(
        layout.needs_approval for layout in site.layouts
    )
    if isinstance(target, Role):
        # left at its default, a site without a manager simply escalates to nobody
        named = "escalate_to" in site.approvals.model_fields_set
        if approvals_needed and named and not site.people_with(target):
            return [
                f"approvals.escalate_to: nobody has the role {target.value!r} "
                "(requests waiting for approval are escalated to them)"
            ]
        return []
    problems: list[str] = []
    approvers = set(site.people_with(Role.approver))
    for position, person_id in enumerate(target):
        if person_id not in approvers:
            problems.append(
                f"approvals.escalate_to[{position}]: {person_id} is not a person with the role "
                f"'approver' (approvers: {_known(str(a) for a in sorted(approvers))})"
            )
    if approvals_needed and not approvers - set(target):
        problems.append(
            "approvals.escalate_to: every approver is a second approver; "
            "at least one must be left to be asked first"
        )
    return problems


def _department_admin_problems(site: SiteConfig, people_ids: dict[int, int]) -> list[str]:
    """A department's admins belong to it: listed in [[people]] with its ``department``.

    Whoever decides who joins a department sees what its members see, so the file says so
    in so many words instead of the admin list placing people by itself.
    """
    problems: list[str] = []
    for index, department in enumerate(site.departments):
        seen: set[int] = set()
        for position, admin in enumerate(department.admins):
            at = f"departments[{index}].admins[{position}]"
            if admin in seen:
                problems.append(f"{at}: {admin} is listed twice")
                continue
            seen.add(admin)
            if admin not in people_ids:
                problems.append(
                    f"{at}: {admin} is not in [[people]] (list them with department = {department.id!r})"
                )
                continue
            placed = site.placed_department(admin)
            if placed is not None and site.department(placed) is None:
                continue  # reported as people[i].department already
            if placed != department.id:
                where = "no department" if placed is None else f"department {placed!r}"
                problems.append(
                    f"{at}: people[{people_ids[admin]}] ({admin}) has {where}, not {department.id!r} "
                    f"(a department's admin belongs to it)"
                )
    return problems


def _detail_problems(service: ServiceItem, where: str) -> list[str]:
    problems: list[str] = []
    keys: dict[str, int] = {}
    for position, detail in enumerate(service.details):
        at = f"{where}.details[{position}]"
        if detail.key in keys:
            problems.append(
                f"{at}.key: duplicate key {detail.key!r} (already {where}.details[{keys[detail.key]}])"
            )
        else:
            keys[detail.key] = position
        if detail.kind == DetailKind.text:
            if detail.default is not None and not isinstance(detail.default, str):
                problems.append(f"{at}.default: a text detail needs a text default")
            continue
        if detail.min is not None and detail.max is not None and detail.min > detail.max:
            problems.append(f"{at}.max: must be >= min ({detail.min})")
        elif detail.default is not None and not isinstance(detail.default, int):
            problems.append(f"{at}.default: a number detail needs a whole-number default")
        elif isinstance(detail.default, int) and (
            (detail.min is not None and detail.default < detail.min)
            or (detail.max is not None and detail.default > detail.max)
        ):
            low = "" if detail.min is None else f" >= {detail.min}"
            high = "" if detail.max is None else f" <= {detail.max}"
            joint = " and" if low and high else ""
            problems.append(f"{at}.default: must be{low}{joint}{high} (got {detail.default})")
    return problems


def _template_problems(
    site: SiteConfig, template: TaskTemplate, where: str, team_ids: set[str], service_ids: set[str]
) -> list[str]:
    problems: list[str] = []
    if template.team != INVOLVED_TEAMS and template.team not in team_ids:
        problems.append(
            f"{where}.team: unknown team {template.team!r} (known: {_known(team_ids)}, or {INVOLVED_TEAMS!r})"
        )
    for position, service in enumerate(template.applies_to.services):
        if service not in service_ids:
            problems.append(
                f"{where}.applies_to.services[{position}]: unknown service {service!r} "
                f"(known: {_known(service_ids)})"
            )
    for position, room_class in enumerate(template.applies_to.classes):
        if room_class not in site.room_classes:
            problems.append(
                f"{where}.applies_to.classes[{position}]: unknown room class {room_class!r} "
                f"(known: {_known(site.room_classes)})"
            )
    for position, level in enumerate(template.applies_to.levels):
        if level not in (1, 2, 3, 4):
            problems.append(f"{where}.applies_to.levels[{position}]: must be 1 to 4 (got {level})")
    if template.due_offset_minutes is not None and template.due_offset_minutes < template.push_offset_minutes:
        problems.append(
            f"{where}.due_offset_minutes: due ({_number(template.due_offset_minutes)}) before it is pushed "
            f"(push_offset_minutes = {_number(template.push_offset_minutes)})"
        )
    if template.kind == TaskKind.reminder and template.needs_confirmation:
        problems.append(f"{where}.needs_confirmation: a reminder cannot need confirmation (set it to false)")
    elif template.repeat_every_minutes is not None and template.needs_confirmation:
        problems.append(
            f"{where}.needs_confirmation: a repeating task is a reminder and cannot need confirmation "
            "(set it to false)"
        )
    elif template.needs_confirmation and template.due_offset_minutes is None:
        problems.append(
            f"{where}.due_offset_minutes: is required when needs_confirmation = true (a confirmable task "
            "needs a due time)"
        )
    known_templates = {t.id for t in site.task_templates}
    for position, verified in enumerate(template.verifies):
        if verified not in known_templates or verified == template.id:
            problems.append(
                f"{where}.verifies[{position}]: {verified!r} is not another task template "
                f"(known: {_known(known_templates - {template.id})})"
            )
    if template.verifies and not template.needs_confirmation:
        problems.append(f"{where}.verifies: a check that verifies others needs confirmation")
    if template.name is not None:
        for language in LANGUAGES:
            if len(getattr(template.name, language)) > 40:
                problems.append(f"{where}.name.{language}: must be at most 40 characters")
    if template.repeat_interval_detail is not None:
        at = f"{where}.repeat_interval_detail"
        service_id, _, key = template.repeat_interval_detail.partition(".")
        owner = site.service(service_id)
        detail = next((d for d in owner.details if d.key == key), None) if owner else None
        if detail is None:
            problems.append(
                f"{at}: unknown detail {template.repeat_interval_detail!r} "
                "(write <service id>.<detail key>, like tea.refill_minutes)"
            )
        elif detail.kind != DetailKind.number:
            problems.append(f"{at}: {template.repeat_interval_detail!r} is not a number detail")
        if template.repeat_every_minutes is None:
            problems.append(f"{at}: needs repeat_every_minutes (the interval when the booking gives none)")
    problems += _expiry_problems(template, where)
    for language in LANGUAGES:
        problem = _placeholder_problem(getattr(template.text, language))
        if problem:
            problems.append(f"{where}.text.{language}: {problem}")
    return problems


def _expiry_problems(template: TaskTemplate, where: str) -> list[str]:
    """The expiry must close the window after the task's own time, for every meeting, and
    not after the start (the end) for a task due by the start (the end), which ends there."""
    at = f"{where}.expires_after_minutes"
    after = template.expires_after_minutes
    if after is None:
        if template.expires_from is not None:
            return [f"{where}.expires_from: needs expires_after_minutes (how long after it)"]
        return []
    if template.repeat_every_minutes is not None:
        return [f"{at}: a repeating reminder ends when the next one comes; remove it"]
    own = template.due_offset_minutes
    if own is None:
        if template.expiry_from == ExpiryFrom.due:
            return [f"{at}: counts from the due time, but there is no due_offset_minutes (set expires_from)"]
        own = template.push_offset_minutes
    what = "due time" if template.due_offset_minutes is not None else "push time"
    anchor = template.anchor.value
    # the expiry as (anchor, minutes); the meeting's end is never before its start
    if template.expiry_from == ExpiryFrom.due:
        if after < 0:
            return [f"{at}: must be >= 0 when counted from the due time (got {_number(after)})"]
        expires_anchor, expires = anchor, own + after
    else:
        expires_anchor, expires = template.expiry_from.value, after
    # from the start for a task anchored at the end: before it for a long enough meeting
    if expires < own or (expires_anchor, anchor) == ("start", "end"):
        return [
            f"{at}: the task could expire before its {what} "
            f"({_number(own)} min from the {anchor}); count from the {anchor} or the due time"
        ]
    if own <= 0 and (expires_anchor != anchor or expires > 0):
        # due by the anchor, it ends there at the latest
        return [
            f"{at}: a task due by the meeting's {anchor} ends at the {anchor}; the expiry must "
            f"not be after it (it is {_number(expires)} min from the {expires_anchor})"
        ]
    return []


PLACEHOLDERS = frozenset(
    {
        "room",
        "date",
        "start",
        "end",
        "attendees",
        "title",
        "unit",
        "level",
        "layout",
        "banner",
        "microphones",
        "services",
        "due",
    }
)


def _placeholder_problem(text: str) -> str | None:
    """Why ``text`` cannot be filled in with the task placeholders, or None.

    Only plain ``{name}`` placeholders are accepted: no positions, attributes, indexes,
    conversions or format specs, so that filling one in can never fail at run time.
    """
    try:
        fields = [(name, spec, conversion) for _, name, spec, conversion in Formatter().parse(text)]
    except ValueError as exc:
        return f"bad placeholder syntax ({exc}; write a literal brace as {{{{ or }}}})"
    for name, spec, conversion in fields:
        if name is None:
            continue
        if name not in PLACEHOLDERS:
            if not name:
                return f"{{}} names no placeholder: write one of {_known(PLACEHOLDERS)}"
            return f"unknown placeholder {{{name}}} (known: {_known(PLACEHOLDERS)})"
        if spec or conversion:
            return f"placeholder {{{name}}} takes no format spec or conversion: write {{{name}}}"
    return None
