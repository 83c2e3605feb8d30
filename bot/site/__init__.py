"""The site file: rooms, teams, people, services, task templates and the escalation chain.

Every rule of the product reads its numbers from here, so a site edits its TOML and the
bot follows. The package: ``basics`` (languages, roles, departments, rooms, services, teams,
people), ``tasks`` (task templates, the escalation chain), ``schedule`` (digest, weekly
briefing, after-care, retention, approvals), ``config`` (the whole file, :class:`SiteConfig`,
and its look-ups), ``problems`` (validation problems with their TOML paths, cross-references)
and ``loading`` (TOML → :class:`SiteConfig`).
"""

from __future__ import annotations

from bot.site.basics import (
    INVOLVED_TEAMS,
    LANGUAGES,
    Department,
    DetailKind,
    Layout,
    LocalText,
    Person,
    Role,
    Room,
    RoomClass,
    ServiceDetail,
    ServiceItem,
    SiteInfo,
    Team,
    Vocabulary,
)
from bot.site.checkin import CheckIn
from bot.site.config import SiteConfig
from bot.site.loading import SiteConfigError, load_site, parse_site
from bot.site.problems import PLACEHOLDERS
from bot.site.schedule import (
    APPROVAL_ESCALATION_ROLES,
    Aftercare,
    Approvals,
    Consumable,
    Digest,
    Retention,
    Statements,
    Weekly,
)
from bot.site.series import Series
from bot.site.tasks import Anchor, AppliesTo, ChainStep, Escalation, ExpiryFrom, TaskKind, TaskTemplate

__all__ = [
    "APPROVAL_ESCALATION_ROLES",
    "INVOLVED_TEAMS",
    "LANGUAGES",
    "PLACEHOLDERS",
    "Aftercare",
    "Anchor",
    "AppliesTo",
    "Approvals",
    "ChainStep",
    "CheckIn",
    "Consumable",
    "Department",
    "DetailKind",
    "Digest",
    "Escalation",
    "ExpiryFrom",
    "Layout",
    "LocalText",
    "Person",
    "Retention",
    "Role",
    "Room",
    "RoomClass",
    "Series",
    "ServiceDetail",
    "ServiceItem",
    "SiteConfig",
    "SiteConfigError",
    "SiteInfo",
    "Statements",
    "TaskKind",
    "TaskTemplate",
    "Team",
    "Vocabulary",
    "Weekly",
    "load_site",
    "parse_site",
]
