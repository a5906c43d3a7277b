"""Our vocabularies mapped to the H-CLIC categories, as data, in this one place (docs/hclic.md).

H-CLIC is the Homelessness Case Level Information Collection, the quarterly case-level return
councils make to MHCLG (formerly DLUHC/DCLG). What we could and could not confirm of its
specification is in ``SOURCES`` and docs/hclic.md. In short: the category *names* below are
as MHCLG publishes them; the spec's own field names and numeric code values were not found, so
the codes here are this service's stable slugs, never presented as the spec's codes.

Every one of our support needs and organisation types maps to a category here or, explicitly,
to ``NOT_COLLECTED`` (tests check that nothing is left out).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from referral_service.models.enums import OrganisationType

NOT_COLLECTED: Final = "not_collected"

SOURCES: tuple[str, ...] = (
    "DCLG, 'The Homelessness Case Level Information Collection (H-CLIC) to monitor the "
    "Homelessness Reduction Act 2017: Summary of the Data Monitoring Specification', issued "
    "14 August 2017 (the sections Main, People, Support, Prevention, Relief, Final duties, "
    "Assistance, Temporary accommodation, Reviews; quarterly submission from April 2018).",
    "MHCLG, 'Statutory homelessness in England', live tables on homelessness, detailed local "
    "authority data, table A3 'Number of households owed a homelessness duty by support needs "
    "of household' (the 24 support-need categories, as published from 2025) and table A7 "
    "'Number of households assessed as a result of a referral, including under the Duty to "
    "Refer' (its column labels were not read).",
    "The Homelessness (Review Procedure etc.) Regulations 2018 and the Homelessness Code of "
    "Guidance chapter 4, paragraph 4.3: the public authorities subject to the duty to refer.",
)
UNCONFIRMED: tuple[str, ...] = (
    "The H-CLIC data specification's field names (e.g. of the Main table's referral fields) "
    "and its code values for support needs and referring public bodies: not found; the CSV "
    "uses the published category names and this service's slugs.",
    "The spec's date format: not found; the CSV uses ISO 8601 dates (YYYY-MM-DD).",
    "Whether table A7 counts 'adult secondary mental health services' as a category of its "
    "own: not confirmed; mental health services are mapped to it, marked unconfirmed.",
    "Whether H-CLIC records adult and children's social services apart: not confirmed (the "
    "Regulations name social services authorities once).",
)


# --- Support needs of household (the Support section; table A3) --------------------------------

SUPPORT_CATEGORIES: dict[str, str] = {
    "history_of_mental_health_problems": "History of mental health problems",
    "physical_ill_health_and_disability": "Physical ill health and disability",
    "learning_disability": "Learning disability",
    "sexual_abuse_or_exploitation":
        "At risk of / has experienced sexual abuse / exploitation",
    "domestic_abuse": "At risk of / has experienced domestic abuse",
    "non_domestic_abuse": "At risk of / has experienced abuse (non-domestic abuse)",
    "drug_dependency_needs": "Drug dependency needs",
    "alcohol_dependency_needs": "Alcohol dependency needs",
    "offending_history": "Offending history",
    "history_of_repeat_homelessness": "History of repeat homelessness",
    "history_of_rough_sleeping": "History of rough sleeping",
    "former_asylum_seeker": "Former asylum seeker",
    "old_age": "Old age",
    "served_in_hm_forces": "Served in HM Forces",
    "young_person_16_17": "Young person aged 16-17 years",
    "young_person_18_25": "Young person aged 18-25 years requiring support to manage "
                          "independently",
    "young_parent": "Young parent requiring support to manage independently",
    "care_leaver_18_20": "Care leaver aged 18-20 years",
    "care_leaver_21_24": "Care leaver aged 21-24 years",
    "care_leaver_25_plus": "Care leaver aged 25+ years",
    "access_to_education_employment_training":
        "Access to education, employment or training",
    "modern_slavery": "Victim of modern slavery",
    "difficulties_budgeting": "Difficulties budgeting",
}

# Each of our support needs (models/enums.py SUPPORT_NEEDS) to its H-CLIC category.
SUPPORT_NEED_TO_HCLIC: dict[str, str] = {
    "mental_health": "history_of_mental_health_problems",
    "physical_health": "physical_ill_health_and_disability",
    "learning_disability": "learning_disability",
    "drug_dependency": "drug_dependency_needs",
    "alcohol_dependency": "alcohol_dependency_needs",
    "offending_history": "offending_history",
    "domestic_abuse": "domestic_abuse",
    "rough_sleeping": "history_of_rough_sleeping",
    "repeat_homelessness": "history_of_repeat_homelessness",
    # H-CLIC counts care leavers by age band only; ours without an age is not placed in one.
    "care_leaver": NOT_COLLECTED,
    "young_person": "young_person_16_17",  # our label has always been "aged 16 or 17"
    "young_parent": "young_parent",
    "armed_forces": "served_in_hm_forces",
    "old_age": "old_age",
    "sexual_exploitation": "sexual_abuse_or_exploitation",
    "budgeting_debt": "difficulties_budgeting",
    # Ours also covers refugees who never sought asylum (resettlement): the nearest category.
    "refugee": "former_asylum_seeker",
    "other": NOT_COLLECTED,
    "young_person_18_25": "young_person_18_25",
    "care_leaver_18_20": "care_leaver_18_20",
    "care_leaver_21_24": "care_leaver_21_24",
    "care_leaver_25_plus": "care_leaver_25_plus",
    "non_domestic_abuse": "non_domestic_abuse",
    "modern_slavery": "modern_slavery",
    "education_employment_training": "access_to_education_employment_training",
}


# --- The referring public body (the Main section; table A7) ------------------------------------

@dataclass(frozen=True)
class PublicBody:
    label: str
    # Subject to the duty to refer (section 213B; the 2018 Regulations), or another body.
    duty_to_refer: bool
    confirmed: bool = True


PUBLIC_BODIES: dict[str, PublicBody] = {
    "prison": PublicBody("Prison", True),
    "youth_offender_institution": PublicBody("Youth offender institution", True),
    "secure_training_centre": PublicBody("Secure training centre", True),
    "secure_college": PublicBody("Secure college", True),
    "youth_offending_team": PublicBody("Youth offending team", True),
    "probation": PublicBody("Probation service (National Probation Service / CRC)", True),
    "jobcentre_plus": PublicBody("Jobcentre Plus", True),
    # The Regulations name "social services authorities" once; the split is ours (unconfirmed).
    "adult_social_services": PublicBody("Social services authority (adult)", True,
                                        confirmed=False),
    "children_social_services": PublicBody("Social services authority (children)", True,
                                           confirmed=False),
    "emergency_department": PublicBody("Emergency department", True),
    "urgent_treatment_centre": PublicBody("Urgent treatment centre", True),
    "hospital_inpatient": PublicBody("Hospital providing inpatient care", True),
    "adult_secondary_mental_health": PublicBody("Adult secondary mental health services",
                                                False, confirmed=False),
    "armed_forces": PublicBody("Secretary of State for Defence (regular armed forces)", True),
    "other_public_body": PublicBody("Other public body (not subject to the duty to refer)",
                                    False),
    "non_public_body": PublicBody("Not a public body (e.g. voluntary sector)", False),
}

T = OrganisationType
AGENCY_TO_HCLIC: dict[OrganisationType, str] = {
    T.PRISON: "prison",
    T.YOUTH_OFFENDER_INSTITUTION: "youth_offender_institution",
    T.SECURE_TRAINING_CENTRE: "secure_training_centre",
    T.SECURE_COLLEGE: "secure_college",
    T.YOUTH_OFFENDING_TEAM: "youth_offending_team",
    T.PROBATION: "probation",
    T.JOBCENTRE: "jobcentre_plus",
    T.ADULT_SOCIAL_CARE: "adult_social_services",
    T.CHILDREN_SOCIAL_CARE: "children_social_services",
    T.HOSPITAL_EMERGENCY_DEPARTMENT: "emergency_department",
    T.URGENT_TREATMENT_CENTRE: "urgent_treatment_centre",
    T.HOSPITAL_INPATIENT: "hospital_inpatient",
    T.MENTAL_HEALTH_SERVICE: "adult_secondary_mental_health",
    T.ARMED_FORCES: "armed_forces",
    T.OTHER_PUBLIC_BODY: "other_public_body",
    T.VOLUNTARY_SECTOR: "non_public_body",
    # Panels receive shared cases; they never refer, so never appear in the extract.
    T.MARAC: NOT_COLLECTED,
    T.MAPPA: NOT_COLLECTED,
}


def hclic_support_flags(needs: list[str] | None) -> dict[str, bool]:
    """Every H-CLIC support category, in order, and whether these needs of ours fall in it."""
    found = {SUPPORT_NEED_TO_HCLIC.get(need, NOT_COLLECTED) for need in needs or []}
    return {category: category in found for category in SUPPORT_CATEGORIES}

