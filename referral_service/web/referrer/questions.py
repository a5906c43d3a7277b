"""The make-a-referral journey as data: its question pages, in order, and their fields.

Each field names the dotted path at which ``ReferralSubmissionSchema`` expects (and reports) its
value, so one table drives three things: turning typed answers into the API's payload
(``answers.py``), putting the schema's messages next to the field that owns them
(``errors.py``), and the check-your-answers page. Nothing here validates: the schema does.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from referral_service.models.enums import (
    CONTACT_METHODS,
    HOUSEHOLD_RELATIONSHIPS,
    HOUSING_SITUATIONS,
)
from referral_service.schemas.referral import SAFE_ROUTES
from referral_service.web.labels import SUPPORT_NEED as SUPPORT_NEED_LABELS

Options = tuple[tuple[str, str], ...]

CONTACT_METHOD_LABELS: dict[str, str] = {
    "sms": "Text message",
    "phone": "Phone call",
    "email": "Email",
    "letter": "Letter",
    "via_referrer": "Through you, the referrer",
}
SAFE_ROUTE_LABELS: dict[str, str] = {
    "sms": "Text message",
    "voicemail": "Voicemail",
    "email": "Email",
    "letter": "Letter",
}
HOUSING_SITUATION_LABELS: dict[str, str] = {
    "homeless": "Homeless now",
    "threatened_with_homelessness": "Threatened with homelessness within 56 days",
}
RELATIONSHIP_LABELS: dict[str, str] = {
    "partner": "Partner",
    "child": "Child",
    "parent": "Parent",
    "sibling": "Brother or sister",
    "other_adult": "Another adult",
    "other_child": "Another child",
}
MAPPA_LEVEL_OPTIONS: Options = (("", "Not managed under MAPPA"), ("1", "Level 1"),
                                ("2", "Level 2"), ("3", "Level 3"))
YES_NO: Options = (("yes", "Yes"), ("no", "No"))


def _options(values: tuple[str, ...], labels: dict[str, str]) -> Options:
    return tuple((value, labels[value]) for value in values)


@dataclass(frozen=True)
class Field:
    """One form control (or one group of them, for radios, checkboxes and dates)."""

    name: str  # the form field name and HTML id, e.g. "person-first-name"
    path: str  # where the schema reads and reports it, e.g. "person.first_name"
    kind: str  # text | email | tel | textarea | radios | yesno | checkbox | checkboxes | flags
    #            | date | household | authority
    label: str
    hint: str | None = None
    options: Options = ()
    autocomplete: str | None = None
    width: str | None = None  # a govuk-input--width-N class suffix
    spellcheck: bool | None = None
    inputmode: str | None = None

    @property
    def is_group(self) -> bool:
        """Rendered as a fieldset with a legend rather than one control with a label."""
        return self.kind in {"radios", "yesno", "checkboxes", "flags", "date", "household",
                             "authority"}

    @property
    def anchor(self) -> str:
        """The id an error summary link points at: the first control of the group."""
        if self.kind == "date":
            return f"{self.name}-day"
        if self.kind in {"radios", "yesno", "checkboxes", "flags", "authority"}:
            return self.name
        if self.kind == "household":
            return f"{self.name}-0-relationship"
        return self.name


@dataclass(frozen=True)
class Page:
    slug: str
    title: str
    fields: tuple[Field, ...]
    # lead: the first field's label or legend is the page's heading (one question per page);
    # group: one fieldset around every field, its legend the heading (name, address);
    # plain: a heading, then each field with its own label.
    layout: str = "lead"
    hint: str | None = None
    summary: str = ""  # the row heading on the check-your-answers page
    # Dotted error paths that belong to this page although no one field has them, e.g. the
    # schema's "give at least one way to reach the person", reported on "person".
    claims: tuple[str, ...] = field(default_factory=tuple)

    @property
    def heading(self) -> str:
        return self.title


# The person's own fields turn browser autofill off on purpose: a referrer types in many
# people's details, and autofill would offer one person's name, phone or address for the next
# (a data leak and a wrong referral). WCAG 1.3.5 asks for autocomplete tokens on fields about
# the user; the referrer's own details (the last page) have them.
OFF = "off"

PAGES: tuple[Page, ...] = (
    Page("consent", "Has the person agreed to this referral?", summary="Consent", fields=(
        Field("consent-given", "consent.given", "yesno",
              "Has the person agreed to this referral?",
              hint="Section 213B of the Housing Act 1996 allows a referral only with the "
                   "person's consent, to the housing authority they choose.",
              options=YES_NO),
        Field("consent-notes", "consent.notes", "textarea",
              "How did they agree? (optional)",
              hint="For example, agreed in a supervision meeting on 20 November."),
    )),
    Page("authority", "Which housing authority did the person choose?",
         summary="Housing authority", fields=(
             Field("authority-code", "authority_code", "authority",
                   "Which housing authority did the person choose?",
                   hint="The person chooses the council. Only councils that take referrals "
                        "through this service are listed."),
         )),
    Page("name", "What is the person's name?", layout="group", summary="Name", fields=(
        Field("person-first-name", "person.first_name", "text", "First name",
              autocomplete=OFF, width="20", spellcheck=False),
        Field("person-last-name", "person.last_name", "text", "Last name",
              autocomplete=OFF, width="20", spellcheck=False),
    )),
    Page("identity", "Help the council recognise the person", layout="plain",
         summary="Date of birth and NHS number", fields=(
             Field("person-date-of-birth", "person.date_of_birth", "date",
                   "What is their date of birth? (optional)",
                   hint="For example, 27 3 1990. It helps the council spot a repeat "
                        "referral."),
             Field("person-nhs-number", "person.nhs_number", "text",
                   "NHS number (optional)", hint="10 digits, for example 943 476 5919.",
                   autocomplete=OFF, width="10", spellcheck=False, inputmode="numeric"),
         )),
    Page("contact", "How can the council contact the person?", layout="plain",
         summary="Phone and email",
         hint="Give a phone number, an email address or an address (next page), or choose to "
              "be contacted through you.",
         claims=("person",),
         fields=(
             Field("person-phone", "person.phone", "tel", "Phone number (optional)",
                   hint="A UK number, for example 07700 900123.", autocomplete=OFF,
                   width="20"),
             Field("person-email", "person.email", "email", "Email address (optional)",
                   autocomplete=OFF, spellcheck=False),
         )),
    Page("address", "What is the person's address?", layout="group", summary="Address",
         hint="Leave blank if they have no address where the council can write to them.",
         fields=(
             Field("person-address-line1", "person.address.line1", "text",
                   "Address line 1", autocomplete=OFF),
             Field("person-address-line2", "person.address.line2", "text",
                   "Address line 2 (optional)", autocomplete=OFF),
             Field("person-address-town", "person.address.town", "text",
                   "Town or city (optional)", autocomplete=OFF, width="20"),
             Field("person-address-postcode", "person.address.postcode", "text",
                   "Postcode (optional)", autocomplete=OFF, width="10", spellcheck=False),
             Field("person-no-fixed-abode", "person.no_fixed_abode", "checkbox",
                   "They have no fixed abode"),
         )),
    Page("contact-method", "How would the person like to be contacted?",
         summary="Preferred contact", fields=(
             Field("person-preferred-contact-method", "person.preferred_contact_method",
                   "radios", "How would the person like to be contacted?",
                   options=_options(CONTACT_METHODS, CONTACT_METHOD_LABELS)),
         )),
    Page("safe-contact", "Which ways are safe to contact the person?",
         summary="Safe contact", fields=(
             Field("person-safe-contact", "person.safe_contact", "flags",
                   "Which ways are safe to contact the person?",
                   hint="Select only the ways nobody else, such as an abusive partner, can "
                        "see or hear. The council uses no other way.",
                   options=_options(SAFE_ROUTES, SAFE_ROUTE_LABELS)),
             Field("person-safe-contact-instructions", "person.safe_contact.instructions",
                   "textarea", "Instructions for contacting them safely (optional)",
                   hint="For example, do not leave messages with their partner."),
         )),
    Page("language", "Which language does the person prefer?", summary="Language", fields=(
        Field("person-language", "person.language", "text",
              "Which language does the person prefer?",
              hint="For example, English, Polish or British Sign Language.", width="20"),
        Field("person-interpreter-needed", "person.interpreter_needed", "checkbox",
              "They need an interpreter"),
    )),
    Page("housing", "What is the person's housing situation?", summary="Housing situation",
         fields=(
             Field("housing-situation", "housing_situation", "radios",
                   "What is the person's housing situation?",
                   options=_options(HOUSING_SITUATIONS, HOUSING_SITUATION_LABELS)),
             Field("current-location", "current_location", "textarea",
                   "Where are they living or staying now? (optional)",
                   hint="For example, private rented flat with a section 21 notice, or "
                        "HMP Lewes."),
         )),
    Page("rough-sleeping", "Is the person at risk of sleeping rough tonight?",
         summary="Rough sleeping tonight", fields=(
             Field("at-risk-of-rough-sleeping-tonight", "at_risk_of_rough_sleeping_tonight",
                   "yesno", "Is the person at risk of sleeping rough tonight?",
                   hint="If yes, the council aims to contact them today.", options=YES_NO),
         )),
    Page("dates", "Dates the council should know", layout="plain", summary="Dates", fields=(
        Field("homelessness-date", "homelessness_date", "date",
              "When will they become homeless? (optional)",
              hint="For example, the date a notice to leave expires. Leave blank if they "
                   "are homeless now."),
        Field("release-or-discharge-date", "release_or_discharge_date", "date",
              "When will they leave prison, hospital or care? (optional)",
              hint="A date within 2 days makes the referral urgent."),
    )),
    Page("reason", "Why are you referring the person?", summary="Reason", fields=(
        Field("reason", "reason", "textarea", "Why are you referring the person?",
              hint="What the person agreed you can share: why they are homeless or at risk, "
                   "and what help they need."),
    )),
    Page("support-needs", "Does the person have any support needs?",
         summary="Support needs", fields=(
             Field("support-needs", "support_needs", "checkboxes",
                   "Does the person have any support needs?",
                   hint="Select all that apply.",
                   options=_options(tuple(SUPPORT_NEED_LABELS), SUPPORT_NEED_LABELS)),
         )),
    Page("risk", "Risks the council should know about", layout="plain", summary="Risk",
         fields=(
             Field("risk-marac", "risk.marac", "yesno",
                   "Has the person been referred to a MARAC?",
                   hint="A multi-agency risk assessment conference, for high-risk domestic "
                        "abuse.", options=YES_NO),
             Field("risk-mappa-level", "risk.mappa_level", "radios",
                   "Is the person managed under MAPPA?", options=MAPPA_LEVEL_OPTIONS),
             Field("risk-to-staff", "risk.risk_to_staff", "yesno",
                   "Could the person be a risk to staff?", options=YES_NO),
             Field("risk-details", "risk.details", "textarea",
                   "Details of any risk (optional)"),
         )),
    Page("household", "Who will live with the person?", summary="Household", fields=(
        Field("household", "household", "household", "Who will live with the person?",
              hint="Leave blank if they will live alone. Give each person's relationship to "
                   "them and their age.",
              options=_options(HOUSEHOLD_RELATIONSHIPS, RELATIONSHIP_LABELS)),
    )),
    Page("referrer", "Your details", layout="group", summary="Your details",
         hint="The council contacts you about this referral.", fields=(
             Field("referrer-name", "referrer.name", "text", "Your name",
                   autocomplete="name", width="20", spellcheck=False),
             Field("referrer-job-title", "referrer.job_title", "text",
                   "Job title (optional)", autocomplete="organization-title", width="20"),
             Field("referrer-team", "referrer.team", "text", "Team (optional)", width="20"),
             Field("referrer-email", "referrer.email", "email", "Email address",
                   autocomplete="email", spellcheck=False),
             Field("referrer-phone", "referrer.phone", "tel", "Phone number (optional)",
                   autocomplete="tel", width="20"),
             Field("agency-reference", "agency_reference", "text",
                   "Your reference for this person (optional)",
                   hint="For example, a case number in your own system.", width="20",
                   spellcheck=False),
         )),
)

# The check-your-answers page, in sections (each page in exactly one; a test checks).
SECTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("The referral", ("consent", "authority")),
    ("The person", ("name", "identity", "contact", "address", "contact-method", "safe-contact",
                    "language")),
    ("Their situation", ("housing", "rough-sleeping", "dates", "reason", "support-needs")),
    ("Risks and household", ("risk", "household")),
    ("Your details", ("referrer",)),
)


@dataclass(frozen=True)
class Journey:
    """One journey through question pages: the referrer's, or an officer keying in a referral
    that arrived by email or phone (the same pages, less the council, plus how it arrived)."""

    pages: tuple[Page, ...]
    sections: tuple[tuple[str, tuple[str, ...]], ...]

    @property
    def by_slug(self) -> dict[str, Page]:
        return {page.slug: page for page in self.pages}

    @property
    def fields(self) -> tuple[tuple[Page, Field], ...]:
        return tuple((page, one) for page in self.pages for one in page.fields)

    def next_page(self, slug: str) -> Page | None:
        index = [page.slug for page in self.pages].index(slug)
        return self.pages[index + 1] if index + 1 < len(self.pages) else None

    def previous_page(self, slug: str) -> Page | None:
        index = [page.slug for page in self.pages].index(slug)
        return self.pages[index - 1] if index > 0 else None


REFERRER = Journey(PAGES, SECTIONS)
PAGES_BY_SLUG: dict[str, Page] = REFERRER.by_slug
FIELDS: tuple[tuple[Page, Field], ...] = REFERRER.fields


def next_page(slug: str) -> Page | None:
    return REFERRER.next_page(slug)


def previous_page(slug: str) -> Page | None:
    return REFERRER.previous_page(slug)


# --- Keyed in by an officer (issue 15.4) ------------------------------------------------------

SOURCE_CHANNEL_LABELS: dict[str, str] = {
    "email": "Email",
    "phone": "Phone call",
    "letter": "Letter",
    "in_person": "In person, at the council",
}
ORGANISATION_TYPE_LABELS: dict[str, str] = {
    "prison": "Prison",
    "youth_offender_institution": "Young offender institution",
    "secure_training_centre": "Secure training centre",
    "secure_college": "Secure college",
    "youth_offending_team": "Youth offending team",
    "probation": "Probation service",
    "jobcentre": "Jobcentre Plus",
    "adult_social_care": "Adult social care",
    "children_social_care": "Children's social care",
    "hospital_emergency_department": "Hospital emergency department",
    "urgent_treatment_centre": "Urgent treatment centre",
    "hospital_inpatient": "Hospital inpatient service",
    "mental_health_service": "Mental health service",
    "armed_forces": "Armed forces",
    "other_public_body": "Another public body",
    "voluntary_sector": "Voluntary sector organisation",
}

SOURCE_PAGE = Page(
    "source", "How did the referral arrive?", layout="plain", summary="How it arrived",
    hint="Key in a referral that a public body sent by email, made by phone or letter, or "
         "brought in person. It goes to your council, as if sent through the service.",
    fields=(
        Field("source-channel", "source.channel", "radios", "How it arrived",
              options=tuple(SOURCE_CHANNEL_LABELS.items())),
        Field("source-organisation-id", "source.organisation_id", "organisation",
              "Which public body made the referral?",
              hint="Choose it if it is on this service. If it is not, leave this and enter its "
                   "name below."),
        Field("source-organisation-name", "source.organisation_name", "text",
              "Name of a public body not on the service (optional)", width="20"),
        Field("source-organisation-type", "source.organisation_type", "select",
              "What kind of public body is it? (only for a body not on the service)",
              options=(("", "Choose a kind of body"),
                       *ORGANISATION_TYPE_LABELS.items())),
    ))
KEYED_IN_REFERRER_PAGE = Page(
    "referrer", "The referrer's details", layout="group", summary="The referrer",
    hint="The person at the public body who made the referral. Without an email address they "
         "are not sent an acknowledgement.", fields=(
        Field("referrer-name", "referrer.name", "text", "Their name", autocomplete=OFF,
              width="20", spellcheck=False),
        Field("referrer-job-title", "referrer.job_title", "text", "Job title (optional)",
              autocomplete=OFF, width="20"),
        Field("referrer-team", "referrer.team", "text", "Team (optional)", width="20"),
        Field("referrer-email", "referrer.email", "email", "Email address (optional)",
              autocomplete=OFF, spellcheck=False),
        Field("referrer-phone", "referrer.phone", "tel", "Phone number (optional)",
              autocomplete=OFF, width="20"),
        Field("agency-reference", "agency_reference", "text",
              "Their reference for this person (optional)", width="20", spellcheck=False),
    ))
KEYED_IN = Journey(
    (SOURCE_PAGE,
     *(KEYED_IN_REFERRER_PAGE if page.slug == "referrer" else page
       for page in PAGES if page.slug != "authority")),
    (("How it arrived", ("source", "referrer")),
     ("The referral", ("consent",)),
     *SECTIONS[1:4]),
)
