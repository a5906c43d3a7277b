"""A FHIR ServiceRequest (with its Patient, Consent and requester) as the referral payload of
``POST /api/v1/referrals``, so that ReferralSubmissionSchema and the intake apply every rule
exactly as they do to JSON (docs/fhir.md has the mapping table).

Two forms are read: a ServiceRequest whose Patient, Consent and requester are ``contained``
(referenced as ``#id``), and a transaction Bundle holding the ServiceRequest and those resources
(referenced by ``fullUrl`` or ``Type/id``). The mapping keeps, for each payload field, the FHIR
path it came from (``where``), so a rule's message can name the element to fix.

Only structural problems are refused here (not FHIR, dangling references, a form not read);
a missing or wrong value is left for the schema to refuse, as it would refuse it in JSON.
"""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.servicerequest import ServiceRequest
from fhir_core.fhirabstractmodel import FHIRAbstractModel
from pydantic import ValidationError

from referral_service.fhir import vocabulary as v
from referral_service.fhir.outcomes import FhirRefused, Issue

REQUESTER_TYPES = ("Practitioner", "PractitionerRole", "Organization")
BUNDLE_RESOURCE_TYPES = ("ServiceRequest", "Patient", "Consent", *REQUESTER_TYPES)


@dataclass
class Mapped:
    """The referral payload and, per dotted payload key, the FHIR path it came from."""

    payload: dict[str, Any] = field(default_factory=dict)
    where: dict[str, str] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)
    # A transaction's entries' resource types, in order (its response answers each).
    entry_types: list[str] = field(default_factory=list)

    def put(self, key: str, value: Any, expression: str) -> None:
        self.where[key] = expression
        if value is None:
            return
        node = self.payload
        *parents, last = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = _plain(value)

    def has(self, key: str) -> bool:
        node: Any = self.payload
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node:
                return False
            node = node[part]
        return True

    def refuse(self, message: str, expression: str, code: str = "structure") -> None:
        self.issues.append(Issue(message, expression, code))

    def expression_for(self, key: str, fallback: str) -> str:
        """The FHIR path of a (dotted) payload key, or of its nearest parent that has one."""
        parts = key.split(".")
        while parts:
            found = self.where.get(".".join(parts))
            if found:
                return found
            parts.pop()
        return fallback


def _plain(value: Any) -> Any:
    """A FHIR primitive as JSON carries it (the schema reads JSON values, not Python dates)."""
    if isinstance(value, dt.date):  # datetime too
        return value.isoformat()
    if isinstance(value, FHIRAbstractModel):  # a value[x] of another type: the schema refuses it
        return value.model_dump(mode="json", exclude_none=True)
    return value


# --- Reading the document -----------------------------------------------------------------------


RESOURCE_TYPE = re.compile(r"[A-Z][A-Za-z]{1,63}")
NOT_READ = "Not a FHIR R4 resource this service can read."


def _validated(model: type[FHIRAbstractModel], document: Any, root: str) -> Any:
    _resource_types_are_names(document, root)
    try:
        return model.model_validate(document)
    except ValidationError as error:
        raise FhirRefused(400, [
            Issue(problem["msg"], _path(root, problem["loc"]), "structure")
            for problem in error.errors(include_url=False, include_input=False)]) from None
    except Exception:
        # The library fails on some junk (a KeyError for an unknown nested resourceType): a
        # document it cannot read is the sender's error, never a 500.
        raise FhirRefused(400, [Issue(NOT_READ, root, "structure")]) from None


def _resource_types_are_names(document: Any, root: str) -> None:
    """Every resourceType (contained, in entries) is a resource name before the library looks
    it up: the library turns the name into an attribute lookup."""
    pending: list[tuple[Any, str]] = [(document, root)]
    while pending:  # a loop, not recursion: the document may be nested deep
        node, path = pending.pop()
        if isinstance(node, dict):
            kind = node.get("resourceType", "Resource")
            if not isinstance(kind, str) or not RESOURCE_TYPE.fullmatch(kind):
                raise FhirRefused(400, [Issue(NOT_READ, f"{path}.resourceType", "structure")])
            pending.extend((value, f"{path}.{key}") for key, value in node.items())
        elif isinstance(node, list):
            pending.extend((value, f"{path}[{index}]") for index, value in enumerate(node))


