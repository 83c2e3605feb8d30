"""Buttons on tasks: Done / Problem in the teams' groups, and the supervisor's buttons.

Button data carries ids only (``t:<task>:<action>``, ``e:<task>:<action>``, typed in
bot/telegram/callback_data.py); who may press
is decided by the service from the site file, and a refused press changes nothing. The
press is answered as soon as the (short) transaction is over; the messages showing the task
are re-rendered through the outbox.

A problem's reason: preset reasons as buttons, or free text asked for by a question
(bot/handlers/prompts.py): the presser's next message in the group is the reason, quoted or
not — a reply quoting the question reaches the bot even with privacy mode on, a plain message
when the bot may read the group. A photo (or file) is taken when its caption says what is
wrong; without words, the person is told to write it and the question stays open.
"""

from __future__ import annotations

import contextlib
import re
from functools import partial
from html import escape

from aiogram import Bot, F, Router
from aiogram.enums import ContentType
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Filter
from aiogram.types import CallbackQuery, Message, ReplyParameters
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.delivery.notices import Keyboard, NoticeDelivery
from bot.delivery.queue import queue
from bot.handlers.prompts import Outcome, PendingPrompt, PendingPrompts, ask, takes_answers
from bot.handlers.replies import answer_quietly, markup, refuse_button, text_needed
from bot.render.digest import two_a_row
from bot.render.escalations import meeting_alert_buttons, supervisor_buttons
from bot.render.readiness import blockers_text
from bot.render.task_words import mention, reason_text
from bot.render.text import Reader
from bot.services.dispatch import Outgoing, supervises
from bot.services.meeting_alerts import meeting_alert_role, meeting_alert_tasks
from bot.services.people import known_name, shown_name
from bot.services.strict import clean_text, parse_id
from bot.services.tasks import MAX_REASON, PRESET_REASONS, ActionResult, TaskActions
from bot.site import SiteConfig
from bot.telegram.callback_data import (
    EscalationData,
    MeetingAlertData,
    ReassignData,
    TaskData,
    TaskReasonData,
    family_filter,
)
from storage.database import Database

REASON_PROMPT = re.compile(r"#([0-9]{1,12})")
PROMPT_MARK = "✍️"
PROBLEM_REASON = "problem_reason"
"""The topic of the "what is wrong?" question (bot/handlers/prompts.py)."""
# What may come instead of a typed reason: taken when its caption says what is wrong.
MEDIA = frozenset(
    {
        ContentType.PHOTO,
        ContentType.DOCUMENT,
        ContentType.VIDEO,
        ContentType.ANIMATION,
        ContentType.AUDIO,
        ContentType.VOICE,
        ContentType.VIDEO_NOTE,
        ContentType.STICKER,
    }
)


def _answer_text(result: ActionResult) -> str:
    """The callback answer for a press that was not refused."""
    code = result.code
    if code == "done":
        if result.on_behalf:
            return _("✅ Recorded as done, on behalf of the team.")
        return _("✅ Recorded as done. Thank you!")
    if code == "already_done":
        return _("This task is already done.")
    if code == "closed":
        return _("This task is no longer open.")
    if code == "missing":
        return _("This task does not exist any more.")
    if code == "not_member":
        return _("That person is not in the team.")
    if code == "acknowledged":
        return _("👌 Acknowledged: no further escalation; the task stays open.")
    if code == "reassigned":
        return _("🔁 Reassigned; the team's group is told.")
    if code == "reported":
        return _("⚠️ Reported to the supervisor.")
    return _("You are not allowed to do this.")


async def _task_facts(db: Database, task_actions: TaskActions, task_id: int) -> tuple[str | None, bool]:
    async with db.transaction() as session:
        task = await task_actions.task(session, task_id)
        return (task.team_id, task.leader_only) if task else (None, False)


