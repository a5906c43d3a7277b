"""A referral as FHIR: the ServiceRequest it was made as, and the Task that follows it."""
from __future__ import annotations

from typing import Any

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.servicerequest import ServiceRequest
from fhir.resources.R4B.task import Task

from referral_service.domain import intake
from referral_service.fhir import vocabulary as v
from referral_service.models import Referral, ReferralStatus

# Our status -> FHIR Task.status (R4 Task state machine: requested -> received -> accepted ->
# in-progress -> completed; rejected by the performer, cancelled by the requester). The exact
# status is in Task.businessStatus too.
TASK_STATUS = {
    ReferralStatus.RECEIVED: "requested",
    ReferralStatus.UNASSIGNED: "requested",    # in the team queue: nobody has claimed it yet
    ReferralStatus.ASSIGNED: "received",       # a named officer owns it, not yet acknowledged
    ReferralStatus.ACCEPTED: "accepted",
    ReferralStatus.CONTACT_ATTEMPTED: "in-progress",
    ReferralStatus.CONTACTED: "in-progress",
    ReferralStatus.CLOSED: "completed",        # whatever the outcome: see Task.output
    ReferralStatus.WITHDRAWN: "cancelled",     # by the referrer
    ReferralStatus.TRANSFERRED: "rejected",    # the council passed it to another authority
}
# Our status -> ServiceRequest.status (draft | active | on-hold | revoked | completed | ...).
SERVICE_REQUEST_STATUS = {ReferralStatus.CLOSED: "completed",
                          ReferralStatus.WITHDRAWN: "revoked",
                          ReferralStatus.TRANSFERRED: "revoked"}


def _council(referral: Referral) -> dict[str, Any]:
    authority = referral.authority
    return {"type": "Organization", "display": authority.name,
            "identifier": {"system": v.GSS_CODE, "value": authority.code}}


def service_request(referral: Referral) -> ServiceRequest:
    submitted = intake.submission_of(referral)
    person = submitted["person"]
    patient: dict[str, Any] = {"resourceType": "Patient", "id": "patient", "name": [
        {"use": "official", "family": person["last_name"], "given": [person["first_name"]]}]}
    if person.get("nhs_number"):
        patient["identifier"] = [{"system": v.NHS_NUMBER, "value": person["nhs_number"]}]
    if person.get("date_of_birth"):
        patient["birthDate"] = str(person["date_of_birth"])
    identifiers = [{"system": v.REFERENCE, "value": referral.reference}]
    if submitted.get("agency_reference"):
        identifiers.append({"value": submitted["agency_reference"]})
    return ServiceRequest.model_validate({
        "resourceType": "ServiceRequest",
        "id": str(referral.id),
        "contained": [patient],
        "identifier": identifiers,
        "status": SERVICE_REQUEST_STATUS.get(referral.status, "active"),
        "intent": "order",
        "subject": {"reference": "#patient"},
        "authoredOn": referral.received_at.isoformat(),
        "requester": {"display": submitted["referrer"]["name"]},
        "performer": [_council(referral)],
        "reasonCode": [{"text": submitted["reason"]}],
    })


def task(referral: Referral) -> Task:
    resource: dict[str, Any] = {
        "resourceType": "Task",
        "id": str(referral.id),
        "identifier": [{"system": v.REFERENCE, "value": referral.reference}],
        "basedOn": [{"reference": f"ServiceRequest/{referral.id}"}],
        "focus": {"reference": f"ServiceRequest/{referral.id}"},
        "status": TASK_STATUS[referral.status],
        "businessStatus": {"coding": [{"system": v.REFERRAL_STATUS,
                                       "code": referral.status.value}]},
        "intent": "order",
        "authoredOn": referral.received_at.isoformat(),
        "lastModified": referral.updated_at.isoformat(),
        "owner": _council(referral),
    }
    if referral.status == ReferralStatus.TRANSFERRED and referral.transferred_to_authority:
        resource["statusReason"] = {
            "text": f"Transferred to {referral.transferred_to_authority.name}"}
    if referral.named_officer is not None:
        resource["extension"] = [{"url": v.NAMED_OFFICER,
                                  "valueString": referral.named_officer.name}]
    if referral.outcome is not None:
        resource["output"] = [{"type": {"coding": [{"system": v.TASK_OUTPUT, "code": "outcome"}]},
                               "valueCode": referral.outcome.value}]
    return Task.model_validate(resource)


def transaction_response(referral: Referral, entry_types: list[str]) -> Bundle:
    """One response entry per request entry, in order (FHIR R4 transaction rules): the
    ServiceRequest is created; the Patient, Consent and requester were taken into it."""
    made = service_request(referral)
    entries: list[dict[str, Any]] = []
    for kind in entry_types:
        if kind == "ServiceRequest":
            entries.append({"fullUrl": f"ServiceRequest/{referral.id}", "resource": made,
                            "response": {"status": "201 Created",
                                         "location": f"ServiceRequest/{referral.id}"}})
        else:
            entries.append({"response": {"status": "200 OK"}})
    return Bundle.model_validate({"resourceType": "Bundle", "type": "transaction-response",
                                  "entry": entries})


def capability_statement(base: str) -> CapabilityStatement:
    """What this FHIR endpoint does (``GET /api/fhir/metadata``), for integration engines."""
    return CapabilityStatement.model_validate({
        "resourceType": "CapabilityStatement", "status": "active", "date": "2026-12-04",
        "kind": "instance", "fhirVersion": "4.0.1", "format": ["application/fhir+json"],
        "implementation": {"description": "Duty to Refer referrals (Housing Act 1996 s.213B)",
                           "url": base},
        "rest": [{
            "mode": "server",
            "security": {"service": [{"coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
                "code": "OAuth"}]}],
                "description": "OAuth 2.0 client credentials at /oauth/token; scopes "
                               "referrals:write (create, transaction) and referrals:read."},
            "resource": [
                {"type": "ServiceRequest", "interaction": [{"code": "create"}, {"code": "read"}]},
                {"type": "Task", "interaction": [{"code": "read"}]},
            ],
            "interaction": [{"code": "transaction"}],
        }],
    })
