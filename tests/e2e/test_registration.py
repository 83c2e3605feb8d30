"""Joining a department through the emulator: invites issued by admins (one use, expiry,
revoking), moves that wait for the department's admin, and the attacks the old standing
invite codes allowed."""

from __future__ import annotations

from datetime import timedelta

from tests.e2e.booking_steps import answer_of, book_directly
from tests.e2e.invite_steps import invite_code, issue_invite, join_department
from tests.support.harness import Harness
from tests.support.people import ALICE, APPROVER, AV_LEADER, SITE_ADMIN, STRANGER, WANG

NEWCOMER = 9002
JSON = dict[str, object]


def buttons(message: JSON) -> list[dict[str, str]]:
    markup = message.get("reply_markup") or {}
    assert isinstance(markup, dict)
    return [button for row in markup.get("inline_keyboard", []) for button in row]


async def my_text(h: Harness, user_id: int) -> str:
    """What /my shows the person, buttons included."""
    reply = await h.ask(user_id, "/my", lambda m: bool(m["text"]))
    return str(reply["text"]) + repr(reply.get("reply_markup"))


async def test_unknown_user_is_told_how_to_join(harness: Harness) -> None:
    await harness.emu.create_user(STRANGER, "Stranger", language_code="en")
    reply = await harness.ask(STRANGER, "/start", "invite")
    assert "invite link" in reply["text"]


async def test_an_admins_invite_admits_one_new_person_once(harness: Harness) -> None:
    h = harness
    await h.emu.create_user(STRANGER, "Stranger", language_code="en")
    await h.emu.create_user(NEWCOMER, "Newcomer", language_code="en")
    # Alice administers only the General Office, so /invite needs no department
    issued = await h.ask(ALICE, "/invite", "?start=")
    assert "General Office" in issued["text"] and "Tue 8 Dec 2026 09:00" in issued["text"]
    assert "https://t.me/huiwu_bot?start=" in issued["text"]
    code = invite_code(issued)

    joined = await h.ask(STRANGER, f"/start {code}", "You have joined")
    assert "General Office" in joined["text"]
    await h.ask(STRANGER, "/start", "/my")
    second = await h.ask(NEWCOMER, f"/start {code}", "already been used")
    assert "administrator" in second["text"]
    await h.ask(NEWCOMER, "/my", "invite link")  # still unregistered


async def test_an_expired_invite_is_refused(harness: Harness) -> None:
    h = harness
    await h.emu.create_user(STRANGER, "Stranger", language_code="en")
    code = await issue_invite(h, "finance")
    h.clock.advance(timedelta(days=7))

    await h.ask(STRANGER, f"/start {code}", "has expired")
    await h.ask(STRANGER, "/book", "invite link")


async def test_a_revoked_invite_admits_nobody(harness: Harness) -> None:
    h = harness
    await h.emu.create_user(STRANGER, "Stranger", language_code="en")
    doomed = invite_code(await h.ask(ALICE, "/invite office", "?start="))
    kept = invite_code(await h.ask(ALICE, "/invite 综合办", "?start="))
    await issue_invite(h, "finance", admin=WANG)

    listed = await h.ask(ALICE, "/invites", "Live invites")
    assert doomed[:4] in listed["text"] and kept[:4] in listed["text"]
    assert "Finance" not in listed["text"]  # Wang's invite is not Alice's business
    await h.click(ALICE, f"Revoke {doomed[:4]}", lambda m: doomed[:4] not in m["text"])

    await h.ask(STRANGER, f"/start {doomed}", "not known")
    await h.ask(STRANGER, f"/start {kept}", "You have joined")


async def test_a_finance_person_is_not_moved_into_the_office(harness: Harness) -> None:
    h = harness
    office = await book_directly(h, start=h.at(2, 10), title="OFFICE-ONLY sync")
    await h.settle()

    await h.ask(WANG, "/start join-office", "邀请")  # the old standing code
    code = await issue_invite(h, "office", admin=ALICE)
    await h.ask(WANG, f"/start {code}", "您的部门由系统配置指定")

    shown = await my_text(h, WANG)
    assert "OFFICE-ONLY" not in shown and f"#{office.id}" not in shown
    # the invite was not spent on him
    await h.emu.create_user(STRANGER, "Stranger", language_code="en")
    await h.ask(STRANGER, f"/start {code}", "You have joined")