def _path(root: str, location: Iterable[Any]) -> str:
    path = root
    for part in location:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def _expect(document: Any, kind: str, message: str) -> None:
    if not isinstance(document, dict) or document.get("resourceType") != kind:
        raise FhirRefused(400, [Issue(message, "resourceType", "not-supported")])


class _Resources:
    """Finds what a Reference points at: a contained resource (``#id``) or a Bundle entry."""

    def __init__(self, service_request: Any, root: str,
                 entries: list[tuple[str, Any, str]] | None = None) -> None:
        self.root = root
        self.contained = {resource.id: (resource, f"{root}.contained[{index}]")
                          for index, resource in enumerate(service_request.contained or [])
                          if resource.id}
        self.entries = entries or []  # (fullUrl, resource, its path)

    def find(self, reference: Any, expression: str, kinds: tuple[str, ...],
             mapped: Mapped) -> tuple[Any, str] | None:
        target = getattr(reference, "reference", None) if reference is not None else None
        if not target:
            return None
        found: tuple[Any, str] | None = None
        if target.startswith("#"):
            found = self.contained.get(target[1:])
        else:
            found = next(((resource, path) for full_url, resource, path in self.entries
                          if target in (full_url, f"{resource.get_resource_type()}/{resource.id}")),
                         None)
        if found is None:
            mapped.refuse(f"Nothing in this request has the reference '{target[:80]}': include "
                          "the resource (contained, or as a Bundle entry).",
                          f"{expression}.reference")
            return None
        if found[0].get_resource_type() not in kinds:
            mapped.refuse(f"This reference must point at a {' or '.join(kinds)}, not a "
                          f"{found[0].get_resource_type()}.", f"{expression}.reference")
            return None
        return found


def from_service_request(document: Any) -> Mapped:
    """A ServiceRequest with its Patient, Consent and requester contained."""
    _expect(document, "ServiceRequest",
            "Send a ServiceRequest resource here (a transaction Bundle goes to /api/fhir).")
    service_request = _validated(ServiceRequest, document, "ServiceRequest")
    return _map(service_request, _Resources(service_request, "ServiceRequest"))


def from_transaction(document: Any) -> Mapped:
    """A transaction Bundle: one ServiceRequest, with its Patient, Consent and requester."""
    _expect(document, "Bundle", "Send a Bundle of type transaction here (a ServiceRequest on "
                                "its own goes to /api/fhir/ServiceRequest).")
    bundle = _validated(Bundle, document, "Bundle")
    issues: list[Issue] = []
    if bundle.type != "transaction":
        issues.append(Issue("Send a Bundle of type transaction.", "Bundle.type", "not-supported"))
    entries: list[tuple[str, Any, str]] = []
    requests: list[tuple[Any, str]] = []
    for index, entry in enumerate(bundle.entry or []):
        path = f"Bundle.entry[{index}]"
        resource = entry.resource
        kind = resource.get_resource_type() if resource is not None else None
        if kind not in BUNDLE_RESOURCE_TYPES:
            issues.append(Issue("Each entry must hold one of: " + ", ".join(BUNDLE_RESOURCE_TYPES)
                                + ".", f"{path}.resource", "not-supported"))
            continue
        if entry.request is None or entry.request.method != "POST":
            issues.append(Issue("Each entry of a referral is created: request.method POST.",
                                f"{path}.request.method", "not-supported"))
        entries.append((entry.fullUrl or "", resource, f"{path}.resource"))
        if kind == "ServiceRequest":
            requests.append((resource, f"{path}.resource"))
    if len(requests) != 1:
        issues.append(Issue("A referral Bundle holds exactly one ServiceRequest.", "Bundle.entry",
                            "invariant"))
    if issues:
        raise FhirRefused(400, issues)
    service_request, root = requests[0]
    mapped = _map(service_request, _Resources(service_request, root, entries))
    mapped.entry_types = [resource.get_resource_type() for _, resource, _ in entries]
    return mapped


# --- The mapping ------------------------------------------------------------------------------


