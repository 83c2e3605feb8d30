"""Joining a department on a real database: invites (one use, expiry, revoking), moves that
wait for the department's admin, the site file's own places, and the limit on guessing."""

from __future__ import annotations

import logging
import re
import tomllib
from datetime import timedelta
from typing import Any

import pytest

from bot.services.clock import ManualClock
from bot.services.membership import (
    FAILURE_WINDOW,
    MAX_FAILURES,
    JoinStatus,
    MembershipError,
    MembershipService,
    code_digest,
)
from bot.services.people import PeopleService, PersonContext
from bot.site import SiteConfig, parse_site
from storage.database import Database
from storage.repositories.membership import InviteRepository
from storage.repositories.users import UserRepository
from tests.conftest import EXAMPLE_SITE
from tests.support.people import AV_LEADER

WANG, ALICE = 1001, 1002  # finance (its admin), office (its admin)
APPROVER, SITE_ADMIN = 2101, 2301  # roles only; manager and site admin
NEWCOMER, OTHER, THIRD = 9001, 9002, 9003  # people the site file does not know


def example_data() -> dict[str, Any]:
    return tomllib.loads(EXAMPLE_SITE.read_text(encoding="utf-8"))


def service(site: SiteConfig, clock: ManualClock) -> MembershipService:
    return MembershipService(site, clock)


async def issue(db: Database, members: MembershipService, department: str, by: int = SITE_ADMIN) -> str:
    async with db.transaction() as session:
        return (await members.issue(session, by, department)).code


async def redeem(db: Database, members: MembershipService, user_id: int, code: str) -> JoinStatus:
    async with db.transaction() as session:
        return (await members.redeem(session, user_id, code)).status


async def who(db: Database, site: SiteConfig, clock: ManualClock, user_id: int) -> PersonContext:
    async with db.transaction() as session:
        return await PeopleService(site).identify(session, user_id, f"user {user_id}", None, clock.now())


async def set_database_department(db: Database, clock: ManualClock, user_id: int, department: str) -> None:
    """As an old version's standing invite code left it."""
    async with db.transaction() as session:
        user = await UserRepository(session).upsert(user_id, f"user {user_id}", None, clock.now())
        user.department_id = department


# ---- issuing --------------------------------------------------------------------------------


async def test_admins_issue_unguessable_invites_into_their_own_departments(
    site: SiteConfig, clock: ManualClock, db: Database
) -> None:
    members = service(site, clock)
    async with db.transaction() as session:
        first = await members.issue(session, WANG, "finance")
        second = await members.issue(session, SITE_ADMIN, "planning")
        stored = await InviteRepository(session).get(first.id)

    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", first.code) and first.code != second.code
    assert first.expires_at == clock.now() + timedelta(days=7)
    assert stored is not None and stored.code_digest == code_digest(first.code)
    assert first.code not in (stored.code_digest, stored.code_hint) and stored.code_hint == first.code[:4]
    for user, department in ((WANG, "office"), (ALICE, "finance"), (APPROVER, "finance"), (AV_LEADER, "av")):
        with pytest.raises(MembershipError) as refused:
            async with db.transaction() as session:
                await members.issue(session, user, department)
        assert refused.value.code == "not_allowed", (user, department)
    with pytest.raises(MembershipError) as unknown:
        async with db.transaction() as session:
            await members.issue(session, SITE_ADMIN, "sales")
    assert unknown.value.code == "unknown_department"


# ---- one use, expiry, revoking --------------------------------------------------------------


async def test_a_new_person_joins_once_and_the_invite_is_then_spent(
    site: SiteConfig, clock: ManualClock, db: Database
) -> None:
    members = service(site, clock)
    code = await issue(db, members, "office", by=ALICE)

    assert await redeem(db, members, NEWCOMER, code) == JoinStatus.joined
    assert (await who(db, site, clock, NEWCOMER)).department_id == "office"
    assert await redeem(db, members, OTHER, code) == JoinStatus.used
    assert (await who(db, site, clock, OTHER)).department_id is None
    # the person who used it, opening it again, is told where they are
    assert await redeem(db, members, NEWCOMER, code) == JoinStatus.already_member