async def test_staff_and_the_approver_do_not_join_finance(harness: Harness) -> None:
    h = harness
    await book_directly(
        h, start=h.at(2, 10), requester=WANG, department="finance", title="MERGER-TALKS confidential"
    )
    await h.settle()

    for person in (AV_LEADER, APPROVER):
        await h.ask(person, "/start join-finance", "邀请")
    await h.ask(AV_LEADER, f"/start {await issue_invite(h, 'finance')}", "您的部门由系统配置指定")
    await h.ask(APPROVER, f"/start {await issue_invite(h, 'finance')}", "等待该部门管理员审批")
    await h.settle()

    for person in (AV_LEADER, APPROVER):
        assert "MERGER-TALKS" not in await my_text(h, person)
        await h.ask(person, "/book", lambda m: "MERGER-TALKS" not in m["text"])
    request = await h.emu.wait_for_message(WANG, "申请加入", since=0)
    assert "孙建国" in request["text"]


async def test_guessing_is_cut_off_after_five_failures(harness: Harness) -> None:
    h = harness
    await h.emu.create_user(STRANGER, "Mallory", language_code="en")
    for guess in ("join-office", "join-finance", "join-planning", "office", "finance"):
        await h.ask(STRANGER, f"/start {guess}", lambda m: "You have joined" not in m["text"])
    good = await issue_invite(h, "office")

    refused = await h.ask(STRANGER, f"/start {good}", "Too many")
    assert "hour" in refused["text"]
    await h.ask(STRANGER, "/my", "invite link")  # not registered
    # the sixth attempt was refused unread: the invite still admits someone else
    await h.emu.create_user(NEWCOMER, "Newcomer", language_code="en")
    await h.ask(NEWCOMER, f"/start {good}", "You have joined")


async def test_a_move_is_decided_by_the_departments_admin_only(harness: Harness) -> None:
    h = harness
    budget = await book_directly(
        h, start=h.at(2, 10), requester=WANG, department="finance", title="FINANCE-BUDGET review"
    )
    await h.emu.create_user(NEWCOMER, "Newcomer", language_code="en")
    await join_department(h, NEWCOMER, "office")
    code = invite_code(await h.ask(WANG, "/invite", "?start="))

    waiting = await h.ask(NEWCOMER, f"/start {code}", "waits for its administrator")
    assert "Finance Department" in waiting["text"]
    await h.settle()
    request = await h.emu.wait_for_message(WANG, "申请加入", since=0)
    assert "Newcomer" in request["text"] and "办公室" in request["text"]
    assert "FINANCE-BUDGET" not in await my_text(h, NEWCOMER)

    # Alice (the office's admin) forges Wang's Approve: nothing changes, she is told why
    approve = next(b["callback_data"] for b in buttons(request) if "批准" in b["text"])
    anchor = await h.ask(ALICE, "/help", "What I can do")
    press = await h.emu.click_button(ALICE, ALICE, anchor["message_id"], approve, forge=True)
    answer = await answer_of(h, press)
    assert "administrator" in answer["text"] and answer["show_alert"]
    await h.settle()
    assert "FINANCE-BUDGET" not in await my_text(h, NEWCOMER)

    decided = await h.click(WANG, "批准", "已由王敏批准")
    assert buttons(decided) == []
    await h.settle()
    # notices go out in the language the person chose or the site file gives, else the site's
    await h.emu.wait_for_message(NEWCOMER, "您的申请已获批准：您现在属于财务处", since=0)
    shown = await my_text(h, NEWCOMER)
    assert f"#{budget.id}" in shown


async def test_a_refused_move_changes_nothing(harness: Harness) -> None:
    h = harness
    await h.emu.create_user(NEWCOMER, "Newcomer", language_code="en")
    await join_department(h, NEWCOMER, "finance")
    code = await issue_invite(h, "planning")  # planning has no admin: the site admin decides

    await h.ask(NEWCOMER, f"/start {code}", "waits for its administrator")
    await h.settle()
    await h.emu.wait_for_message(SITE_ADMIN, "申请加入", since=0)
    await h.click(SITE_ADMIN, "拒绝", "已由周伟拒绝")
    await h.settle()
    await h.emu.wait_for_message(NEWCOMER, "未获批准", since=0)
    await h.ask(NEWCOMER, "/start", "Your department: Finance Department")
