"""A council adds an applicant language with a file: checked at start-up, used, or refused.

``MESSAGE_TEMPLATES_DIR`` holds ``<code>.toml`` files; one that lacks a template, a variant or
an English placeholder stops the service starting, naming the file and the key.
"""
from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from notifications import languages, templates
from notifications.applicant_wording import ENGLISH, VARIANTS
from referral_service.app import create_app

DUE = datetime(2026, 11, 25, 17, 0, tzinfo=UTC)
REFERENCE = "DTR-HKQ7MX"

POLISH_DATES = '''[dates]
days = ["pon", "wt", "śr", "czw", "pt", "sob", "niedz"]
months = ["sty", "lut", "mar", "kwi", "maj", "cze", "lip", "sie", "wrz", "paź", "lis", "gru"]
am = ""
pm = ""
'''


def polish(**replace: str) -> str:
    """A complete Polish file ("[Rada] {council}: ... {reference}"), with any key replaced."""
    lines = [POLISH_DATES]
    for name, variants in VARIANTS.items():
        lines.append(f"[{name}]")
        for variant in variants:
            fields = sorted(languages.placeholders(ENGLISH.templates[name][variant]))
            text = replace.get(f"{name}.{variant}",
                               "Rada {council}: " + " ".join(f"{{{f}}}" for f in fields))
            lines.append(f"{variant} = {text!r}".replace("'", '"'))
    return "\n".join(lines) + "\n"


@pytest.fixture(autouse=True)
def built_in_only() -> Iterator[None]:
    yield
    languages.configure(None)  # the registry is the process's: leave it as it was


def directory_with(tmp_path: Path, name: str, text: str) -> Path:
    (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


def test_a_councils_file_adds_a_language(tmp_path: Path) -> None:
    languages.configure(directory_with(tmp_path, "pl.toml", polish()))
    body = templates.applicant_received("Welwyn Hatfield", "Jo Smith", None, DUE, REFERENCE,
                                        "pl-PL").body
    assert body.startswith("Rada Welwyn Hatfield: ")
    assert "Jo" in body and REFERENCE in body and "śr 25 lis, 5" in body
    # Welsh and English are still there; another language still falls back to English.
    assert templates.applicant_received("Caerdydd", None, None, DUE, REFERENCE,
                                        "cy").body.startswith("Cyngor Caerdydd")
    assert templates.applicant_received("Welwyn Hatfield", None, None, DUE, REFERENCE,
                                        "de").body.startswith("Welwyn Hatfield Council")


def test_a_councils_welsh_file_replaces_the_built_in_welsh(tmp_path: Path) -> None:
    languages.configure(directory_with(tmp_path, "cy.toml", polish()))
    assert templates.applicant_contact_failed("Caerdydd", None, None, REFERENCE,
                                              "cy").body.startswith("Rada Caerdydd")


@pytest.mark.parametrize(("text", "names"), [
    (polish(**{"applicant_received.team": "Rada {council}: {reference} {due} {officer}"}),
     ["applicant_received.team", "{due}, {reference}", "{officer}"]),
    (polish(**{"applicant_officer_changed.officer": "Rada {council} {reference}"}),
     ["applicant_officer_changed.officer", "{council}, {officer}, {reference}"]),
    (polish(**{"applicant_contact_failed.team": "Rada {council} {reference!r}"}),
     ["applicant_contact_failed.team", "broken placeholder"]),
    (polish(**{"applicant_contact_failed.team": "Rada {council} {reference.upper}"}),
     ["applicant_contact_failed.team", "broken placeholder"]),
    (polish(**{"applicant_contact_failed.team": "Rada {council {reference}"}),
     ["applicant_contact_failed.team", "broken placeholder"]),
    (polish().replace("team = ", "teams = "), ["unknown key applicant_received.teams"]),
    (polish().replace("[applicant_officer_changed]", "[applicant_officer_changd]"),
     ["unknown section [applicant_officer_changd]"]),
    (polish().replace('am = ""', ""), ["dates.am"]),
    (polish().replace('"niedz"', ""), ["dates.days", "7"]),
    (polish().split("[applicant_received]")[0], ["missing [applicant_received]"]),
    ("days = [", ["cannot be read as UTF-8 TOML"]),
])
def test_a_bad_file_refuses_start_up_naming_file_and_key(tmp_path: Path, text: str,
                                                          names: list[str]) -> None:
    directory = directory_with(tmp_path, "pl.toml", text)
    with pytest.raises(languages.WordingError) as refused:
        languages.configure(directory)
    assert str(directory / "pl.toml") in str(refused.value)
    for name in names:
        assert name in str(refused.value)
    # Nothing changed: Polish is still unknown (English).
    assert templates.applicant_contact_failed("Welwyn Hatfield", None, None, REFERENCE,
                                              "pl").body.startswith("Welwyn Hatfield Council")


def test_a_file_not_named_by_a_language_code_is_refused(tmp_path: Path) -> None:
    with pytest.raises(languages.WordingError, match=r"polish\.toml: name the file"):
        languages.configure(directory_with(tmp_path, "polish.toml", polish()))


def test_a_missing_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(languages.WordingError, match="is not a directory"):
        languages.configure(tmp_path / "nowhere")


def test_the_app_will_not_start_with_a_bad_wording_file(tmp_path: Path) -> None:
    directory = directory_with(tmp_path, "pl.toml", polish().replace("[dates]", "[datez]"))
    with pytest.raises(languages.WordingError, match=r"pl\.toml: unknown section \[datez\]"):
        create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://",
                    "SECRET_KEY": "test", "MESSAGE_TEMPLATES_DIR": str(directory)})


def test_the_app_starts_with_a_good_wording_file(tmp_path: Path) -> None:
    create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "test",
                "MESSAGE_TEMPLATES_DIR": str(directory_with(tmp_path, "pl.toml", polish()))})
    assert templates.applicant_contact_failed("Welwyn Hatfield", None, None, REFERENCE,
                                              "pl").body.startswith("Rada Welwyn Hatfield")
