"""Supporting documents through the partner API (API.md §2): checked by content, limited in
size and number, kept outside the database with their SHA-256, every download audited."""
from __future__ import annotations

import hashlib
import stat
import uuid

import pytest

from referral_service.extensions import db
from referral_service.models import ReferralDocument
from tests import document_samples as samples
from tests import factories as f
from tests import panel_factories as pf
from tests.integration.documents_support import (
    audited,
    documents_held,
    partner,
    stored_files,
    upload,
)

__all__ = ["partner"]  # a fixture


def test_a_pdf_is_kept_outside_the_database_with_its_hash_and_uploader(  # type: ignore[no-untyped-def]
        app, client, partner) -> None:
    before = set(stored_files(app))
    data = samples.pdf()
    response = upload(client, partner, data, name="Notice to quit.pdf")
    assert response.status_code == 201, response.json
    body = response.json
    assert body["filename"] == "Notice to quit.pdf"
    assert body["media_type"] == "application/pdf"
    assert body["size"] == len(data)
    assert body["sha256"] == hashlib.sha256(data).hexdigest()
    assert body["uploaded_by"] == "referrer"
    assert body["scan_status"] == "not_scanned"  # no CLAMD_SOCKET in tests
    assert response.headers["Location"] == (
        f"/api/v1/referrals/{partner['referral'].id}/documents/{body['id']}")
    row = db.session.get(ReferralDocument, uuid.UUID(body["id"]))
    assert row is not None and row.uploaded_by_client_id == partner["issued"].client.client_id
    new = set(stored_files(app)) - before
    assert [path.name for path in new] == [row.storage_key]
    kept = new.pop()
    assert kept.read_bytes() == data and "Notice" not in kept.name
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    [event] = audited("document.uploaded")
    assert event.subject_id == body["id"] and event.details["sha256"] == body["sha256"]


def test_every_download_is_audited_and_sent_as_an_attachment(client, partner) -> None:  # type: ignore[no-untyped-def]
    data = samples.png()
    made = upload(client, partner, data, name="photo of letter.png").json
    path = f"/api/v1/referrals/{partner['referral'].id}/documents/{made['id']}"
    for _ in range(2):
        response = client.get(path, headers=partner["headers"])
        assert response.status_code == 200
        assert response.data == data
        assert response.mimetype == "image/png"
        assert response.headers["Content-Disposition"].startswith("attachment")
        assert "photo of letter.png" in response.headers["Content-Disposition"]
        assert response.headers["Cache-Control"] == "no-store"
    events = audited("document.downloaded")
    assert len(events) == 2 and {e.subject_id for e in events} == {made["id"]}
    assert all(e.actor_client_id == partner["issued"].client.client_id for e in events)
    listing = client.get(f"/api/v1/referrals/{partner['referral'].id}/documents",
                         headers=partner["headers"]).json
    assert [item["id"] for item in listing["items"]] == [made["id"]]


