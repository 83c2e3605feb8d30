"""What a clock job works with: built once by the composition root (bot/app.py).

A job takes this small context rather than the process's workers: it opens a transaction,
calls a service it finds here and delivers the notices, and knows nothing of the loops.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.delivery.notices import NoticeDelivery, Translations
from bot.services.aftercare import AftercareService
from bot.services.booking import BookingService
from bot.services.clock import Clock
from bot.services.digest import DigestService
from bot.services.reports import ReportService
from bot.services.statements import StatementService
from bot.settings import Settings
from bot.site import SiteConfig
from storage.database import Database


@dataclass(frozen=True)
class JobContext:
    settings: Settings
    site: SiteConfig
    clock: Clock
    db: Database
    delivery: NoticeDelivery
    i18n: Translations
    aftercare: AftercareService
    booking: BookingService
    digest: DigestService
    reports: ReportService
    statements: StatementService

    @classmethod
    def build(
        cls,
        settings: Settings,
        site: SiteConfig,
        clock: Clock,
        db: Database,
        delivery: NoticeDelivery,
        i18n: Translations,
        booking: BookingService,
    ) -> JobContext:
        return cls(
            settings,
            site,
            clock,
            db,
            delivery,
            i18n,
            AftercareService(site, clock),
            booking,
            DigestService(site, clock),
            ReportService(site, clock),
            StatementService(site, clock),
        )