async def _refusal(
    db: Database,
    site: SiteConfig,
    i18n: I18n,
    task_actions: TaskActions,
    result: ActionResult,
    task_id: int,
    user_id: int,
) -> str:
    if result.code != "refused":
        return _answer_text(result)
    team_id, leader_only = await _task_facts(db, task_actions, task_id)
    team = site.team(team_id) if team_id else None
    if leader_only and team is not None and user_id in team.everyone:
        return _("Only the team leader (or the supervisor) can confirm this check.")
    if team is not None:
        return _("Only the team {team} (or the supervisor) can do this.").format(
            team=team.name.get(i18n.current_locale)
        )
    return _("You are not allowed to do this.")


async def _answer_refusal(
    callback: CallbackQuery,
    db: Database,
    site: SiteConfig,
    i18n: I18n,
    task_actions: TaskActions,
    result: ActionResult,
    task_id: int,
) -> None:
    """Answer the press with why it changed nothing (or with what it did)."""
    refusal = await _refusal(db, site, i18n, task_actions, result, task_id, callback.from_user.id)
    await answer_quietly(callback, refusal)


async def _run(db: Database, delivery: NoticeDelivery, action: object, *args: object) -> ActionResult:
    async with db.transaction() as session:
        result: ActionResult = await action(session, *args)  # type: ignore[operator]
        await queue(session, delivery, result.outgoing)  # its commit wakes the sender
    return result


def _reason_keyboard(task_id: int) -> Keyboard:
    labels = {
        "equipment": _("Equipment broken"),
        "locked": _("Room locked"),
        "supplies": _("Supplies missing"),
        "staff": _("Not enough staff"),
    }
    rows = two_a_row(
        [
            {"text": labels[key], "callback_data": TaskReasonData(task_id=task_id, reason=key).pack()}
            for key in PRESET_REASONS
        ]
    )
    rows.append(
        [{"text": _("✍️ Other (type it)"), "callback_data": TaskData(task_id=task_id, action="o").pack()}]
    )
    return rows


async def task_press(
    callback: CallbackQuery,
    callback_data: TaskData,
    db: Database,
    site: SiteConfig,
    i18n: I18n,
    delivery: NoticeDelivery,
    prompts: PendingPrompts,
    task_actions: TaskActions,
    read: Reader,
) -> None:
    task_id, action = callback_data.task_id, callback_data.action
    user = callback.from_user
    if action in ("d", "f"):
        # f: "confirm anyway" on a readiness card, over what it verifies that is not done
        confirm = partial(task_actions.confirm, anyway=action == "f")
        result = await _run(db, delivery, confirm, task_id, user.id)
        if result.code == "not_ready":
            await answer_quietly(callback, blockers_text(read, result.blockers), alert=True)
            return
        await _answer_refusal(callback, db, site, i18n, task_actions, result, task_id)
        return
    result = await _run(db, delivery, task_actions.may_report, task_id, user.id)
    if result.code != "allowed":
        await _answer_refusal(callback, db, site, i18n, task_actions, result, task_id)
        return
    if action == "p":
        await answer_quietly(callback, _("What is wrong? Choose a reason."))
        await _ask_reason(callback, task_id)
    else:
        await answer_quietly(callback, _("Type the reason as a reply to my question."))
        await _ask_free_text(callback, task_id, prompts)


async def reason_press(
    callback: CallbackQuery,
    callback_data: TaskReasonData,
    db: Database,
    site: SiteConfig,
    i18n: I18n,
    delivery: NoticeDelivery,
    task_actions: TaskActions,
    read: Reader,
) -> None:
    """One of the preset reasons, under the "what is wrong?" question."""
    task_id, reason, user = callback_data.task_id, callback_data.reason, callback.from_user
    if reason not in PRESET_REASONS:
        await answer_quietly(callback, _("This button is no longer valid."))
        return
    result = await _run(db, delivery, task_actions.report_problem, task_id, user.id, f"preset:{reason}")
    if result.code != "reported":
        await _answer_refusal(callback, db, site, i18n, task_actions, result, task_id)
        return
    await answer_quietly(callback, _answer_text(result))
    await _close_prompt(callback, task_id, reason_text(read, f"preset:{reason}"))


