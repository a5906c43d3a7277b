"""The closed vocabularies of the service (API.md), as enums stored by value."""
from __future__ import annotations

from enum import StrEnum

from sqlalchemy import ColumnClause, literal_column


class OrganisationType(StrEnum):
    PRISON = "prison"
    YOUTH_OFFENDER_INSTITUTION = "youth_offender_institution"
    SECURE_TRAINING_CENTRE = "secure_training_centre"
    SECURE_COLLEGE = "secure_college"
    YOUTH_OFFENDING_TEAM = "youth_offending_team"
    PROBATION = "probation"
    JOBCENTRE = "jobcentre"
    ADULT_SOCIAL_CARE = "adult_social_care"
    CHILDREN_SOCIAL_CARE = "children_social_care"
    HOSPITAL_EMERGENCY_DEPARTMENT = "hospital_emergency_department"
    URGENT_TREATMENT_CENTRE = "urgent_treatment_centre"
    HOSPITAL_INPATIENT = "hospital_inpatient"
    MENTAL_HEALTH_SERVICE = "mental_health_service"
    ARMED_FORCES = "armed_forces"
    OTHER_PUBLIC_BODY = "other_public_body"
    VOLUNTARY_SECTOR = "voluntary_sector"
    MARAC = "marac"
    MAPPA = "mappa"

    @property
    def is_panel(self) -> bool:
        """Panels receive shared cases; they never refer."""
        return self in PANEL_TYPES

    @property
    def is_custodial(self) -> bool:
        return self in CUSTODIAL_TYPES

    @property
    def is_health(self) -> bool:
        return self in HEALTH_TYPES


PANEL_TYPES = frozenset({OrganisationType.MARAC, OrganisationType.MAPPA})
# Referrals from these bodies with a release date are prison releases for routing.
CUSTODIAL_TYPES = frozenset(
    {
        OrganisationType.PRISON,
        OrganisationType.YOUTH_OFFENDER_INSTITUTION,
        OrganisationType.SECURE_TRAINING_CENTRE,
        OrganisationType.SECURE_COLLEGE,
        OrganisationType.PROBATION,
        OrganisationType.YOUTH_OFFENDING_TEAM,
    }
)
# Referrals from these bodies with a discharge date are hospital discharges for routing.
HEALTH_TYPES = frozenset(
    {
        OrganisationType.HOSPITAL_EMERGENCY_DEPARTMENT,
        OrganisationType.URGENT_TREATMENT_CENTRE,
        OrganisationType.HOSPITAL_INPATIENT,
        OrganisationType.MENTAL_HEALTH_SERVICE,
    }
)


class Role(StrEnum):
    OFFICER = "officer"
    TEAM_LEADER = "team_leader"
    PARTNER = "partner"
    PANEL_LEAD = "panel_lead"
    ADMIN = "admin"

    @property
    def belongs_to_authority(self) -> bool:
        return self in {Role.OFFICER, Role.TEAM_LEADER}

    @property
    def belongs_to_organisation(self) -> bool:
        return self in {Role.PARTNER, Role.PANEL_LEAD}


class ReferralSource(StrEnum):
    """How a referral reached the service: made by its referrer (the partner API, the referrer's
    pages), by transfer from another council, or keyed in by a council officer from an email,
    a phone call, a letter or a visit (issue 15.4)."""

    API = "api"
    WEB = "web"
    TRANSFER = "transfer"
    EMAIL = "email"
    PHONE = "phone"
    LETTER = "letter"
    IN_PERSON = "in_person"

    @property
    def keyed_in(self) -> bool:
        return self in KEYED_IN_SOURCES


KEYED_IN_SOURCES = (ReferralSource.EMAIL, ReferralSource.PHONE, ReferralSource.LETTER,
                    ReferralSource.IN_PERSON)


class ReferralStatus(StrEnum):
    RECEIVED = "received"
    ASSIGNED = "assigned"
    UNASSIGNED = "unassigned"
    ACCEPTED = "accepted"
    CONTACT_ATTEMPTED = "contact_attempted"
    CONTACTED = "contacted"
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"
    TRANSFERRED = "transferred"

    @property
    def is_open(self) -> bool:
        return self not in TERMINAL_STATUSES


