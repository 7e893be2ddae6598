"""The model layer: columns and invariants, no business logic."""

from webapp.models.activation import ActivationCode
from webapp.models.artisan import Artisan, CnssStatus, Gender, LegalStatus, artisan_programme
from webapp.models.audit import AuditChainHead, AuditCheckpoint, AuditEvent
from webapp.models.base import Base, utcnow
from webapp.models.card import (
    Card,
    CardStatus,
    RevocationReason,
    SigningKey,
    SigningKeyState,
    StatusListState,
)
from webapp.models.card_check import AnonymousCheckCount, CardCheck, CheckKind
from webapp.models.card_request import CardRequest, RequestKind, RequestState
from webapp.models.device import CardDevice
from webapp.models.form_once import FormSubmission
from webapp.models.job import ACTIVE_STATES, FINISHED_STATES, Job, JobState
from webapp.models.offer import (
    EligibilityListState,
    IdempotencyRecord,
    Offer,
    OfferState,
    OfferWithdrawal,
    QuotaPeriod,
    QuotaUsage,
    Redemption,
)
from webapp.models.partner import ApiKey, Organisation, PartnerKind
from webapp.models.photo import ArtisanPhoto
from webapp.models.print_batch import PrintBatch, PrintBatchCard, PrintBatchState
from webapp.models.reference import Region, Sector, SupportProgramme, Trade
from webapp.models.register import ImportFileKind, ImportRun, ImportStatus, RegisterState, RnaCounter
from webapp.models.user import PARTNER_ROLES, Role, User

__all__ = [
    "ACTIVE_STATES",
    "FINISHED_STATES",
    "PARTNER_ROLES",
    "ActivationCode",
    "AnonymousCheckCount",
    "ApiKey",
    "Artisan",
    "ArtisanPhoto",
    "AuditChainHead",
    "AuditCheckpoint",
    "AuditEvent",
    "Base",
    "Card",
    "CardCheck",
    "CardDevice",
    "CardRequest",
    "CardStatus",
    "CheckKind",
    "CnssStatus",
    "EligibilityListState",
    "FormSubmission",
    "Gender",
    "IdempotencyRecord",
    "ImportFileKind",
    "ImportRun",
    "ImportStatus",
    "Job",
    "JobState",
    "LegalStatus",
    "Offer",
    "OfferState",
    "OfferWithdrawal",
    "Organisation",
    "PartnerKind",
    "PrintBatch",
    "PrintBatchCard",
    "PrintBatchState",
    "QuotaPeriod",
    "QuotaUsage",
    "Redemption",
    "Region",
    "RegisterState",
    "RequestKind",
    "RequestState",
    "RevocationReason",
    "RnaCounter",
    "Role",
    "Sector",
    "SigningKey",
    "SigningKeyState",
    "StatusListState",
    "SupportProgramme",
    "Trade",
    "User",
    "artisan_programme",
    "utcnow",
]
