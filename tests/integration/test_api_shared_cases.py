"""``/api/v1/shared-cases`` over real OAuth tokens: a panel system sees only its own live shares,
only its panel type's fields, 404 otherwise, and every read (refused or not) is recorded."""
from __future__ import annotations

import json
import uuid

import hypothesis
import pytest
import schemathesis
from flask import Flask
from schemathesis import checks
from sqlalchemy import func, select

from referral_service.domain import sharing
from referral_service.models import AccessAction, CaseAccessRecord
from tests import factories as f
from tests import panel_factories as pf
from tests.integration.test_redaction import MAPPA_KEYS, MARAC_KEYS, NEVER

BASE_KEYS = {"id", "panel_type", "marking", "share", "actions"}


def _panel_headers(client, org):  # type: ignore[no-untyped-def]
    return f.bearer_headers(client, f.api_client(org, scopes=("cases:shared",)))


def _records() -> list[CaseAccessRecord]:
    return list(f.db.session.scalars(select(CaseAccessRecord).order_by(
        CaseAccessRecord.occurred_at)))


def _count() -> int:
    return f.db.session.scalar(select(func.count()).select_from(CaseAccessRecord)) or 0


@pytest.fixture
def shared(client):  # type: ignore[no-untyped-def]
    w = pf.world()
    case = pf.mappa_case(w.referrer, risk={"marac": True})
    marac_share = pf.share(case, w.officer, w.marac)
    pf.share(case, w.officer, w.mappa)
    f.db.session.commit()
    return w, case, marac_share


def test_marac_system_gets_exactly_the_marac_fields(client, shared) -> None:  # type: ignore[no-untyped-def]
    w, case, marac_share = shared
    headers = _panel_headers(client, w.marac)
    response = client.get(f"/api/v1/shared-cases/{case.id}", headers=headers)
    assert response.status_code == 200, response.json
    body = response.json
    assert set(body) == MARAC_KEYS | BASE_KEYS
    assert body["marking"] == "OFFICIAL-SENSITIVE" and body["panel_type"] == "marac"
    assert body["share"]["id"] == str(marac_share.id)
    assert body["share"]["lawful_basis"]["code"] == "cda1998_s115"
    assert body["share"]["panel"] == {"id": str(w.marac.id), "name": w.marac.name,
                                      "type": "marac"}
    text = json.dumps(body)
    for value in NEVER:
        assert value not in text, value
    [entry] = _records()
    assert (entry.action, entry.channel, entry.referral_id) == (AccessAction.VIEW, "api", case.id)
    assert entry.ip_address == "127.0.0.1" and entry.client_id


def test_mappa_system_gets_exactly_the_mappa_fields(client, shared) -> None:  # type: ignore[no-untyped-def]
    w, case, _ = shared
    body = client.get(f"/api/v1/shared-cases/{case.id}",
                      headers=_panel_headers(client, w.mappa)).json
    assert set(body) == MAPPA_KEYS | BASE_KEYS
    assert body["mappa"] == {"level": 2, "category": 1}
    assert body["current_address"]["postcode"] == "AL8 6AB"


def test_list_shows_own_live_shares_only_and_is_recorded_once(client, shared) -> None:  # type: ignore[no-untyped-def]
    w, case, marac_share = shared
    unshared = pf.marac_case(w.referrer)
    f.db.session.commit()
    headers = _panel_headers(client, w.marac)
    items = client.get("/api/v1/shared-cases", headers=headers).json["items"]
    assert [i["id"] for i in items] == [str(case.id)]
    assert set(items[0]) == {"id", "panel_type", "share", "reference", "person_name",
                             "date_of_birth", "status"}
    assert str(unshared.id) not in json.dumps(items)
    [entry] = _records()
    assert entry.action is AccessAction.LIST and entry.listed_referral_ids == [str(case.id)]
    sharing.revoke(marac_share, by=w.officer)
    f.db.session.commit()
    assert client.get("/api/v1/shared-cases", headers=headers).json["items"] == []
    assert _count() == 2


@pytest.mark.parametrize("situation", ["revoked", "other_panel", "not_found", "not_shared"])
def test_anything_not_live_for_this_panel_is_404_and_recorded(client, shared, situation) -> None:  # type: ignore[no-untyped-def]
    w, case, marac_share = shared
    target = case.id
    org = w.marac
    if situation == "revoked":
        sharing.revoke(marac_share, by=w.officer)
    elif situation == "other_panel":
        org = pf.panel("marac")
    elif situation == "not_found":
        target = uuid.uuid4()
    else:
        target = pf.marac_case(w.referrer).id
    f.db.session.commit()
    headers = _panel_headers(client, org)
    response = client.get(f"/api/v1/shared-cases/{target}", headers=headers)
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    assert response.json["detail"] == "No case with that id is shared with your panel."
    [entry] = _records()
    assert entry.action is AccessAction.REFUSED and entry.refusal == situation
    assert entry.requested_id == str(target)


