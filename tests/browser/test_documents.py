"""Documents on the referral pages in Chromium: the officer uploads one with the GOV.UK file
upload, sees it listed with its virus-scan status, sends a file of the wrong kind and sees the
error; the referrer sees the council's document and adds one. axe-core checks each state."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from tests import document_samples as samples
from tests.browser.steps import check, press, sign_in, sign_out, success_banner
from tests.web_helpers import make_team


def test_officer_and_referrer_share_documents(live_server, page, shots) -> None:  # type: ignore[no-untyped-def]
    with live_server.data():
        team = make_team()
        emails = team.emails()
        referral_id = team.named.id
    base = live_server.url

    sign_in(page, base, emails["officer"])
    page.goto(f"{base}/casework/referrals/{referral_id}")
    expect(page.get_by_role("heading", name="Documents")).to_be_visible()
    expect(page.locator("#documents ~ p").first).to_contain_text("No documents yet")
    check(page, shots, "officer-documents-empty")

    page.get_by_label("Add a document").set_input_files(
        {"name": "housing-letter.pdf", "mimeType": "application/pdf", "buffer": samples.pdf()})
    press(page, "Upload document")
    success_banner(page, "The document was added")
    row = page.locator("table tr", has_text="housing-letter.pdf")
    expect(row).to_contain_text("Not scanned")
    expect(row).to_contain_text("Council")
    check(page, shots, "officer-documents-one")

    page.get_by_label("Add a document").set_input_files(
        {"name": "setup.pdf", "mimeType": "application/pdf",
         "buffer": samples.windows_executable()})
    press(page, "Upload document")
    expect(page.locator(".govuk-error-summary")).to_contain_text("The file must be a PDF")
    expect(page).to_have_title(re.compile("^Error:"))
    check(page, shots, "officer-documents-refused")
    sign_out(page)

    sign_in(page, base, emails["referrer"])
    page.goto(f"{base}/referrer/referrals/{referral_id}")
    expect(page.locator("table")).to_contain_text("housing-letter.pdf")
    page.get_by_label("Add a document").set_input_files(
        {"name": "support-plan.docx", "buffer": samples.docx(),
         "mimeType": "application/octet-stream"})
    press(page, "Upload document")
    expect(page.locator("table")).to_contain_text("support-plan.docx")
    check(page, shots, "referrer-documents")
    with page.expect_download() as downloading:
        page.get_by_role("link", name="housing-letter.pdf").click()
    assert downloading.value.suggested_filename == "housing-letter.pdf"
