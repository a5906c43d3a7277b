"""FHIR R4 referrals shaped like HL7's R4 ServiceRequest examples and NHS England's UK Core
profiles (NHS number identifier system https://fhir.nhs.uk/Id/nhs-number), carrying the same
referral as the API.md example payload (tests/factories.py BASE_PAYLOAD)."""
from __future__ import annotations

import copy
import itertools
from typing import Any

NS = "https://duty-to-refer.example/fhir/StructureDefinition/"
GSS = "http://statistics.data.gov.uk/id/statistical-geography"
_counter = itertools.count(1)


def ext(name: str, **value: Any) -> dict[str, Any]:
    return {"url": NS + name, **value}


def part(name: str, **value: Any) -> dict[str, Any]:
    return {"url": name, **value}


def patient(**overrides: Any) -> dict[str, Any]:
    """A UK Core-shaped Patient; each call a different person (no possible duplicates)."""
    n = next(_counter)
    resource = {
        "resourceType": "Patient", "id": "patient",
        "meta": {"profile": ["https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient"]},
        "identifier": [{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9434765919"}],
        "name": [{"use": "official", "family": "Testcase", "given": [f"Fhirperson{n}"]}],
        "telecom": [{"system": "phone", "value": f"07700 9{n % 100000:05d}", "use": "mobile"},
                    {"system": "email", "value": "aoife@example.org", "use": "home"}],
        "gender": "female",
        "birthDate": f"1980-02-{1 + n % 28:02d}",
        "address": [{"use": "home", "line": ["Flat 2", "1 High Street"], "city": "Welwyn",
                     "postalCode": "AL8 6AB"}],
        "communication": [{"language": {"coding": [{
            "system": "urn:ietf:bcp:47", "code": "en"}]}, "preferred": True}],
        "extension": [
            ext("preferred-contact-method", valueCode="sms"),
            ext("safe-contact", extension=[part("sms", valueBoolean=True),
                                           part("voicemail", valueBoolean=False),
                                           part("email", valueBoolean=True),
                                           part("letter", valueBoolean=False),
                                           part("instructions", valueString=(
                                               "Do not leave messages with partner"))]),
            ext("interpreter-needed", valueBoolean=False),
        ],
    }
    resource.update(overrides)
    return resource


def consent(**overrides: Any) -> dict[str, Any]:
    resource = {
        "resourceType": "Consent", "id": "consent", "status": "active",
        "scope": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope",
                              "code": "patient-privacy"}]},
        "category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0"}]}],
        "patient": {"reference": "#patient"},
        "dateTime": "2026-11-20T10:15:00Z",
        "provision": {"type": "permit"},
        "extension": [ext("consent-notes", valueString="agreed in supervision")],
    }
    resource.update(overrides)
    return resource


def practitioner_role() -> list[dict[str, Any]]:
    """The referrer: a PractitionerRole with its Practitioner and Organization."""
    return [
        {"resourceType": "Practitioner", "id": "referrer",
         "name": [{"family": "Patel", "given": ["Sam"]}],
         "telecom": [{"system": "email", "value": "sam.patel@probation.example"}]},
        {"resourceType": "Organization", "id": "team", "name": "Kent PDU"},
        {"resourceType": "PractitionerRole", "id": "role",
         "practitioner": {"reference": "#referrer"}, "organization": {"reference": "#team"},
         "code": [{"text": "Probation Officer"}],
         "telecom": [{"system": "phone", "value": "01632 960 001"}]},
    ]


def service_request(*, patient_resource: dict[str, Any] | None = None,
                    consent_resource: dict[str, Any] | None = None,
                    **overrides: Any) -> dict[str, Any]:
    """A ServiceRequest with its Patient, Consent and requester contained (POST
    /api/fhir/ServiceRequest)."""
    resource = {
        "resourceType": "ServiceRequest",
        "contained": [patient_resource or patient(), consent_resource or consent(),
                      *practitioner_role()],
        "identifier": [{"system": "https://probation.example/Id/case", "value": "PRB-55121"}],
        "status": "active",
        "intent": "order",
        "category": [{"text": "Duty to Refer (Housing Act 1996 s.213B)"}],
        "subject": {"reference": "#patient"},
        "authoredOn": "2026-11-20T10:20:00Z",
        "requester": {"reference": "#role"},
        "performer": [{"identifier": {"system": GSS, "value": "E07000241"},
                       "display": "Welwyn Hatfield"}],
        "reasonCode": [{"text": "Section 21 notice expires 18 December; no savings for a "
                                "deposit."}],
        "supportingInfo": [{"reference": "#consent"}],
        "extension": [
            ext("housing-situation", valueCode="threatened_with_homelessness"),
            ext("at-risk-of-rough-sleeping-tonight", valueBoolean=False),
            ext("homelessness-date", valueDate="2026-12-18"),
            ext("current-location", valueString="Private rented flat, section 21 notice served"),
            ext("support-need", valueCode="mental_health"),
            ext("support-need", valueCode="domestic_abuse"),
            ext("household-member", extension=[part("relationship", valueCode="child"),
                                               part("age", valueInteger=4)]),
            ext("risk", extension=[part("marac", valueBoolean=False),
                                   part("risk-to-staff", valueBoolean=False)]),
        ],
    }
    resource.update(overrides)
    return resource


def transaction(**overrides: Any) -> dict[str, Any]:
    """The same referral as a transaction Bundle (POST /api/fhir): each resource an entry,
    referenced by its fullUrl."""
    request = service_request(**overrides)
    contained = {resource["id"]: resource for resource in request.pop("contained")}
    urls = {key: f"urn:uuid:0000000{i}-0000-4000-8000-000000000000"
            for i, key in enumerate(contained)}

    def relink(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: (urls[v[1:]] if k == "reference" and isinstance(v, str)
                        and v.startswith("#") else relink(v)) for k, v in node.items()}
        if isinstance(node, list):
            return [relink(item) for item in node]
        return node

    entries = [{"fullUrl": "urn:uuid:00000009-0000-4000-8000-000000000000",
                "resource": relink(request),
                "request": {"method": "POST", "url": "ServiceRequest"}}]
    for key, resource in contained.items():
        resource = relink(copy.deepcopy(resource))
        resource.pop("id")
        entries.append({"fullUrl": urls[key], "resource": resource,
                        "request": {"method": "POST", "url": resource["resourceType"]}})
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}


def contained(document: dict[str, Any], kind: str) -> dict[str, Any]:
    return next(r for r in document["contained"] if r["resourceType"] == kind)
