"""Invites and moves between departments: texts, keyboards and the typed button data.

Button data is ``mbr:<request id>:<1|0>`` (approve or refuse a move) and ``inv:<invite id>``
(revoke an invite). Ids are ASCII digits only; anything else is not this button.
"""

from __future__ import annotations

import re
from typing import Self

from aiogram.filters.callback_data import CallbackData
from sqlalchemy.ext.asyncio import AsyncSession

from bot.delivery.notices import Keyboard, RenderContext, Rendered, renderer
from bot.render.booking import notice_reader, person_name
from bot.render.text import Reader, fit_message
from bot.services.membership import InviteView, MoveRequestView, find_move_request
from bot.services.types import Notice

_MOVE_DATA = re.compile(r"mbr:[0-9]{1,18}:[01]")
_REVOKE_DATA = re.compile(r"inv:[0-9]{1,18}")
LIST_LIMIT = 30


class MoveDecisionData(CallbackData, prefix="mbr"):
    request_id: int
    approve: bool

    @classmethod
    def unpack(cls, value: str) -> Self:
        # pydantic would also read "١٢" or " 12" as a number; only plain ASCII digits are ours
        if not _MOVE_DATA.fullmatch(value):
            raise ValueError("not move-decision data")
        return super().unpack(value)


class RevokeInviteData(CallbackData, prefix="inv"):
    invite_id: int

    @classmethod
    def unpack(cls, value: str) -> Self:
        if not _REVOKE_DATA.fullmatch(value):
            raise ValueError("not revoke-invite data")
        return super().unpack(value)


def issued_text(reader: Reader, department_id: str, link: str, expires_at_text: str) -> str:
    _ = reader.gettext
    return "\n".join(
        [
            _("🔗 Invite into {department}, for one person, valid until {moment}:").format(
                department=reader.department_name(department_id), moment=expires_at_text
            ),
            link,
            _("It works once. /invites lists the live invites, to revoke one."),
        ]
    )


async def invites_view(
    reader: Reader, session: AsyncSession, invites: list[InviteView]
) -> tuple[str, Keyboard]:
    _ = reader.gettext
    if not invites:
        return _("No live invites. Issue one with /invite &lt;department&gt;."), []
    lines = [_("<b>Live invites</b>")]
    keyboard: Keyboard = []
    for invite in invites[:LIST_LIMIT]:
        department = reader.department_name(invite.department_id)
        lines.append(
            _("• {department} · {hint}… · until {moment} · by {person}").format(
                department=department,
                hint=invite.hint,
                moment=reader.when(invite.expires_at),
                person=await person_name(session, reader.site, invite.created_by_id),
            )
        )
        keyboard.append(
            [
                {
                    "text": _("🗑 Revoke {hint}… ({department})").format(
                        hint=invite.hint, department=_button_name(reader, invite.department_id)
                    ),
                    "callback_data": RevokeInviteData(invite_id=invite.id).pack(),
                }
            ]
        )
    if len(invites) > LIST_LIMIT:
        lines.append(_("… and {count} more.").format(count=len(invites) - LIST_LIMIT))
    return fit_message("\n".join(lines)), keyboard


def _button_name(reader: Reader, department_id: str) -> str:
    """A department's name on a button: plain text, which Telegram shows as it is."""
    department = reader.site.department(department_id)
    return department.name.get(reader.language) if department is not None else department_id


def decision_keyboard(reader: Reader, request_id: int) -> Keyboard:
    _ = reader.gettext
    return [
        [
            {
                "text": _("✅ Approve"),
                "callback_data": MoveDecisionData(request_id=request_id, approve=True).pack(),
            },
            {
                "text": _("❌ Refuse"),
                "callback_data": MoveDecisionData(request_id=request_id, approve=False).pack(),
            },
        ]
    ]


async def move_request_text(reader: Reader, session: AsyncSession, request: MoveRequestView) -> str:
    """What a department's admin reads about someone who asks to move in."""
    _ = reader.gettext
    lines = [
        _("🙋 <b>{person}</b> asks to join {department}.").format(
            person=await person_name(session, reader.site, request.user_id),
            department=reader.department_name(request.department_id),
        )
    ]
    if request.from_department_id is not None:
        lines.append(
            _("They are now in {department}.").format(
                department=reader.department_name(request.from_department_id)
            )
        )
    lines.append(
        _("Until it is approved they see nothing of {department}.").format(
            department=reader.department_name(request.department_id)
        )
    )
    return "\n".join(lines)


@renderer("membership_request")
async def render_membership_request(ctx: RenderContext, notice: Notice) -> Rendered | None:
    request = await find_move_request(ctx.session, int(notice.params["request_id"]))
    if request is None or request.status != "pending":
        return None
    reader = notice_reader(ctx)
    text = await move_request_text(reader, ctx.session, request)
    return Rendered(text, decision_keyboard(reader, request.id))


@renderer("membership_decided")
async def render_membership_decided(ctx: RenderContext, notice: Notice) -> Rendered | None:
    request = await find_move_request(ctx.session, int(notice.params["request_id"]))
    if request is None or request.status == "pending":
        return None
    reader = notice_reader(ctx)
    _ = reader.gettext
    department = reader.department_name(request.department_id)
    if request.status == "approved":
        text = _("✅ Your request was approved: you are now in {department}. Book a room with /book.")
    else:
        text = _("❌ Your request to join {department} was refused.")
    return Rendered(text.format(department=department))