@pytest.mark.parametrize(("make", "name", "media_type"), [
    (samples.jpeg, "scan.jpg", "image/jpeg"),
    (samples.docx, "support letter.docx",
     "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
])
def test_images_and_word_documents_are_accepted(client, partner, make, name,  # type: ignore[no-untyped-def]
                                                 media_type) -> None:
    response = upload(client, partner, make(), name=name)
    assert response.status_code == 201, response.json
    assert response.json["media_type"] == media_type


@pytest.mark.parametrize(("make", "name"), [
    (samples.windows_executable, "letter.pdf"),  # an .exe renamed .pdf
    (samples.plain_zip, "letter.docx"),
    (samples.xlsx, "letter.docx"),
    (samples.docm, "letter.docx"),  # Word with macros
    (lambda: b"<html><script>alert(1)</script></html>", "letter.pdf"),
])
def test_other_kinds_of_file_are_refused_by_content_whatever_the_name(  # type: ignore[no-untyped-def]
        app, client, partner, make, name) -> None:
    before = stored_files(app)
    response = upload(client, partner, make(), name=name)
    assert response.status_code == 415
    assert response.mimetype == "application/problem+json"
    assert "PDF" in response.json["detail"]
    assert documents_held() == 0 and stored_files(app) == before


def test_a_file_over_10_mb_is_refused_with_413_and_nothing_kept(app, client, partner) -> None:  # type: ignore[no-untyped-def]
    before = stored_files(app)
    just_over = samples.pdf() + b"0" * (10 * 1024 * 1024)
    response = upload(client, partner, just_over)
    assert response.status_code == 413
    assert response.mimetype == "application/problem+json"
    far_over = b"0" * (11 * 1024 * 1024)  # refused from its Content-Length, before reading
    response = upload(client, partner, far_over)
    assert response.status_code == 413
    assert response.mimetype == "application/problem+json"
    assert documents_held() == 0 and stored_files(app) == before


def test_json_endpoints_keep_their_64_kib_limit(client, partner) -> None:  # type: ignore[no-untyped-def]
    body = f.payload(reason="x" * (70 * 1024))
    response = client.post("/api/v1/referrals", json=body, headers=partner["headers"])
    assert response.status_code == 413


def test_a_referral_takes_at_most_20_documents(client, partner) -> None:  # type: ignore[no-untyped-def]
    for number in range(20):
        assert upload(client, partner, samples.pdf(), name=f"{number}.pdf").status_code == 201
    response = upload(client, partner, samples.pdf(), name="21.pdf")
    assert response.status_code == 409
    assert "20" in response.json["detail"]
    assert documents_held() == 20


def test_missing_file_and_wrong_body_type_are_refused(client, partner) -> None:  # type: ignore[no-untyped-def]
    path = f"/api/v1/referrals/{partner['referral'].id}/documents"
    empty = client.post(path, data={"other": "x"}, content_type="multipart/form-data",
                        headers=partner["headers"])
    assert empty.status_code == 400 and "file" in empty.json["errors"]
    as_json = client.post(path, json={"file": "aGVsbG8="}, headers=partner["headers"])
    assert as_json.status_code == 415
    assert upload(client, partner, b"").status_code == 400
    assert documents_held() == 0


def test_a_control_character_in_the_file_name_is_refused(client, partner) -> None:  # type: ignore[no-untyped-def]
    for name in ("notice\x00.pdf", "notice\x1b.pdf"):
        response = upload(client, partner, samples.pdf(), name=name)
        assert response.status_code == 400, name
        assert response.mimetype == "application/problem+json"
    assert documents_held() == 0


def test_another_organisations_referral_and_documents_are_404(client, partner) -> None:  # type: ignore[no-untyped-def]
    made = upload(client, partner, samples.pdf()).json
    other_org = f.organisation(name="Kent Social Care", type="adult_social_care")
    other_issued = f.api_client(other_org)
    own_referral = f.referral(other_org)
    db.session.commit()
    other = f.bearer_headers(client, other_issued)
    referral_id = partner["referral"].id
    assert client.get(f"/api/v1/referrals/{referral_id}/documents/{made['id']}",
                      headers=other).status_code == 404
    assert upload(client, partner, samples.pdf(), headers=other).status_code == 404
    # Its own referral with another referral's document id: still 404.
    assert client.get(f"/api/v1/referrals/{own_referral.id}/documents/{made['id']}",
                      headers=other).status_code == 404
    assert audited("document.downloaded") == []


def test_upload_needs_write_and_download_needs_read(client, partner) -> None:  # type: ignore[no-untyped-def]
    made = upload(client, partner, samples.pdf()).json
    read_only = f.bearer_headers(client, partner["issued"], scope="referrals:read")
    write_only = f.bearer_headers(client, partner["issued"], scope="referrals:write")
    assert upload(client, partner, samples.pdf(), headers=read_only).status_code == 403
    path = f"/api/v1/referrals/{partner['referral'].id}/documents/{made['id']}"
    assert client.get(path, headers=write_only).status_code == 403
    assert client.get(path).status_code == 401


def test_panels_never_see_documents(client, partner) -> None:  # type: ignore[no-untyped-def]
    """Shares have no option to include documents, so a shared case never shows them."""
    f.authority()
    officer = f.officer(f.authority())
    case = pf.marac_case(partner["org"])
    marac = pf.panel("marac")
    pf.share(case, officer, marac)
    panel_issued = f.api_client(marac, scopes=("cases:shared",))
    db.session.commit()
    made = upload(client, partner, samples.pdf(), name="secret-plan.pdf",
                  referral_id=case.id).json
    panel = f.bearer_headers(client, panel_issued)
    shared = client.get(f"/api/v1/shared-cases/{case.id}", headers=panel)
    assert shared.status_code == 200
    text = shared.get_data(as_text=True)
    assert made["id"] not in text and "secret-plan" not in text
    assert client.get(f"/api/v1/referrals/{case.id}/documents/{made['id']}",
                      headers=panel).status_code in {403, 404}


def test_names_are_for_display_only(app, client, partner) -> None:  # type: ignore[no-untyped-def]
    made = upload(client, partner, samples.pdf(), name="../../Lettre d’expulsion “2”.pdf").json
    assert made["filename"] == "Lettre d’expulsion “2”.pdf"  # no directories
    row = db.session.get(ReferralDocument, uuid.UUID(made["id"]))
    assert row is not None
    assert [p.name for p in stored_files(app) if p.name == row.storage_key] == [row.storage_key]
    download = client.get(f"/api/v1/referrals/{partner['referral'].id}/documents/{made['id']}",
                          headers=partner["headers"])
    disposition = download.headers["Content-Disposition"]
    assert "filename*=UTF-8''Lettre%20d%E2%80%99expulsion" in disposition
    assert "/" not in disposition and ".." not in disposition