async def _ask_reason(callback: CallbackQuery, task_id: int) -> None:
    message = callback.message
    if not isinstance(message, Message) or callback.bot is None:
        return
    name = mention(callback.from_user.id, _escape_name(callback.from_user.first_name))
    text = _("⚠️ {name}, what is wrong with task #{number}?").format(name=name, number=task_id)
    try:
        await callback.bot.send_message(
            message.chat.id,
            text,
            reply_markup=markup(_reason_keyboard(task_id)),
            reply_parameters=ReplyParameters(message_id=message.message_id, allow_sending_without_reply=True),
        )
    except TelegramAPIError:
        await callback.bot.send_message(message.chat.id, text, reply_markup=markup(_reason_keyboard(task_id)))


async def _ask_free_text(callback: CallbackQuery, task_id: int, prompts: PendingPrompts) -> None:
    message = callback.message
    if not isinstance(message, Message) or callback.bot is None:
        return
    name = mention(callback.from_user.id, _escape_name(callback.from_user.first_name))
    await ask(
        callback.bot,
        prompts,
        chat_id=message.chat.id,
        user_id=callback.from_user.id,
        text=_("{mark} {name}, reply to this message with what is wrong with task #{number}.").format(
            mark=PROMPT_MARK, name=name, number=task_id
        ),
        topic=PROBLEM_REASON,
        subject={"task_id": task_id, "choices_id": message.message_id},
        placeholder=_("The problem …"),
    )


def _escape_name(name: str | None) -> str:
    """A presser's Telegram name, as the groups see it (cleaned as a stored name is)."""
    return escape(shown_name(name or "") or "…", quote=False)


async def plain_name(session: AsyncSession, site: SiteConfig, user_id: int) -> str:
    """A person's name for a button (buttons show plain text, never HTML)."""
    name = await known_name(session, site, user_id)
    return (name if name is not None else str(user_id))[:60]


async def _close_prompt(callback: CallbackQuery, task_id: int, reason: str) -> None:
    message = callback.message
    if not isinstance(message, Message):
        return
    name = _escape_name(callback.from_user.first_name)
    with contextlib.suppress(TelegramAPIError):
        await message.edit_text(
            _("⚠️ {name} reported a problem with task #{number}: {reason}").format(
                name=name, number=task_id, reason=reason
            ),
            reply_markup=None,
        )


class ReplyToReasonPrompt(Filter):
    """A reply quoting the bot's "what is wrong?" question (also after a restart, or once it is
    no longer the person's pending prompt)."""

    async def __call__(self, message: Message, bot: Bot) -> bool | dict[str, int]:
        replied = message.reply_to_message
        if replied is None or replied.from_user is None or replied.from_user.id != bot.id:
            return False
        text = replied.text or ""
        found = REASON_PROMPT.search(text)
        if not text.startswith(PROMPT_MARK) or found is None:
            return False
        task_id = parse_id(found.group(1))
        return False if task_id is None else {"prompt_task_id": task_id}


async def _record_reason(
    message: Message,
    task_id: int,
    db: Database,
    site: SiteConfig,
    i18n: I18n,
    delivery: NoticeDelivery,
    task_actions: TaskActions,
) -> bool:
    """Record the reason ``message`` gives: its text, or a photo's (or file's) caption. False
    when it gives none (a photo without caption, a sticker, a voice message): the person is
    told to write it, and the question stays open."""
    if message.from_user is None:
        return True
    words = message.text if message.text is not None else message.caption
    reason = clean_text(words or "", MAX_REASON)
    if not reason:
        await message.reply(
            text_needed()
            + "\n"
            + _(
                "Reply to my question with what is wrong with task #{number}; a photo is taken "
                "when its caption says what is wrong."
            ).format(number=task_id)
        )
        return False
    photo = message.photo[-1].file_id if message.photo else None
    result = await _run(
        db, delivery, task_actions.report_problem, task_id, message.from_user.id, reason, photo
    )
    if result.code == "reported":
        await message.reply(_("⚠️ Reported to the supervisor. Thank you."))
    else:
        await message.reply(
            await _refusal(db, site, i18n, task_actions, result, task_id, message.from_user.id)
        )
    return True


