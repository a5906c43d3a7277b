"""The URLs the FHIR mapping names (docs/fhir.md has the table).

Ours live under one namespace on the reserved ``.example`` domain: extension and code system
URLs identify, they need not resolve, and a reserved domain can never clash with anyone else's.
"""
from __future__ import annotations

NHS_NUMBER = "https://fhir.nhs.uk/Id/nhs-number"
# ONS linked-data URI for GSS codes (E07000241 is Welwyn Hatfield): the housing authority.
GSS_CODE = "http://statistics.data.gov.uk/id/statistical-geography"

NAMESPACE = "https://duty-to-refer.example/fhir"
REFERENCE = f"{NAMESPACE}/Id/referral-reference"
REFERRAL_STATUS = f"{NAMESPACE}/CodeSystem/referral-status"
TASK_OUTPUT = f"{NAMESPACE}/CodeSystem/task-output"


def extension(name: str) -> str:
    return f"{NAMESPACE}/StructureDefinition/{name}"


# ServiceRequest.extension: name -> whether it may repeat.
SERVICE_REQUEST_EXTENSIONS = {
    "housing-situation": False,
    "at-risk-of-rough-sleeping-tonight": False,
    "homelessness-date": False,
    "release-or-discharge-date": False,
    "current-location": False,
    "support-need": True,
    "household-member": True,
    "risk": False,
}
PATIENT_EXTENSIONS = {
    "preferred-contact-method": False,
    "safe-contact": False,
    "interpreter-needed": False,
    "no-fixed-abode": False,
}
CONSENT_EXTENSIONS = {"consent-notes": False}
NAMED_OFFICER = extension("named-officer")

# Complex extensions: their parts (relative URLs, as FHIR names the parts of a complex one).
SAFE_CONTACT_PARTS = ("sms", "voicemail", "email", "letter", "instructions")
HOUSEHOLD_MEMBER_PARTS = ("relationship", "age")
RISK_PARTS = {"marac": "marac", "mappa-level": "mappa_level", "mappa-category": "mappa_category",
              "risk-to-staff": "risk_to_staff", "details": "details"}