async def test_an_invite_expires_after_the_site_setting(
    site: SiteConfig, clock: ManualClock, db: Database
) -> None:
    members = service(site, clock)
    early, late = await issue(db, members, "finance"), await issue(db, members, "finance")

    clock.advance(timedelta(days=7) - timedelta(minutes=1))
    assert await redeem(db, members, NEWCOMER, early) == JoinStatus.joined
    clock.advance(timedelta(minutes=1))
    assert await redeem(db, members, OTHER, late) == JoinStatus.expired
    assert (await who(db, site, clock, OTHER)).department_id is None

    data = example_data()
    data["site"]["invite_valid_days"] = 0.5
    short = service(parse_site(data), clock)
    code = await issue(db, short, "finance")
    clock.advance(timedelta(hours=12))
    assert await redeem(db, short, THIRD, code) == JoinStatus.expired


async def test_a_revoked_invite_admits_nobody_and_only_an_admin_revokes(
    site: SiteConfig, clock: ManualClock, db: Database
) -> None:
    members = service(site, clock)
    kept = await issue(db, members, "finance", by=WANG)
    async with db.transaction() as session:
        doomed = await members.issue(session, WANG, "finance")
        office = await members.issue(session, ALICE, "office")
        listed = await members.live_invites(session, WANG)
    assert [invite.id for invite in listed] == [listed[0].id, doomed.id]
    assert office.id not in [invite.id for invite in listed]

    for user in (ALICE, APPROVER, NEWCOMER):
        with pytest.raises(MembershipError) as refused:
            async with db.transaction() as session:
                await members.revoke(session, user, doomed.id)
        assert refused.value.code == "not_allowed"
    async with db.transaction() as session:
        await members.revoke(session, WANG, doomed.id)
    with pytest.raises(MembershipError) as again:
        async with db.transaction() as session:
            await members.revoke(session, SITE_ADMIN, doomed.id)
    assert again.value.code == "not_live"

    assert await redeem(db, members, NEWCOMER, doomed.code) == JoinStatus.invalid
    assert (await who(db, site, clock, NEWCOMER)).department_id is None
    async with db.transaction() as session:
        assert [i.id for i in await members.live_invites(session, SITE_ADMIN)] == [listed[0].id, office.id]
    assert await redeem(db, members, OTHER, kept) == JoinStatus.joined


# ---- the site file's own places win ---------------------------------------------------------


async def test_an_invite_never_moves_a_person_the_site_file_places(
    site: SiteConfig, clock: ManualClock, db: Database
) -> None:
    members = service(site, clock)
    office = await issue(db, members, "office", by=ALICE)
    finance = await issue(db, members, "finance", by=WANG)

    assert await redeem(db, members, WANG, office) == JoinStatus.placed_by_site
    assert (await who(db, site, clock, WANG)).department_id == "finance"
    assert await redeem(db, members, AV_LEADER, finance) == JoinStatus.placed_by_site
    assert (await who(db, site, clock, AV_LEADER)).department_id is None
    assert await redeem(db, members, WANG, finance) == JoinStatus.already_member
    # none of this spent the invites
    assert await redeem(db, members, NEWCOMER, office) == JoinStatus.joined
    assert await redeem(db, members, OTHER, finance) == JoinStatus.joined


async def test_a_department_an_old_invite_gave_does_not_count_for_people_the_site_places(
    site: SiteConfig, clock: ManualClock, db: Database
) -> None:
    await set_database_department(db, clock, WANG, "office")
    await set_database_department(db, clock, AV_LEADER, "finance")
    await set_database_department(db, clock, NEWCOMER, "planning")

    assert (await who(db, site, clock, WANG)).department_id == "finance"
    av = await who(db, site, clock, AV_LEADER)
    assert av.department_id is None and not av.can_book
    assert (await who(db, site, clock, NEWCOMER)).department_id == "planning"


# ---- moves wait for the department's admin --------------------------------------------------