async def _drop_choices(message: Message, choices_id: object) -> None:
    """The reason is in: the preset-reason buttons it was chosen instead of go."""
    choices = parse_id(str(choices_id)) if choices_id is not None else None
    if message.bot is not None and choices is not None:
        with contextlib.suppress(TelegramAPIError):
            await message.bot.edit_message_reply_markup(
                chat_id=message.chat.id, message_id=choices, reply_markup=None
            )


@takes_answers(PROBLEM_REASON)
async def take_reason(
    message: Message,
    pending_prompt: PendingPrompt,
    db: Database,
    site: SiteConfig,
    i18n: I18n,
    delivery: NoticeDelivery,
    task_actions: TaskActions,
) -> Outcome:
    """The presser's next message after "Other": the reason, quoted or not."""
    task_id = parse_id(str(pending_prompt.subject.get("task_id", "")))
    if task_id is None:
        return Outcome.GONE
    if not await _record_reason(message, task_id, db, site, i18n, delivery, task_actions):
        return Outcome.WAITING  # still waiting for the reason
    await _drop_choices(message, pending_prompt.subject.get("choices_id"))
    return Outcome.ANSWERED


async def reason_replied(
    message: Message,
    prompt_task_id: int,
    db: Database,
    site: SiteConfig,
    i18n: I18n,
    delivery: NoticeDelivery,
    prompts: PendingPrompts,
    task_actions: TaskActions,
) -> None:
    if not await _record_reason(message, prompt_task_id, db, site, i18n, delivery, task_actions):
        return
    replied, user = message.reply_to_message, message.from_user
    if replied is None or user is None:
        return
    pending = await prompts.pending(message.chat.id, user.id)
    if pending is not None and pending.question_id == replied.message_id:  # answered, by quoting it
        await _drop_choices(message, pending.subject.get("choices_id"))
        await prompts.forget(message.chat.id, user.id, replied.message_id)


# ---------------------------------------------------------------------------- the supervisor's buttons


async def _supervisor_may(
    callback: CallbackQuery,
    db: Database,
    site: SiteConfig,
    task_actions: TaskActions,
    task_id: int,
    action: str,
) -> bool:
    """Whether the presser supervises; if not, the refused press is recorded and answered."""
    user = callback.from_user
    if supervises(site, user.id):
        return True
    async with db.transaction() as session:
        await task_actions.refuse_press(session, task_id, user.id, action)
    await answer_quietly(callback, _("Only the supervisor or the manager can do this."))
    return False


async def supervisor_press(
    callback: CallbackQuery,
    callback_data: EscalationData,
    db: Database,
    site: SiteConfig,
    delivery: NoticeDelivery,
    task_actions: TaskActions,
    read: Reader,
) -> None:
    task_id, action, user = callback_data.task_id, callback_data.action, callback.from_user
    if not await _supervisor_may(callback, db, site, task_actions, task_id, action):
        return
    if action == "a":
        result = await _run(db, delivery, task_actions.acknowledge, task_id, user.id)
    elif action == "d":
        result = await _run(db, delivery, task_actions.confirm, task_id, user.id)
    else:  # r: the team's people as buttons, b: back
        await _picker(callback, task_id, action == "r", db, site, task_actions, read)
        return
    await answer_quietly(callback, _answer_text(result))


async def reassign_press(
    callback: CallbackQuery,
    callback_data: ReassignData,
    db: Database,
    site: SiteConfig,
    delivery: NoticeDelivery,
    task_actions: TaskActions,
) -> None:
    """A person chosen in the reassign picker."""
    task_id, assignee = callback_data.task_id, callback_data.assignee
    if not await _supervisor_may(callback, db, site, task_actions, task_id, f"m:{assignee}"):
        return
    reassign = task_actions.reassign
    result = await _run(db, delivery, reassign, task_id, callback.from_user.id, assignee)
    await answer_quietly(callback, _answer_text(result))


