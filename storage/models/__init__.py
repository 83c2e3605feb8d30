"""Tables, one module per aggregate, all on one ``Base`` (one metadata, one naming convention).

Importing this package registers every table on ``Base.metadata`` (migrations and tests rely
on it), and ``from storage.models import X`` reaches every model. Times are stored in UTC;
the site's zone is applied only when shown.
"""

from storage.models.aftercare import (
    ClockRun,
    ConsumptionRecord,
    FeeConfirmation,
    Feedback,
    FollowUp,
    LostItem,
    Prompt,
)
from storage.models.base import NAMING_CONVENTION, Base, UTCDateTime
from storage.models.bookings import Booking, BookingRevision, BookingSeries, RoomLock, booking_span
from storage.models.displays import DisplayToken
from storage.models.membership import Invite, InviteFailure, MembershipRequest
from storage.models.outbox import OUTBOX_OPEN, OUTBOX_PENDING_EDIT, OutboxMessage
from storage.models.people import ChatBinding, User
from storage.models.statements import Statement
from storage.models.tasks import Task, TaskEvent, TaskMessage
from storage.models.updates import ProcessedUpdate

__all__ = [
    "NAMING_CONVENTION",
    "OUTBOX_OPEN",
    "OUTBOX_PENDING_EDIT",
    "Base",
    "Booking",
    "BookingRevision",
    "BookingSeries",
    "ChatBinding",
    "ClockRun",
    "ConsumptionRecord",
    "DisplayToken",
    "FeeConfirmation",
    "Feedback",
    "FollowUp",
    "Invite",
    "InviteFailure",
    "LostItem",
    "MembershipRequest",
    "OutboxMessage",
    "ProcessedUpdate",
    "Prompt",
    "RoomLock",
    "Statement",
    "Task",
    "TaskEvent",
    "TaskMessage",
    "UTCDateTime",
    "User",
    "booking_span",
]