TERMINAL_STATUSES = frozenset(
    {ReferralStatus.CLOSED, ReferralStatus.WITHDRAWN, ReferralStatus.TRANSFERRED}
)
OPEN_STATUSES = frozenset(set(ReferralStatus) - TERMINAL_STATUSES)
# Statuses that count against an officer's capacity.
CASELOAD_STATUSES = frozenset(
    {
        ReferralStatus.ASSIGNED,
        ReferralStatus.ACCEPTED,
        ReferralStatus.CONTACT_ATTEMPTED,
        ReferralStatus.CONTACTED,
    }
)


class Outcome(StrEnum):
    PREVENTION_DUTY = "prevention_duty"
    RELIEF_DUTY = "relief_duty"
    ADVICE_ONLY = "advice_only"
    NOT_ELIGIBLE = "not_eligible"
    NO_CONTACT = "no_contact"
    DECLINED = "declined"
    DUPLICATE = "duplicate"
    TRANSFERRED = "transferred"
    # The person withdrew consent to the referral (s.213B needs it): domain/consent.py only.
    CONSENT_WITHDRAWN = "consent_withdrawn"


class HousingSituation(StrEnum):
    HOMELESS = "homeless"
    THREATENED_WITH_HOMELESSNESS = "threatened_with_homelessness"


class ContactChannel(StrEnum):
    PHONE = "phone"
    SMS = "sms"
    EMAIL = "email"
    LETTER = "letter"
    IN_PERSON = "in_person"
    VIA_REFERRER = "via_referrer"


class ContactAttemptResult(StrEnum):
    NO_ANSWER = "no_answer"
    LEFT_MESSAGE = "left_message"
    WRONG_NUMBER = "wrong_number"
    UNSAFE_TO_CONTINUE = "unsafe_to_continue"
    MESSAGE_SENT = "message_sent"
    OTHER = "other"


class ActorType(StrEnum):
    USER = "user"
    CLIENT = "client"
    SYSTEM = "system"


class DuplicateMatch(StrEnum):
    NHS_NUMBER = "nhs_number"
    NAME_AND_DATE_OF_BIRTH = "name_and_date_of_birth"
    PHONE = "phone"


class DuplicateDecision(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    NOT_DUPLICATE = "not_duplicate"

# For SQL ``IN`` clauses, in a stable order.
CASELOAD_STATUSES_LIST = sorted(CASELOAD_STATUSES)
OPEN_STATUSES_LIST = sorted(OPEN_STATUSES)
# The same, written into the SQL as constants, for statements built once and run per request:
# an ``IN`` list of bound values is an "expanding" parameter, spliced into the SQL string on
# every execution. Safe as literals: they are this module's own enum values.
OPEN_STATUSES_SQL: list[ColumnClause[str]] = [
    literal_column(f"'{status}'") for status in OPEN_STATUSES_LIST]


# --- Vocabularies of the referral payload (API.md), read by schemas, domain and messaging ---------
# Import them from here; do not repeat the lists elsewhere.

SUPPORT_NEEDS: tuple[str, ...] = (
    "mental_health",
    "physical_health",
    "learning_disability",
    "drug_dependency",
    "alcohol_dependency",
    "offending_history",
    "domestic_abuse",
    "rough_sleeping",
    "repeat_homelessness",
    "care_leaver",
    "young_person",
    "young_parent",
    "armed_forces",
    "old_age",
    "sexual_exploitation",
    "budgeting_debt",
    "refugee",
    "other",
    # H-CLIC support-need categories the list above lacked (issue 15.7; docs/hclic.md). Added at
    # the end so that every earlier value keeps its place and its meaning.
    "young_person_18_25",
    "care_leaver_18_20",
    "care_leaver_21_24",
    "care_leaver_25_plus",
    "non_domestic_abuse",
    "modern_slavery",
    "education_employment_training",
)
HOUSING_SITUATIONS: tuple[str, ...] = ("homeless", "threatened_with_homelessness")
CONTACT_METHODS: tuple[str, ...] = ("sms", "phone", "email", "letter", "via_referrer")
HOUSEHOLD_RELATIONSHIPS: tuple[str, ...] = (
    "partner",
    "child",
    "parent",
    "sibling",
    "other_adult",
    "other_child",
)
MAX_HOUSEHOLD_MEMBERS = 20