def _map(request: Any, resources: _Resources) -> Mapped:
    mapped = Mapped()
    root = resources.root
    # Where a missing part is reported when it is not there at all.
    for key, path in (("authority_code", "performer"), ("referrer", "requester"),
                      ("consent", "supportingInfo"), ("person", "subject"),
                      ("reason", "reasonCode"), ("housing_situation",
                                                 f"extension('{v.extension('housing-situation')}')")):
        mapped.where[key] = f"{root}.{path}"
    _no_modifier_extensions(request, root, mapped)
    if request.status != "active":
        mapped.refuse("A referral is made with status active.", f"{root}.status", "value")
    if request.intent != "order":
        mapped.refuse("A referral is made with intent order.", f"{root}.intent", "value")
    _authority(request, root, resources, mapped)
    _reason(request, root, mapped)
    agency = next(((i, ident) for i, ident in enumerate(request.identifier or [])
                   if ident.system != v.REFERENCE), None)
    if agency is not None:
        mapped.put("agency_reference", agency[1].value, f"{root}.identifier[{agency[0]}].value")
    _service_request_extensions(request, root, mapped)
    patient = resources.find(request.subject, f"{root}.subject", ("Patient",), mapped)
    if patient is not None:
        _patient(*patient, mapped)
    requester = resources.find(request.requester, f"{root}.requester", REQUESTER_TYPES, mapped)
    if requester is not None:
        _requester(*requester, resources, mapped)
    _consent(request, root, resources, mapped)
    if mapped.issues:
        raise FhirRefused(400, mapped.issues)
    return mapped


def _no_modifier_extensions(resource: Any, path: str, mapped: Mapped) -> None:
    """A modifier extension changes what a resource means: one not understood must be refused."""
    if getattr(resource, "modifierExtension", None):
        mapped.refuse("This service does not read modifier extensions: leave them out.",
                      f"{path}.modifierExtension", "not-supported")


def _authority(request: Any, root: str, resources: _Resources, mapped: Mapped) -> None:
    performers = request.performer or []
    if len(performers) > 1:
        mapped.refuse("Name one housing authority: the one the person chose.",
                      f"{root}.performer", "value")
        return
    if not performers:
        return
    path = f"{root}.performer[0]"
    performer = performers[0]
    identifier = performer.identifier
    if identifier is None and performer.reference:
        found = resources.find(performer, path, ("Organization",), mapped)
        if found is None:
            return
        organisation, path = found
        identifiers = [(i, ident) for i, ident in enumerate(organisation.identifier or [])
                       if ident.system == v.GSS_CODE]
        if not identifiers:
            mapped.where["authority_code"] = f"{path}.identifier"
            return
        index, identifier = identifiers[0]
        path = f"{path}.identifier[{index}]"
    else:
        path = f"{path}.identifier"
    if identifier is not None and identifier.system not in (None, v.GSS_CODE):
        mapped.refuse(f"Identify the housing authority by its GSS code (system {v.GSS_CODE}).",
                      f"{path}.system", "value")
        return
    mapped.put("authority_code", getattr(identifier, "value", None), f"{path}.value")


def _reason(request: Any, root: str, mapped: Mapped) -> None:
    reasons = request.reasonCode or []
    if reasons:
        mapped.put("reason", reasons[0].text, f"{root}.reasonCode[0].text")


# --- Extensions -------------------------------------------------------------------------------


def _value(extension: Any) -> Any:
    """An extension's value[x], whatever its type (the schema checks the type it needs)."""
    return next((value for name, value in extension if name.startswith("value")
                 and value is not None), None)


def _ours(owner: Any, path: str, allowed: dict[str, bool],
          mapped: Mapped) -> dict[str, list[tuple[Any, str]]]:
    """Our extensions on ``owner`` by name, each with its path; any other URL in our namespace
    is refused (a misspelt one must not drop data); others' extensions are ignored."""
    found: dict[str, list[tuple[Any, str]]] = {}
    prefix = v.extension("")
    for index, extension in enumerate(getattr(owner, "extension", None) or []):
        url = extension.url or ""
        if not url.startswith(v.NAMESPACE):
            continue
        name = url.removeprefix(prefix)
        expression = f"{path}.extension[{index}]"
        if not url.startswith(prefix) or name not in allowed:
            mapped.refuse("Not an extension this service defines here: check its URL "
                          "(docs/fhir.md lists them).", f"{expression}.url", "not-supported")
            continue
        if name in found and not allowed[name]:
            mapped.refuse("Give this extension once.", expression, "value")
            continue
        found.setdefault(name, []).append((extension, expression))
    return found