def test_a_referring_organisations_token_is_refused(client, shared) -> None:  # type: ignore[no-untyped-def]
    w, case, _ = shared
    headers = f.bearer_headers(client, f.api_client(w.referrer))
    response = client.get(f"/api/v1/shared-cases/{case.id}", headers=headers)
    assert response.status_code == 403
    assert 'error="insufficient_scope"' in response.headers["WWW-Authenticate"]
    assert _count() == 0


@pytest.mark.parametrize("org_type,scopes,words", [
    ("probation", "cases:shared", "A probation organisation cannot have: cases:shared."),
    ("marac", "referrals:read cases:shared", "A marac organisation cannot have: referrals:read."),
])
def test_only_panels_can_be_given_the_cases_shared_scope(cli, db_session, org_type, scopes,  # type: ignore[no-untyped-def]
                                                         words) -> None:
    org = f.organisation(name=f"Org {org_type}", type=org_type)
    result = cli("client", "add", "--org", org.name, "--scopes", scopes)
    assert result.exit_code == 1 and words in result.output
    ok = cli("client", "add", "--org", pf.panel("mappa").name, "--scopes", "cases:shared",
             "--json")
    assert ok.exit_code == 0 and json.loads(ok.output)["scopes"] == ["cases:shared"]


def test_openapi_documents_the_shared_case_schemas(client) -> None:  # type: ignore[no-untyped-def]
    spec = client.get("/api/v1/openapi.json").json
    get = spec["paths"]["/api/v1/shared-cases/{case_id}"]["get"]
    assert get["security"] == [{"partnerOAuth": ["cases:shared"]}]
    assert spec["paths"]["/api/v1/shared-cases"]["get"]["security"] == [
        {"partnerOAuth": ["cases:shared"]}]
    schemas = spec["components"]["schemas"]
    for name, keys in (("MaracSharedCase", MARAC_KEYS), ("MappaSharedCase", MAPPA_KEYS)):
        assert set(schemas[name]["properties"]) == keys | BASE_KEYS
        assert schemas[name]["additionalProperties"] is False
        assert set(schemas[name]["required"]) == keys | BASE_KEYS


@pytest.mark.parametrize("panel_type", ["marac", "mappa"])
def test_shared_cases_keep_to_their_document_for_a_panel_token(app: Flask, db_session,  # type: ignore[no-untyped-def]
                                                               panel_type) -> None:
    """Schemathesis with a panel's token (the main run uses a referrer's, which gets 403)."""
    w = pf.world()
    case = pf.mappa_case(w.referrer, risk={"marac": True})
    org = w.marac if panel_type == "marac" else w.mappa
    pf.share(case, w.officer, org)
    f.db.session.commit()
    headers = _panel_headers(app.test_client(), org)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()
                  if result.ok().path.startswith("/api/v1/shared-cases")]
    assert len(operations) == 2
    for operation in operations:
        # The real case's id first, so the 200 document itself is validated, not only 404s.
        if "{case_id}" in operation.path:
            operation.Case(path_parameters={"case_id": str(case.id)}).call_and_validate(
                headers=headers)
        modes = [schemathesis.GenerationMode.POSITIVE]
        if list(operation.iter_parameters()):
            modes.append(schemathesis.GenerationMode.NEGATIVE)
        for mode in modes:

            @hypothesis.given(case=operation.as_strategy(mode))  # type: ignore[attr-defined]
            @hypothesis.settings(max_examples=15, deadline=None, derandomize=True,
                                 database=None, suppress_health_check=list(hypothesis.HealthCheck))
            def run(case) -> None:  # type: ignore[no-untyped-def]
                case.call_and_validate(headers={**headers, **(case.headers or {})},
                                       excluded_checks=[checks.positive_data_acceptance])

            run()


def test_cli_lists_and_revokes_shares(cli, db_session) -> None:  # type: ignore[no-untyped-def]
    w = pf.world()
    case = pf.marac_case(w.referrer)
    made = pf.share(case, w.officer, w.marac)
    f.db.session.commit()
    listed = json.loads(cli("share", "list", "--referral", case.reference, "--json").output)
    assert [(i["id"], i["state"], i["panel_type"]) for i in listed["items"]] == [
        (str(made.id), "live", "marac")]
    text = cli("share", "list", "--referral", case.reference)
    last_day = sharing.last_day(made)
    assert text.exit_code == 0 and f"until {last_day.day} {last_day:%B %Y}" in text.output
    refused = cli("share", "revoke", "--share", str(made.id), "--by", w.marac_lead.email)
    assert refused.exit_code == 1 and "officers and team leaders" in refused.output
    assert cli("share", "revoke", "--share", "nope", "--by", w.officer.email).exit_code == 1
    done = cli("share", "revoke", "--share", str(made.id), "--by", w.officer.email,
               "--reason", "Panel system compromised", "--json")
    assert done.exit_code == 0 and json.loads(done.output)["state"] == "revoked"
    again = cli("share", "revoke", "--share", str(made.id), "--by", w.officer.email)
    assert again.exit_code == 0 and "Already revoked" in again.output
    assert cli("share", "list", "--referral", "DTR-NOPE00").exit_code == 1
