"""Every handler module's router, in the order updates should meet them.

Order matters: start (with the gate for unknown people) first; the command and button
routers next; the answers to the bot's questions that quote no question (bot/handlers/prompts.py)
after the routers that take a reply quoting one; the booking dialog after every other router
(an open dialog takes any private message or press that reaches it); fallback last.
"""

from __future__ import annotations

from aiogram import Router


def build_routers() -> list[Router]:
    """A new set of routers: each App (two may run in one process) gets its own tree, as
    aiogram gives a router one parent."""
    from bot.dialogs.booking import build_booking_dialog
    from bot.handlers import (
        aftercare,
        approval,
        bind,
        booking,
        checkin,
        display,
        fallback,
        help,
        invites,
        language,
        my,
        prompts,
        reports,
        start,
        statements,
        supervision,
        tasks,
    )

    return [
        start.build_router(),
        language.build_router(),
        help.build_router(),
        booking.build_router(),
        my.build_router(),
        approval.build_router(),
        checkin.build_router(),
        invites.build_router(),
        tasks.build_router(),
        supervision.build_router(),
        bind.build_router(),
        display.build_router(),
        reports.build_router(),
        aftercare.build_router(),
        statements.build_router(),
        prompts.build_router(),  # unquoted answers: after the routers that match a quoted one
        build_booking_dialog(),
        fallback.build_router(),
    ]