async def test_a_move_waits_for_the_departments_admin(
    site: SiteConfig, clock: ManualClock, db: Database
) -> None:
    members = service(site, clock)
    assert await redeem(db, members, NEWCOMER, await issue(db, members, "office")) == JoinStatus.joined
    finance = await issue(db, members, "finance")

    async with db.transaction() as session:
        result = await members.redeem(session, NEWCOMER, finance)
    assert result.status == JoinStatus.awaiting_approval and result.request_id is not None
    assert [(n.kind, n.chat_id) for n in result.notices] == [("membership_request", WANG)]
    assert (await who(db, site, clock, NEWCOMER)).department_id == "office"
    assert await redeem(db, members, NEWCOMER, finance) == JoinStatus.already_waiting
    assert await redeem(db, members, OTHER, finance) == JoinStatus.used  # spent on the request

    for user in (ALICE, APPROVER, NEWCOMER, AV_LEADER):
        with pytest.raises(MembershipError) as refused:
            async with db.transaction() as session:
                await members.decide(session, user, result.request_id, approve=True)
        assert refused.value.code == "not_allowed", user
    assert (await who(db, site, clock, NEWCOMER)).department_id == "office"

    async with db.transaction() as session:
        decision = await members.decide(session, WANG, result.request_id, approve=True)
    assert decision.request.status == "approved" and decision.request.decided_by_id == WANG
    assert [(n.kind, n.chat_id) for n in decision.notices] == [("membership_decided", NEWCOMER)]
    assert (await who(db, site, clock, NEWCOMER)).department_id == "finance"
    with pytest.raises(MembershipError) as twice:
        async with db.transaction() as session:
            await members.decide(session, SITE_ADMIN, result.request_id, approve=False)
    assert twice.value.code == "already_decided"
    assert (await who(db, site, clock, NEWCOMER)).department_id == "finance"


async def test_a_refused_move_changes_nothing_and_roles_alone_also_wait(
    site: SiteConfig, clock: ManualClock, db: Database
) -> None:
    members = service(site, clock)
    async with db.transaction() as session:
        result = await members.redeem(session, APPROVER, await issue(db, members, "planning"))
    # planning has no admins of its own: the site admins are asked
    assert result.status == JoinStatus.awaiting_approval
    assert [(n.kind, n.chat_id) for n in result.notices] == [("membership_request", SITE_ADMIN)]
    assert result.request_id is not None

    async with db.transaction() as session:
        decision = await members.decide(session, SITE_ADMIN, result.request_id, approve=False)
    assert decision.request.status == "refused"
    assert (await who(db, site, clock, APPROVER)).department_id is None


# ---- guessing -------------------------------------------------------------------------------


async def test_failed_attempts_are_limited_per_person_and_logged_without_the_code(
    site: SiteConfig, clock: ManualClock, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    members = service(site, clock)
    good = await issue(db, members, "office")
    guesses = [f"guess{n}SECRETTAIL" for n in range(MAX_FAILURES)]
    caplog.set_level(logging.WARNING, logger="bot.services.membership")

    for guess in guesses:
        assert await redeem(db, members, NEWCOMER, guess) == JoinStatus.invalid
    assert await redeem(db, members, NEWCOMER, good) == JoinStatus.rate_limited
    assert (await who(db, site, clock, NEWCOMER)).department_id is None

    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == MAX_FAILURES + 1
    assert not any("SECRETTAIL" in line or good[4:] in line for line in warnings)
    # the refused attempt did not look at the code: the invite is still good for someone else
    assert await redeem(db, members, OTHER, good) == JoinStatus.joined

    clock.advance(FAILURE_WINDOW)
    assert await redeem(db, members, NEWCOMER, await issue(db, members, "office")) == JoinStatus.joined


async def test_every_kind_of_bad_code_counts_as_a_failure(
    site: SiteConfig, clock: ManualClock, db: Database
) -> None:
    data = example_data()
    data["departments"][0]["invite_code"] = "join-finance"
    members = service(parse_site(data), clock)
    used = await issue(db, members, "office")
    assert await redeem(db, members, OTHER, used) == JoinStatus.joined
    expired = await issue(db, members, "office")
    clock.advance(timedelta(days=8))

    assert await redeem(db, members, WANG, "join-finance") == JoinStatus.already_member  # not a failure
    assert await redeem(db, members, NEWCOMER, "join-finance") == JoinStatus.retired
    assert await redeem(db, members, NEWCOMER, "join office!") == JoinStatus.invalid
    assert await redeem(db, members, NEWCOMER, used) == JoinStatus.used
    assert await redeem(db, members, NEWCOMER, expired) == JoinStatus.expired
    assert await redeem(db, members, NEWCOMER, "x" * 65) == JoinStatus.invalid
    assert await redeem(db, members, NEWCOMER, await issue(db, members, "office")) == JoinStatus.rate_limited
    for _ in range(MAX_FAILURES + 1):
        assert await redeem(db, members, WANG, "join-finance") == JoinStatus.already_member
