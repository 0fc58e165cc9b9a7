"""Every table, imported in one place so the metadata is complete (Alembic, create_all in tests)."""

from storage.api_keys import ApiKey
from storage.base import Base
from storage.brands import Brand
from storage.idempotency import IdempotencyRecord
from storage.incidents import DetectorRun, Incident, IncidentEvent
from storage.leases import Worker
from storage.mentions import Bucket, BucketAuthor, Mention, MentionBrand
from storage.muting import CampaignWindow, RunbookOverride, Silence
from storage.notifications import ChannelState, Notification, NotificationRoute, WebhookSubscription
from storage.sources import Source

__all__ = [
    "ApiKey",
    "Base",
    "Brand",
    "Bucket",
    "BucketAuthor",
    "CampaignWindow",
    "ChannelState",
    "DetectorRun",
    "IdempotencyRecord",
    "Incident",
    "IncidentEvent",
    "Mention",
    "MentionBrand",
    "Notification",
    "NotificationRoute",
    "RunbookOverride",
    "Silence",
    "Source",
    "WebhookSubscription",
    "Worker",
]
