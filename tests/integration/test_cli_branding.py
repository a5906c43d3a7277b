"""``referrals authority branding``: a council's own name and footer links (issue 15.6).

Bad input is refused with a message naming each field, a non-zero exit, and nothing changed
(the authority's settings and the audit log included). PostgreSQL refuses a NUL that SQLite
would store: the refusal comes before the database either way.
"""
from __future__ import annotations

from typing import Any

import pytest

from referral_service.domain import branding
from referral_service.models import Authority
from tests import factories as f
from tests.integration.test_cli import Cli, audit_events, ok, ok_json, one, refused, refused_json

LINKS = ("--accessibility-url", "https://www.welhat.example/accessibility",
         "--privacy-url", "https://www.welhat.example/privacy",
         "--contact-url", "https://www.welhat.example/contact")
EVERY_FIELD_UNSET = {name: None for name in branding.FIELDS}


@pytest.fixture
def welhat(db_session: Any) -> Authority:
    authority = f.authority()
    db_session.commit()
    return authority


def settings(session: Any) -> dict[str, str | None]:
    session.expire_all()
    return branding.as_dict(one(session, Authority, code="E07000241"))


def test_branding_sets_the_name_and_links_and_audits(cli: Cli, db_session: Any,
                                                     welhat: Authority) -> None:
    result = ok(cli, "authority", "branding", "--code", "e07000241",
                "--display-name", " Welwyn Hatfield Borough Council ", *LINKS)
    assert result.output.startswith("Changed display_name, accessibility_url, privacy_url, "
                                    "contact_url: authority E07000241 Welwyn Hatfield.")
    assert "privacy_url: https://www.welhat.example/privacy" in result.output
    assert settings(db_session) == {
        "display_name": "Welwyn Hatfield Borough Council",
        "accessibility_url": "https://www.welhat.example/accessibility",
        "privacy_url": "https://www.welhat.example/privacy",
        "contact_url": "https://www.welhat.example/contact"}
    [event] = audit_events(db_session, "authority.branding_changed")
    assert event.actor_label == "system:cli" and event.subject_id == str(welhat.id)
    assert event.details["fields"] == list(branding.FIELDS)


def test_branding_json_changes_only_what_is_given_and_clears_with_an_empty_value(
        cli: Cli, db_session: Any, welhat: Authority) -> None:
    ok(cli, "authority", "branding", "--code", "E07000241", "--display-name", "WHBC", *LINKS)
    document = ok_json(cli, "authority", "branding", "--code", "E07000241",
                       "--privacy-url", "https://www.welhat.example/privacy-notice",
                       "--contact-url", "")
    assert document == {
        "code": "E07000241", "name": "Welwyn Hatfield", "display_name": "WHBC",
        "accessibility_url": "https://www.welhat.example/accessibility",
        "privacy_url": "https://www.welhat.example/privacy-notice", "contact_url": None,
        "changed": ["privacy_url", "contact_url"]}
    assert settings(db_session)["contact_url"] is None


def test_branding_with_no_option_shows_the_settings_and_changes_nothing(
        cli: Cli, db_session: Any, welhat: Authority) -> None:
    document = ok_json(cli, "authority", "branding", "--code", "E07000241")
    assert document == {"code": "E07000241", "name": "Welwyn Hatfield", **EVERY_FIELD_UNSET,
                        "changed": []}
    sentence = ok(cli, "authority", "branding", "--code", "E07000241").output
    assert sentence.startswith("Unchanged: authority E07000241 Welwyn Hatfield.")
    assert "display_name: (not set)" in sentence
    assert audit_events(db_session, "authority.branding_changed") == []


def test_setting_the_same_values_again_is_a_no_op(cli: Cli, db_session: Any,
                                                  welhat: Authority) -> None:
    ok(cli, "authority", "branding", "--code", "E07000241", *LINKS)
    again = ok_json(cli, "authority", "branding", "--code", "E07000241", *LINKS)
    assert again["changed"] == []
    assert len(audit_events(db_session, "authority.branding_changed")) == 1


BAD = [
    pytest.param(("--privacy-url", "http://www.welhat.example/privacy"), "privacy_url",
                 "https://", id="plain-http"),
    pytest.param(("--contact-url", "javascript:alert(1)"), "contact_url", "https://",
                 id="javascript"),
    pytest.param(("--accessibility-url", "https://www.welhat.example/a\x00b"),
                 "accessibility_url", "https://", id="nul-in-url"),
    pytest.param(("--accessibility-url", "https://www.welhat.example/a b"),
                 "accessibility_url", "https://", id="space-in-url"),
    pytest.param(("--privacy-url", "https://someone:secret@www.welhat.example/"),
                 "privacy_url", "https://", id="credentials-in-url"),
    pytest.param(("--privacy-url", "https:///privacy"), "privacy_url", "https://",
                 id="no-host"),
    pytest.param(("--contact-url", "https://www.welhat.example/" + "c" * 2000), "contact_url",
                 "at most 2000 characters", id="url-too-long"),
    pytest.param(("--display-name", "Welwyn\x00Hatfield"), "display_name", "control characters",
                 id="nul-in-name"),
    pytest.param(("--display-name", "Welwyn\nHatfield"), "display_name", "line breaks",
                 id="line-break-in-name"),
    pytest.param(("--display-name", "W" * 201), "display_name", "at most 200 characters",
                 id="name-too-long"),
]


@pytest.mark.parametrize(("args", "field", "message"), BAD)
def test_branding_refuses_bad_input_and_changes_nothing(
        cli: Cli, db_session: Any, welhat: Authority, args: tuple[str, ...], field: str,
        message: str) -> None:
    ok(cli, "authority", "branding", "--code", "E07000241", "--display-name", "WHBC", *LINKS)
    before = settings(db_session)
    # A good value given alongside the bad one is not saved either.
    every = ("--code", "E07000241", "--contact-url", "https://www.welhat.example/new", *args)
    result = refused(cli, db_session, "authority", "branding", *every)
    assert f"{field}: " in result.output and message in result.output
    document = refused_json(cli, db_session, "authority", "branding", *every)
    assert list(document["errors"]) == [field]
    assert message in " ".join(document["errors"][field])
    assert settings(db_session) == before
    assert len(audit_events(db_session, "authority.branding_changed")) == 1


def test_branding_names_every_bad_field_at_once(cli: Cli, db_session: Any,
                                                welhat: Authority) -> None:
    document = refused_json(cli, db_session, "authority", "branding", "--code", "E07000241",
                            "--display-name", "\x07", "--privacy-url", "ftp://x.example",
                            "--contact-url", "https://ok.example/")
    assert sorted(document["errors"]) == ["display_name", "privacy_url"]
    assert settings(db_session) == EVERY_FIELD_UNSET


def test_branding_of_an_unknown_authority_is_refused(cli: Cli, db_session: Any) -> None:
    result = refused(cli, db_session, "authority", "branding", "--code", "E07000999",
                     "--display-name", "Nowhere")
    assert "No authority has the code 'E07000999'" in result.output
    document = refused_json(cli, db_session, "authority", "branding", "--code", "E07000999")
    assert "E07000999" in document["error"] and document["errors"] == {}