def _parts(extension: Any, expression: str, names: Iterable[str],
           mapped: Mapped) -> dict[str, tuple[Any, str]]:
    """The parts of a complex extension (``extension.url`` is the part's name)."""
    wanted = set(names)
    parts: dict[str, tuple[Any, str]] = {}
    for index, part in enumerate(extension.extension or []):
        path = f"{expression}.extension[{index}]"
        if part.url not in wanted or part.url in parts:
            mapped.refuse("Not a part of this extension, or given twice: parts are "
                          + ", ".join(sorted(wanted)) + ".", f"{path}.url", "structure")
            continue
        parts[part.url] = (_value(part), f"{path}.value")
    return parts


def _simple(found: dict[str, list[tuple[Any, str]]], name: str, key: str,
            mapped: Mapped) -> None:
    for extension, expression in found.get(name, [])[:1]:
        mapped.put(key, _value(extension), f"{expression}.value")


def _service_request_extensions(request: Any, root: str, mapped: Mapped) -> None:
    found = _ours(request, root, v.SERVICE_REQUEST_EXTENSIONS, mapped)
    for name in ("housing-situation", "at-risk-of-rough-sleeping-tonight", "homelessness-date",
                 "release-or-discharge-date", "current-location"):
        _simple(found, name, name.replace("-", "_"), mapped)
    needs = found.get("support-need", [])
    if needs:
        mapped.where["support_needs"] = needs[0][1]
        mapped.payload["support_needs"] = [_plain(_value(extension)) for extension, _ in needs]
        for index, (_, expression) in enumerate(needs):
            mapped.where[f"support_needs.{index}"] = f"{expression}.value"
    members = found.get("household-member", [])
    if members:
        mapped.where["household"] = members[0][1]
        mapped.payload["household"] = []
        for index, (extension, expression) in enumerate(members):
            member: dict[str, Any] = {}
            mapped.payload["household"].append(member)
            mapped.where[f"household.{index}"] = expression
            for part, (value, path) in _parts(extension, expression, v.HOUSEHOLD_MEMBER_PARTS,
                                              mapped).items():
                mapped.where[f"household.{index}.{part}"] = path
                if value is not None:
                    member[part] = _plain(value)
    for extension, expression in found.get("risk", [])[:1]:
        mapped.put("risk", {}, expression)
        for part, (value, path) in _parts(extension, expression, v.RISK_PARTS, mapped).items():
            mapped.put(f"risk.{v.RISK_PARTS[part]}", value, path)


# --- Patient, requester, consent --------------------------------------------------------------


def _telecom(owner: Any, path: str, prefix: str, mapped: Mapped) -> None:
    """The first email, and the first phone (a mobile first: it can take text messages)."""
    points = list(enumerate(getattr(owner, "telecom", None) or []))
    phones = [(i, p) for i, p in points if p.system in ("phone", "sms")]
    phones.sort(key=lambda item: item[1].use != "mobile")
    emails = [(i, p) for i, p in points if p.system == "email"]
    for key, chosen in (("phone", phones), ("email", emails)):
        if chosen and not mapped.has(f"{prefix}.{key}"):
            index, point = chosen[0]
            mapped.put(f"{prefix}.{key}", point.value, f"{path}.telecom[{index}].value")


def _human_name(owner: Any, path: str) -> tuple[Any, str] | None:
    names = list(enumerate(getattr(owner, "name", None) or []))
    if not names:
        return None
    index, name = next(((i, n) for i, n in names if n.use == "official"), names[0])
    return name, f"{path}.name[{index}]"


def _patient(patient: Any, path: str, mapped: Mapped) -> None:
    _no_modifier_extensions(patient, path, mapped)
    mapped.where.update({"person.first_name": f"{path}.name", "person.last_name": f"{path}.name",
                         "person": path})
    named = _human_name(patient, path)
    if named is not None:
        name, name_path = named
        given = " ".join(part for part in (name.given or []) if part)
        mapped.put("person.first_name", given or None, f"{name_path}.given")
        mapped.put("person.last_name", name.family, f"{name_path}.family")
    for index, identifier in enumerate(patient.identifier or []):
        if identifier.system == v.NHS_NUMBER:
            mapped.put("person.nhs_number", identifier.value, f"{path}.identifier[{index}].value")
            break
    mapped.put("person.date_of_birth", patient.birthDate, f"{path}.birthDate")
    _telecom(patient, path, "person", mapped)
    addresses = patient.address or []
    if addresses:
        address, where = addresses[0], f"{path}.address[0]"
        lines = [line for line in (address.line or []) if line]
        mapped.put("person.address", {}, where)
        mapped.put("person.address.line1", lines[0] if lines else None, f"{where}.line[0]")
        mapped.put("person.address.line2", ", ".join(lines[1:]) or None, f"{where}.line[1]")
        mapped.put("person.address.town", address.city, f"{where}.city")
        mapped.put("person.address.postcode", address.postalCode, f"{where}.postalCode")
    _language(patient, path, mapped)
    found = _ours(patient, path, v.PATIENT_EXTENSIONS, mapped)
    for name in ("preferred-contact-method", "interpreter-needed", "no-fixed-abode"):
        _simple(found, name, f"person.{name.replace('-', '_')}", mapped)
    for extension, expression in found.get("safe-contact", [])[:1]:
        mapped.put("person.safe_contact", {}, expression)
        for part, (value, part_path) in _parts(extension, expression, v.SAFE_CONTACT_PARTS,
                                               mapped).items():
            mapped.put(f"person.safe_contact.{part}", value, part_path)