async def _picker(
    callback: CallbackQuery,
    task_id: int,
    open_it: bool,
    db: Database,
    site: SiteConfig,
    task_actions: TaskActions,
    read: Reader,
) -> None:
    """Reassign: the team's people as buttons (or back to the usual buttons)."""
    message = callback.message
    keyboard: Keyboard | None
    async with db.transaction() as session:
        task = await task_actions.task(session, task_id)
        if task is None or task.status not in ("open", "problem"):
            await answer_quietly(callback, _("This task is no longer open."))
            return
        if open_it:
            team = site.team(task.team_id)
            people = [team.leader, *team.members] if team else []
            keyboard = [
                [
                    {
                        "text": await plain_name(session, site, person),
                        "callback_data": ReassignData(task_id=task_id, assignee=person).pack(),
                    }
                ]
                for person in people
            ]
            keyboard.append(
                [{"text": _("« Back"), "callback_data": EscalationData(task_id=task_id, action="b").pack()}]
            )
        else:
            # back to the buttons of the message pressed: a meeting's escalation has a row per task
            role = await meeting_alert_role(session, task.id, callback.from_user.id)
            if role is not None:
                tasks = await meeting_alert_tasks(session, callback.from_user.id, role, task.booking_id)
                keyboard = meeting_alert_buttons(read, task.booking_id, role, tasks)
            else:
                keyboard = supervisor_buttons(read, task)
    await answer_quietly(callback, _("Who should do it?") if open_it else None)
    if isinstance(message, Message):
        with contextlib.suppress(TelegramAPIError):
            await message.edit_reply_markup(reply_markup=markup(keyboard))


async def acknowledge_meeting(
    callback: CallbackQuery,
    callback_data: MeetingAlertData,
    db: Database,
    site: SiteConfig,
    delivery: NoticeDelivery,
    task_actions: TaskActions,
) -> None:
    """ "Acknowledge all" on a meeting's escalation: each of its open tasks, as one press each."""
    booking_id, role = callback_data.booking_id, callback_data.role
    user = callback.from_user
    if not supervises(site, user.id):
        await answer_quietly(callback, _("Only the supervisor or the manager can do this."))
        return
    acknowledged = 0
    outgoing: list[Outgoing] = []
    async with db.transaction() as session:
        for task in await meeting_alert_tasks(session, user.id, role, booking_id):
            if task.status not in ("open", "problem") or task.acknowledged_by_id is not None:
                continue
            result = await task_actions.acknowledge(session, task.id, user.id)
            if result.code == "acknowledged":
                acknowledged += 1
                outgoing += result.outgoing
        await queue(session, delivery, outgoing)
    if acknowledged:
        await answer_quietly(
            callback,
            _("👌 Acknowledged {count}: no further escalation; the tasks stay open.").format(
                count=acknowledged
            ),
        )
    else:
        await answer_quietly(callback, _("This task is no longer open."))


async def task_data_refused(callback: CallbackQuery) -> None:
    """A task's or an escalation's data that none of the handlers above unpacked."""
    await refuse_button(callback)


def register(router: Router) -> None:
    """Register this module's handlers on ``router``, in the order updates meet them."""
    router.callback_query.register(task_press, TaskData.filter())
    router.callback_query.register(reason_press, TaskReasonData.filter())
    router.message.register(
        reason_replied, F.text | F.content_type.in_(MEDIA), ~F.text.startswith("/"), ReplyToReasonPrompt()
    )
    router.callback_query.register(supervisor_press, EscalationData.filter())
    router.callback_query.register(reassign_press, ReassignData.filter())
    router.callback_query.register(acknowledge_meeting, MeetingAlertData.filter())
    router.callback_query.register(
        task_data_refused,
        family_filter(TaskData, TaskReasonData, EscalationData, ReassignData, MeetingAlertData),
    )


def build_router() -> Router:
    """A router of its own for each App (aiogram gives a router one parent)."""
    router = Router(name=__name__)
    register(router)
    return router
