"""SQLAlchemy models, one module per aggregate. Importing this package registers them all."""
from referral_service.models.audit import AuditEvent
from referral_service.models.consent import (
    Consent,
    ConsentRecorder,
    ConsentScope,
    ConsentWithdrawal,
    WithdrawalReason,
    WithdrawnBy,
)
from referral_service.models.documents import ReferralDocument, ScanStatus
from referral_service.models.drafts import ReferralDraft
from referral_service.models.enums import (
    CASELOAD_STATUSES,
    CASELOAD_STATUSES_LIST,
    KEYED_IN_SOURCES,
    OPEN_STATUSES,
    OPEN_STATUSES_LIST,
    OPEN_STATUSES_SQL,
    ActorType,
    ContactAttemptResult,
    ContactChannel,
    DuplicateDecision,
    DuplicateMatch,
    HousingSituation,
    OrganisationType,
    Outcome,
    ReferralSource,
    ReferralStatus,
    Role,
)
from referral_service.models.events import DomainEvent, EventExpansion, EventType
from referral_service.models.exchange import IdempotencyKey, ReferralMessage, ReferralRead
from referral_service.models.messaging import (
    Audience,
    Channel,
    InboundSms,
    MessageStatus,
    OutboxMessage,
    Reminder,
    SmsOptOut,
)
from referral_service.models.oauth import OAuthClient, OAuthToken, UsedClientAssertion
from referral_service.models.org import Authority, Organisation
from referral_service.models.people import (
    AuthoritySignInPolicy,
    OfficerAbsence,
    PasswordResetToken,
    User,
)
from referral_service.models.referral import (
    ContactAttempt,
    ExternalTransfer,
    PossibleDuplicate,
    Referral,
)
from referral_service.models.reporting import WorkingHour
from referral_service.models.sharing import AccessAction, CaseAccessRecord, CaseShare, PanelAction
from referral_service.models.webhooks import (
    DeliveryStatus,
    SubscriptionStatus,
    WebhookDelivery,
    WebhookSubscription,
)

__all__ = [
    "CASELOAD_STATUSES",
    "CASELOAD_STATUSES_LIST",
    "KEYED_IN_SOURCES",
    "OPEN_STATUSES",
    "OPEN_STATUSES_LIST",
    "OPEN_STATUSES_SQL",
    "AccessAction",
    "ActorType",
    "Audience",
    "AuditEvent",
    "Authority",
    "AuthoritySignInPolicy",
    "CaseAccessRecord",
    "CaseShare",
    "Channel",
    "Consent",
    "ConsentRecorder",
    "ConsentScope",
    "ConsentWithdrawal",
    "ContactAttempt",
    "ContactAttemptResult",
    "ContactChannel",
    "DeliveryStatus",
    "DomainEvent",
    "DuplicateDecision",
    "DuplicateMatch",
    "EventExpansion",
    "EventType",
    "ExternalTransfer",
    "HousingSituation",
    "IdempotencyKey",
    "InboundSms",
    "MessageStatus",
    "OAuthClient",
    "OAuthToken",
    "OfficerAbsence",
    "Organisation",
    "OrganisationType",
    "OutboxMessage",
    "Outcome",
    "PanelAction",
    "PasswordResetToken",
    "PossibleDuplicate",
    "Referral",
    "ReferralDocument",
    "ReferralDraft",
    "ReferralMessage",
    "ReferralRead",
    "ReferralSource",
    "ReferralStatus",
    "Reminder",
    "Role",
    "ScanStatus",
    "SmsOptOut",
    "SubscriptionStatus",
    "UsedClientAssertion",
    "User",
    "WebhookDelivery",
    "WebhookSubscription",
    "WithdrawalReason",
    "WithdrawnBy",
    "WorkingHour",
]