def _language(patient: Any, path: str, mapped: Mapped) -> None:
    spoken = list(enumerate(patient.communication or []))
    if not spoken:
        return
    index, communication = next(((i, c) for i, c in spoken if c.preferred), spoken[0])
    language = communication.language
    codings = language.coding or []
    code = codings[0].code if codings and codings[0].code else language.text
    where = (f"{path}.communication[{index}].language.coding[0].code" if codings
             else f"{path}.communication[{index}].language.text")
    mapped.put("person.language", code, where)


def _requester(resource: Any, path: str, resources: _Resources, mapped: Mapped) -> None:
    _no_modifier_extensions(resource, path, mapped)
    mapped.where.update({"referrer": path, "referrer.name": f"{path}.name",
                         "referrer.email": f"{path}.telecom"})
    kind = resource.get_resource_type()
    if kind == "PractitionerRole":
        if resource.code:
            job = resource.code[0]
            title = job.text or next((c.display for c in job.coding or [] if c.display), None)
            mapped.put("referrer.job_title", title, f"{path}.code[0].text")
        _telecom(resource, path, "referrer", mapped)
        practitioner = resources.find(resource.practitioner, f"{path}.practitioner",
                                      ("Practitioner",), mapped)
        if practitioner is not None:
            _practitioner(*practitioner, mapped)
        organisation = resources.find(resource.organization, f"{path}.organization",
                                      ("Organization",), mapped)
        if organisation is not None:
            mapped.put("referrer.team", organisation[0].name, f"{organisation[1]}.name")
        elif resource.organization is not None and resource.organization.display:
            mapped.put("referrer.team", resource.organization.display,
                       f"{path}.organization.display")
    elif kind == "Practitioner":
        _practitioner(resource, path, mapped)
    else:  # an Organization: the team; the person's name is still needed (the schema says so)
        mapped.put("referrer.team", resource.name, f"{path}.name")
        _telecom(resource, path, "referrer", mapped)


def _practitioner(practitioner: Any, path: str, mapped: Mapped) -> None:
    named = _human_name(practitioner, path)
    if named is not None:
        name, name_path = named
        words = [*(name.prefix or []), *(name.given or []), name.family]
        full = name.text or " ".join(word for word in words if word) or None
        mapped.put("referrer.name", full, name_path)
    _telecom(practitioner, path, "referrer", mapped)


def _consent(request: Any, root: str, resources: _Resources, mapped: Mapped) -> None:
    consent: tuple[Any, str] | None = None
    for index, info in enumerate(request.supportingInfo or []):
        found = resources.find(info, f"{root}.supportingInfo[{index}]", ("Consent",), mapped)
        if found is not None and consent is None:
            consent = found
    if consent is None:
        bundled = [(r, p) for _, r, p in resources.entries if r.get_resource_type() == "Consent"]
        if len(bundled) == 1:
            consent = bundled[0]
    if consent is None:
        return
    resource, path = consent
    _no_modifier_extensions(resource, path, mapped)
    # Consent is given only by an active consent that permits (R4 provision.type: deny|permit).
    provision = resource.provision
    permits = resource.status == "active" and getattr(provision, "type", None) != "deny"
    mapped.put("consent.given", permits, f"{path}.status")
    mapped.put("consent.recorded_at", resource.dateTime, f"{path}.dateTime")
    _simple(_ours(resource, path, v.CONSENT_EXTENSIONS, mapped), "consent-notes",
            "consent.notes", mapped)

