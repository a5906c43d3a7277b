"""ReferralSubmissionSchema: the payload of POST /api/v1/referrals and every rule in API.md.

The clock is frozen (time-machine) for every test here, so "in the past" and "not in the
future" never depend on when the suite runs.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from marshmallow import ValidationError

from referral_service.models.enums import (
    CONTACT_METHODS,
    HOUSEHOLD_RELATIONSHIPS,
    HOUSING_SITUATIONS,
    SUPPORT_NEEDS,
)
from referral_service.schemas.errors import flatten_errors
from referral_service.schemas.referral import (
    CONSENT_MESSAGE,
    REACH_MESSAGE,
    ReferralSubmissionSchema,
)

NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)

# Marker for valid_payload(): remove this key.
DELETE = object()

_BASE_PAYLOAD: dict[str, Any] = {
    "authority_code": "E07000241",
    "referrer": {
        "name": "Sam Patel",
        "job_title": "Probation Officer",
        "team": "Kent PDU",
        "email": "sam.patel@example.org",
        "phone": "01632 960 001",
    },
    "consent": {
        "given": True,
        "recorded_at": "2026-11-20T10:15:00Z",
        "notes": "agreed in supervision",
    },
    "person": {
        "first_name": "Aoife",
        "last_name": "O'Neill",
        "date_of_birth": "1990-04-01",
        "nhs_number": "9434765919",
        "phone": "07700 900123",
        "email": "aoife@example.org",
        "address": {
            "line1": "Flat 2",
            "line2": "1 High Street",
            "town": "Welwyn",
            "postcode": "AL8 6AB",
        },
        "no_fixed_abode": False,
        "preferred_contact_method": "sms",
        "safe_contact": {
            "sms": True,
            "voicemail": False,
            "email": True,
            "letter": False,
            "instructions": "Do not leave messages with partner",
        },
        "language": "en",
        "interpreter_needed": False,
    },
    "household": [{"relationship": "child", "age": 4}],
    "housing_situation": "threatened_with_homelessness",
    "at_risk_of_rough_sleeping_tonight": False,
    "homelessness_date": "2026-12-18",
    "release_or_discharge_date": None,
    "current_location": "Private rented flat, section 21 notice served",
    "reason": "Section 21 notice expires 18 December; no savings for a deposit.",
    "support_needs": ["mental_health", "domestic_abuse"],
    "risk": {"marac": False, "mappa_level": None, "risk_to_staff": False, "details": ""},
    "agency_reference": "PRB-55121",
}


def valid_payload(**overrides: Any) -> dict[str, Any]:
    """A payload that loads (the API.md example with safe test data), with changes.

    Keys reach into nested objects with double underscores, ``person__phone="..."``; a value
    of ``DELETE`` removes the key. Phones are Ofcom drama numbers; emails are at example.org.
    """
    payload = copy.deepcopy(_BASE_PAYLOAD)
    for key, value in overrides.items():
        *parents, leaf = key.split("__")
        target: Any = payload
        for part in parents:
            target = target[int(part)] if isinstance(target, list) else target[part]
        if value is DELETE:
            del target[leaf]
        else:
            target[leaf] = value
    return payload


def load(payload: Any) -> dict[str, Any]:
    return ReferralSubmissionSchema().load(payload)


def errors_of(payload: Any) -> dict[str, list[str]]:
    """The flattened errors for a payload that must be refused."""
    with pytest.raises(ValidationError) as caught:
        load(payload)
    return flatten_errors(caught.value.messages)


@pytest.fixture(autouse=True)
def frozen_clock() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


# --- The payload as a whole ---------------------------------------------------------------------


def test_the_api_example_loads_into_normalised_values() -> None:
    result = load(valid_payload())

    assert result["authority_code"] == "E07000241"
    assert result["referrer"]["phone"] == "+441632960001"
    assert result["person"]["phone"] == "+447700900123"
    assert result["person"]["address"]["postcode"] == "AL8 6AB"
    assert result["person"]["nhs_number"] == "9434765919"
    assert result["person"]["date_of_birth"] == dt.date(1990, 4, 1)
    assert result["consent"]["recorded_at"] == dt.datetime(2026, 11, 20, 10, 15, tzinfo=dt.UTC)
    assert result["homelessness_date"] == dt.date(2026, 12, 18)
    assert result["release_or_discharge_date"] is None
    assert result["household"] == [{"relationship": "child", "age": 4}]
    assert result["support_needs"] == ["mental_health", "domestic_abuse"]
    assert result["risk"] == {
        "marac": False,
        "mappa_level": None,
        "mappa_category": None,
        "risk_to_staff": False,
        "details": None,
    }


def test_output_has_the_same_keys_as_the_payload() -> None:
    payload = valid_payload()
    result = load(payload)

    assert set(result) == set(payload)
    assert set(result["referrer"]) == set(payload["referrer"])
    # Consent's scopes are optional (the defaults apply: texts and email, no panel).
    assert set(result["consent"]) == set(payload["consent"]) | {"scopes"}
    assert set(result["person"]) == set(payload["person"])
    assert set(result["person"]["address"]) == set(payload["person"]["address"])
    assert set(result["person"]["safe_contact"]) == set(payload["person"]["safe_contact"])
    assert set(result["risk"]) == set(payload["risk"]) | {"mappa_category"}
    assert type(result) is dict
    assert type(result["person"]) is dict


def test_loading_does_not_change_the_callers_payload() -> None:
    payload = valid_payload(person__address={"line1": " ", "postcode": ""}, person__email=" x ")
    before = copy.deepcopy(payload)
    with pytest.raises(ValidationError):
        load(payload)
    assert payload == before


def test_a_minimal_payload_gets_every_default() -> None:
    payload = {
        "authority_code": "E07000241",
        "referrer": {"name": "Sam Patel", "email": "sam.patel@example.org"},
        "consent": {"given": True},
        "person": {"first_name": "Aoife", "last_name": "O'Neill", "phone": "07700 900123"},
        "housing_situation": "homeless",
        "reason": "Sleeping in a car since Friday.",
    }

    result = load(payload)

    assert result == {
        "authority_code": "E07000241",
        "referrer": {
            "name": "Sam Patel",
            "job_title": None,
            "team": None,
            "email": "sam.patel@example.org",
            "phone": None,
        },
        "consent": {"given": True, "recorded_at": None, "notes": None, "scopes": None},
        "person": {
            "first_name": "Aoife",
            "last_name": "O'Neill",
            "date_of_birth": None,
            "nhs_number": None,
            "phone": "+447700900123",
            "email": None,
            "address": None,
            "no_fixed_abode": False,
            "preferred_contact_method": None,
            "safe_contact": {
                "sms": False,
                "voicemail": False,
                "email": False,
                "letter": False,
                "instructions": None,
            },
            "language": "en",
            "interpreter_needed": False,
        },
        "household": [],
        "housing_situation": "homeless",
        "at_risk_of_rough_sleeping_tonight": False,
        "homelessness_date": None,
        "release_or_discharge_date": None,
        "current_location": None,
        "reason": "Sleeping in a car since Friday.",
        "support_needs": [],
        "risk": {
            "marac": False,
            "mappa_level": None,
            "mappa_category": None,
            "risk_to_staff": False,
            "details": None,
        },
        "agency_reference": None,
    }


def test_defaults_are_fresh_for_every_load() -> None:
    minimal = valid_payload(household=DELETE, support_needs=DELETE, risk=DELETE)
    first = load(minimal)
    first["household"].append("x")
    first["risk"]["marac"] = True
    second = load(minimal)
    assert second["household"] == []
    assert second["risk"]["marac"] is False


@pytest.mark.parametrize(
    ("payload", "key"),
    [
        pytest.param([], "_schema", id="list"),
        pytest.param("referral", "_schema", id="string"),
        pytest.param(None, "_schema", id="null"),
        pytest.param(valid_payload(person="Aoife"), "person", id="person-not-object"),
        pytest.param(valid_payload(referrer=[]), "referrer", id="referrer-not-object"),
        pytest.param(valid_payload(household={"age": 4}), "household", id="household-not-list"),
        pytest.param(valid_payload(household=[4]), "household.0", id="household-item-not-object"),
        pytest.param(valid_payload(support_needs="other"), "support_needs", id="needs-not-list"),
        pytest.param(valid_payload(support_needs=[1]), "support_needs.0", id="need-not-string"),
        pytest.param(valid_payload(reason=42), "reason", id="reason-not-string"),
    ],
)
def test_wrong_types_are_refused_on_their_key(payload: Any, key: str) -> None:
    assert key in errors_of(payload)


# --- Unknown fields -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "key"),
    [
        pytest.param({"reasons": "typo"}, "reasons", id="top-level"),
        pytest.param({"referrer__emial": "x"}, "referrer.emial", id="referrer"),
        pytest.param({"consent__given_at": "x"}, "consent.given_at", id="consent"),
        pytest.param({"person__surname": "x"}, "person.surname", id="person"),
        pytest.param({"person__address__county": "x"}, "person.address.county", id="address"),
        pytest.param(
            {"person__safe_contact__whatsapp": True},
            "person.safe_contact.whatsapp",
            id="safe-contact",
        ),
        pytest.param({"household__0__name": "x"}, "household.0.name", id="household-member"),
        pytest.param({"risk__mappa": 1}, "risk.mappa", id="risk"),
    ],
)
def test_unknown_fields_are_refused(overrides: dict[str, Any], key: str) -> None:
    errors = errors_of(valid_payload(**overrides))
    assert errors == {key: ["Not a recognised field: check its name and spelling."]}


# --- Required fields ----------------------------------------------------------------------------

REQUIRED = [
    ("authority_code", "authority_code"),
    ("referrer", "referrer"),
    ("referrer__name", "referrer.name"),
    ("referrer__email", "referrer.email"),
    ("consent", "consent"),
    ("consent__given", "consent.given"),
    ("person", "person"),
    ("person__first_name", "person.first_name"),
    ("person__last_name", "person.last_name"),
    ("housing_situation", "housing_situation"),
    ("reason", "reason"),
    ("household__0__relationship", "household.0.relationship"),
    ("household__0__age", "household.0.age"),
]


@pytest.mark.parametrize(("field", "key"), REQUIRED, ids=[key for _, key in REQUIRED])
def test_required_field_missing_is_refused(field: str, key: str) -> None:
    errors = errors_of(valid_payload(**{field: DELETE}))
    assert list(errors) == [key]
    assert errors[key] != ["Missing data for required field."]  # says what to enter


@pytest.mark.parametrize(("field", "key"), REQUIRED, ids=[key for _, key in REQUIRED])
def test_required_field_null_is_refused_with_the_same_message(field: str, key: str) -> None:
    missing = errors_of(valid_payload(**{field: DELETE}))
    null = errors_of(valid_payload(**{field: None}))
    assert null == missing


BLANKABLE = [
    (field, key)
    for field, key in REQUIRED
    if field.split("__")[-1] not in ("referrer", "consent", "person", "given", "age")
]


@pytest.mark.parametrize(("field", "key"), BLANKABLE, ids=[key for _, key in BLANKABLE])
def test_required_text_blank_is_refused(field: str, key: str) -> None:
    assert list(errors_of(valid_payload(**{field: "   "}))) == [key]


@pytest.mark.parametrize(
    ("field", "message"),
    [
        pytest.param("person__first_name", "Enter the person's first name.", id="first-name"),
        pytest.param("person__last_name", "Enter the person's last name.", id="last-name"),
        pytest.param("referrer__name", "Enter the referrer's name.", id="referrer-name"),
        pytest.param("referrer__email", "Enter the referrer's email address.", id="referrer-email"),
        pytest.param("reason", "Enter the reason for the referral.", id="reason"),
    ],
)
def test_required_field_messages_say_what_to_enter(field: str, message: str) -> None:
    key = field.replace("__", ".")
    assert errors_of(valid_payload(**{field: ""})) == {key: [message]}


# --- Strings: stripped, blank optional ones are None -------------------------------------------


def test_strings_are_stripped() -> None:
    result = load(
        valid_payload(
            authority_code="  E07000241 ",
            person__first_name="\tAoife ",
            person__last_name=" O'Neill\n",
            reason="  Eviction notice.  ",
            referrer__job_title=" Probation Officer ",
        )
    )
    assert result["authority_code"] == "E07000241"
    assert result["person"]["first_name"] == "Aoife"
    assert result["person"]["last_name"] == "O'Neill"
    assert result["reason"] == "Eviction notice."
    assert result["referrer"]["job_title"] == "Probation Officer"


OPTIONAL_STRINGS = [
    "referrer__job_title",
    "referrer__team",
    "referrer__phone",
    "consent__notes",
    "person__nhs_number",
    "person__email",
    "person__address__line2",
    "person__address__town",
    "person__address__postcode",
    "person__safe_contact__instructions",
    "current_location",
    "risk__details",
    "agency_reference",
    "homelessness_date",
    "consent__recorded_at",
    "person__date_of_birth",
]


def _get(result: dict[str, Any], field: str) -> Any:
    value: Any = result
    for part in field.split("__"):
        value = value[part]
    return value


@pytest.mark.parametrize("field", OPTIONAL_STRINGS)
@pytest.mark.parametrize("blank", ["", "   ", None], ids=["empty", "spaces", "null"])
def test_empty_optional_values_become_none(field: str, blank: str | None) -> None:
    assert _get(load(valid_payload(**{field: blank})), field) is None


@pytest.mark.parametrize("blank", ["", " ", None, DELETE], ids=["empty", "space", "null", "absent"])
def test_blank_language_means_english(blank: Any) -> None:
    assert load(valid_payload(person__language=blank))["person"]["language"] == "en"


def test_language_is_kept() -> None:
    assert load(valid_payload(person__language=" pl "))["person"]["language"] == "pl"


# --- Lengths ------------------------------------------------------------------------------------

LIMITS = [
    ("authority_code", 20),
    ("person__first_name", 100),
    ("person__last_name", 100),
    ("person__language", 35),
    ("person__safe_contact__instructions", 500),
    ("current_location", 500),
    ("reason", 5000),
    ("risk__details", 2000),
    ("agency_reference", 100),
]


@pytest.mark.parametrize(("field", "limit"), LIMITS, ids=[field for field, _ in LIMITS])
def test_text_at_its_limit_is_accepted(field: str, limit: int) -> None:
    assert len(_get(load(valid_payload(**{field: "A" * limit})), field)) == limit


@pytest.mark.parametrize(("field", "limit"), LIMITS, ids=[field for field, _ in LIMITS])
def test_text_over_its_limit_is_refused(field: str, limit: int) -> None:
    key = field.replace("__", ".")
    errors = errors_of(valid_payload(**{field: "A" * (limit + 1)}))
    assert errors == {key: [f"Use {limit} characters or fewer."]}


def test_length_is_counted_after_stripping() -> None:
    assert load(valid_payload(authority_code=" " + "E" * 20 + " "))["authority_code"] == "E" * 20


# --- Consent ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "given",
    [
        pytest.param(False, id="false"),
        pytest.param(DELETE, id="missing"),
        pytest.param(None, id="null"),
    ],
)
def test_referral_without_consent_is_refused(given: Any) -> None:
    errors = errors_of(valid_payload(consent__given=given))
    assert errors == {"consent.given": [CONSENT_MESSAGE]}
    assert CONSENT_MESSAGE == (
        "Referral needs the person's consent (Housing Act 1996 s.213B). Ask them first."
    )


@pytest.mark.parametrize("given", ["true", "false", 1, 0, "yes", "on"])
def test_consent_must_be_the_json_boolean_true(given: Any) -> None:
    """Consent is recorded only from a plain ``true``: "true" or 1 is refused, not guessed at."""
    errors = errors_of(valid_payload(consent__given=given))
    assert errors == {"consent.given": [f"Give true (a JSON boolean). {CONSENT_MESSAGE}"]}


def test_consent_given_is_needed_even_without_the_consent_object() -> None:
    assert errors_of(valid_payload(consent=DELETE)) == {"consent": [CONSENT_MESSAGE]}


@pytest.mark.parametrize(
    ("recorded_at", "expected"),
    [
        pytest.param("2026-11-23T12:00:00Z", NOW, id="now"),
        pytest.param(
            "2026-11-23T12:04:59Z",
            NOW + dt.timedelta(minutes=4, seconds=59),
            id="within-5-minutes-skew",
        ),
        pytest.param("2026-11-23T12:05:00+00:00", NOW + dt.timedelta(minutes=5), id="at-skew"),
        pytest.param("2026-11-23T12:04:00", NOW + dt.timedelta(minutes=4), id="naive-is-utc"),
        pytest.param(
            "2026-11-23T13:04:00+01:00", NOW + dt.timedelta(minutes=4), id="offset-converted-to-utc"
        ),
        pytest.param("2020-01-01T00:00:00Z", dt.datetime(2020, 1, 1, tzinfo=dt.UTC), id="past"),
    ],
)
def test_consent_recorded_at_accepted(recorded_at: str, expected: dt.datetime) -> None:
    loaded = load(valid_payload(consent__recorded_at=recorded_at))["consent"]["recorded_at"]
    assert loaded == expected
    assert loaded.utcoffset() == dt.timedelta(0)


@pytest.mark.parametrize(
    "recorded_at",
    [
        pytest.param("2026-11-23T12:05:01Z", id="just-beyond-skew"),
        pytest.param("2026-11-23T12:06:00", id="naive-beyond-skew"),
        pytest.param("2026-11-23T11:06:00-01:00", id="offset-beyond-skew"),
        pytest.param("2027-01-01T00:00:00Z", id="next-year"),
    ],
)
def test_consent_recorded_in_the_future_is_refused(recorded_at: str) -> None:
    errors = errors_of(valid_payload(consent__recorded_at=recorded_at))
    assert errors == {
        "consent.recorded_at": ["The time consent was recorded cannot be in the future."]
    }


@pytest.mark.parametrize("recorded_at", ["yesterday", "20/11/2026 10:15", 1700000000])
def test_consent_recorded_at_must_be_iso_8601(recorded_at: Any) -> None:
    assert list(errors_of(valid_payload(consent__recorded_at=recorded_at))) == [
        "consent.recorded_at"
    ]


# --- Date of birth ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "date_of_birth",
    [
        pytest.param("2026-11-22", id="yesterday"),
        pytest.param("1900-01-01", id="earliest-allowed"),
        pytest.param("1990-04-01", id="typical"),
    ],
)
def test_date_of_birth_in_the_past_is_accepted(date_of_birth: str) -> None:
    loaded = load(valid_payload(person__date_of_birth=date_of_birth))
    assert loaded["person"]["date_of_birth"] == dt.date.fromisoformat(date_of_birth)


@pytest.mark.parametrize(
    ("date_of_birth", "message"),
    [
        pytest.param("2026-11-23", "Date of birth must be in the past.", id="today"),
        pytest.param("2026-11-24", "Date of birth must be in the past.", id="tomorrow"),
        pytest.param("2090-01-01", "Date of birth must be in the past.", id="far-future"),
        pytest.param(
            "1899-12-31", "Date of birth must be 1 January 1900 or later.", id="before-1900"
        ),
        pytest.param(
            "01/04/1990", "Enter a date in the format YYYY-MM-DD, like 1990-04-01.", id="uk-format"
        ),
        pytest.param(
            "1990-02-30",
            "Enter a date in the format YYYY-MM-DD, like 1990-04-01.",
            id="no-such-day",
        ),
    ],
)
def test_date_of_birth_refused(date_of_birth: str, message: str) -> None:
    errors = errors_of(valid_payload(person__date_of_birth=date_of_birth))
    assert errors == {"person.date_of_birth": [message]}


def test_date_of_birth_uses_the_date_in_london_not_utc() -> None:
    # 23:30 UTC on 30 June is 00:30 on 1 July in London (BST): 30 June is already the past.
    with time_machine.travel(dt.datetime(2026, 6, 30, 23, 30, tzinfo=dt.UTC), tick=False):
        before = valid_payload(person__date_of_birth="2026-06-30", consent__recorded_at=None)
        assert load(before)["person"]["date_of_birth"] == dt.date(2026, 6, 30)
        today = valid_payload(person__date_of_birth="2026-07-01", consent__recorded_at=None)
        assert errors_of(today) == {"person.date_of_birth": ["Date of birth must be in the past."]}


def test_date_of_birth_follows_the_clock() -> None:
    payload = valid_payload(person__date_of_birth="2030-01-01")
    assert "person.date_of_birth" in errors_of(payload)
    with time_machine.travel(dt.datetime(2030, 1, 2, 12, tzinfo=dt.UTC), tick=False):
        assert load(payload)["person"]["date_of_birth"] == dt.date(2030, 1, 1)


# --- Phones, emails, postcodes, NHS numbers inside the payload ----------------------------------


@pytest.mark.parametrize(
    ("field", "entered", "stored"),
    [
        pytest.param("person__phone", "+44 (0)7700 900 123", "+447700900123", id="person-phone"),
        pytest.param("referrer__phone", "(01632) 960 001", "+441632960001", id="referrer-phone"),
        pytest.param("person__email", " Aoife@EXAMPLE.org ", "Aoife@example.org", id="email"),
        pytest.param("referrer__email", "Sam@Example.ORG", "Sam@example.org", id="referrer-email"),
        pytest.param("person__address__postcode", "al86ab", "AL8 6AB", id="postcode"),
        pytest.param("person__nhs_number", "943-476-5919", "9434765919", id="nhs-number"),
    ],
)
def test_contact_details_are_normalised(field: str, entered: str, stored: str) -> None:
    assert _get(load(valid_payload(**{field: entered})), field) == stored


@pytest.mark.parametrize(
    ("field", "entered", "message"),
    [
        pytest.param(
            "person__phone",
            "0909 879 0000",
            "Enter a UK phone number, like 07700 900123 or 01632 960001.",
            id="premium",
        ),
        pytest.param(
            "person__phone",
            "+33 6 12 34 56 78",
            "Enter a UK phone number, like 07700 900123 or 01632 960001.",
            id="french",
        ),
        pytest.param(
            "referrer__phone",
            "01632",
            "Enter a UK phone number, like 07700 900123 or 01632 960001.",
            id="referrer",
        ),
        pytest.param(
            "person__email",
            "aoife@",
            "Enter an email address in the correct format, like name@example.org.",
            id="email",
        ),
        pytest.param(
            "referrer__email",
            "sam.patel",
            "Enter an email address in the correct format, like name@example.org.",
            id="referrer-email",
        ),
        pytest.param(
            "person__address__postcode",
            "AL8 6A",
            "Enter a real postcode, like AL8 6AB.",
            id="postcode",
        ),
        pytest.param(
            "person__nhs_number",
            "9434765918",
            "Enter a valid 10-digit NHS number.",
            id="nhs-number",
        ),
    ],
)
def test_bad_contact_details_are_refused_on_their_field(
    field: str, entered: str, message: str
) -> None:
    assert errors_of(valid_payload(**{field: entered})) == {field.replace("__", "."): [message]}


@pytest.mark.parametrize("field", ["person__phone", "person__email", "person__nhs_number"])
def test_non_string_contact_details_are_refused(field: str) -> None:
    assert list(errors_of(valid_payload(**{field: 7700900123}))) == [field.replace("__", ".")]


# --- Address ------------------------------------------------------------------------------------


def test_address_needs_a_first_line() -> None:
    errors = errors_of(valid_payload(person__address={"town": "Welwyn", "postcode": "AL8 6AB"}))
    assert errors == {"person.address.line1": ["Enter the first line of the address."]}


def test_address_postcode_is_optional() -> None:
    loaded = load(valid_payload(person__address={"line1": "Flat 2"}))
    assert loaded["person"]["address"] == {
        "line1": "Flat 2",
        "line2": None,
        "town": None,
        "postcode": None,
    }


@pytest.mark.parametrize(
    "address",
    [
        pytest.param(None, id="null"),
        pytest.param({}, id="empty-object"),
        pytest.param({"line1": "", "line2": " ", "town": None, "postcode": ""}, id="all-blank"),
    ],
)
def test_an_empty_address_means_no_address(address: Any) -> None:
    assert load(valid_payload(person__address=address))["person"]["address"] is None


def test_an_empty_address_is_not_a_route_to_the_person() -> None:
    payload = valid_payload(
        person__phone=None,
        person__email=None,
        person__preferred_contact_method=None,
        person__address={"line1": " ", "postcode": ""},
    )
    assert errors_of(payload) == {"person": [REACH_MESSAGE]}


def test_no_fixed_abode_is_kept() -> None:
    assert load(valid_payload(person__no_fixed_abode=True))["person"]["no_fixed_abode"] is True


# --- Choices ------------------------------------------------------------------------------------


def test_allowed_values_are_the_ones_in_api_md() -> None:
    assert SUPPORT_NEEDS == (
        "mental_health",
        "physical_health",
        "learning_disability",
        "drug_dependency",
        "alcohol_dependency",
        "offending_history",
        "domestic_abuse",
        "rough_sleeping",
        "repeat_homelessness",
        "care_leaver",
        "young_person",
        "young_parent",
        "armed_forces",
        "old_age",
        "sexual_exploitation",
        "budgeting_debt",
        "refugee",
        "other",
        # The H-CLIC categories the list lacked (issue 15.7; docs/hclic.md).
        "young_person_18_25",
        "care_leaver_18_20",
        "care_leaver_21_24",
        "care_leaver_25_plus",
        "non_domestic_abuse",
        "modern_slavery",
        "education_employment_training",
    )
    assert HOUSING_SITUATIONS == ("homeless", "threatened_with_homelessness")
    assert CONTACT_METHODS == ("sms", "phone", "email", "letter", "via_referrer")
    assert HOUSEHOLD_RELATIONSHIPS == (
        "partner",
        "child",
        "parent",
        "sibling",
        "other_adult",
        "other_child",
    )


@pytest.mark.parametrize("situation", HOUSING_SITUATIONS)
def test_housing_situation_accepted(situation: str) -> None:
    assert load(valid_payload(housing_situation=situation))["housing_situation"] == situation


@pytest.mark.parametrize("situation", ["Homeless", "at_risk", "rough_sleeping"])
def test_housing_situation_refused(situation: str) -> None:
    errors = errors_of(valid_payload(housing_situation=situation))
    assert errors == {
        "housing_situation": [
            "Choose the person's housing situation: one of homeless, threatened_with_homelessness."
        ]
    }


def test_every_support_need_is_accepted() -> None:
    loaded = load(valid_payload(support_needs=list(SUPPORT_NEEDS)))
    assert loaded["support_needs"] == list(SUPPORT_NEEDS)


def test_unknown_support_need_is_named_in_the_message() -> None:
    errors = errors_of(valid_payload(support_needs=["mental_health", "x"]))
    assert errors == {"support_needs.1": ["Not a recognised support need: 'x'."]}


def test_unknown_support_need_message_is_cut_short() -> None:
    errors = errors_of(valid_payload(support_needs=["lives with " + "y" * 500]))
    (message,) = errors["support_needs.0"]
    assert len(message) < 80
    assert message.startswith("Not a recognised support need: 'lives with y")


def test_duplicate_support_need_is_refused() -> None:
    errors = errors_of(valid_payload(support_needs=["mental_health", "refugee", "mental_health"]))
    assert errors == {
        "support_needs": ["List each support need once: 'mental_health' is repeated."]
    }


def test_blank_support_need_is_refused() -> None:
    assert list(errors_of(valid_payload(support_needs=["refugee", ""]))) == ["support_needs.1"]


@pytest.mark.parametrize("needs", [None, [], DELETE], ids=["null", "empty", "absent"])
def test_no_support_needs_is_an_empty_list(needs: Any) -> None:
    assert load(valid_payload(support_needs=needs))["support_needs"] == []


@pytest.mark.parametrize("method", CONTACT_METHODS)
def test_every_contact_method_is_accepted_when_its_route_is_there(method: str) -> None:
    payload = valid_payload(person__preferred_contact_method=method,
                            person__safe_contact__letter=True)
    assert load(payload)["person"]["preferred_contact_method"] == method


@pytest.mark.parametrize("method", ["SMS", "text", "whatsapp"])
def test_unknown_contact_method_is_refused(method: str) -> None:
    errors = errors_of(valid_payload(person__preferred_contact_method=method))
    assert list(errors) == ["person.preferred_contact_method"]


# --- Household ----------------------------------------------------------------------------------


@pytest.mark.parametrize("relationship", HOUSEHOLD_RELATIONSHIPS)
def test_every_household_relationship_is_accepted(relationship: str) -> None:
    loaded = load(valid_payload(household=[{"relationship": relationship, "age": 30}]))
    assert loaded["household"] == [{"relationship": relationship, "age": 30}]


@pytest.mark.parametrize(
    ("age", "expected"),
    [
        pytest.param(0, 0, id="newborn"),
        pytest.param(120, 120, id="oldest"),
        pytest.param("7", 7, id="digits-from-a-form"),
        pytest.param(" 7 ", 7, id="digits-with-spaces"),
    ],
)
def test_household_age_accepted(age: Any, expected: int) -> None:
    loaded = load(valid_payload(household=[{"relationship": "child", "age": age}]))
    assert loaded["household"][0]["age"] == expected


@pytest.mark.parametrize(
    ("age", "message"),
    [
        pytest.param(-1, "Enter an age from 0 to 120.", id="negative"),
        pytest.param(121, "Enter an age from 0 to 120.", id="too-old"),
        pytest.param(4.5, "Enter a whole number.", id="fraction"),
        pytest.param("4.5", "Enter a whole number.", id="fraction-string"),
        pytest.param("four", "Enter a whole number.", id="words"),
        pytest.param(True, "Enter a whole number.", id="boolean"),
    ],
)
def test_household_age_refused(age: Any, message: str) -> None:
    errors = errors_of(valid_payload(household=[{"relationship": "child", "age": age}]))
    assert errors == {"household.0.age": [message]}


def test_household_relationship_refused() -> None:
    errors = errors_of(valid_payload(household=[{"relationship": "cousin", "age": 9}]))
    assert list(errors) == ["household.0.relationship"]


def test_household_of_twenty_is_accepted() -> None:
    household = [{"relationship": "other_adult", "age": 30}] * 20
    assert len(load(valid_payload(household=household))["household"]) == 20


def test_household_over_twenty_is_refused() -> None:
    household = [{"relationship": "other_adult", "age": 30}] * 21
    assert errors_of(valid_payload(household=household)) == {
        "household": ["List up to 20 household members."]
    }


def test_null_household_is_an_empty_list() -> None:
    assert load(valid_payload(household=None))["household"] == []


# --- Dates, booleans, risk ----------------------------------------------------------------------


@pytest.mark.parametrize("field", ["homelessness_date", "release_or_discharge_date"])
def test_situation_dates_load_as_dates(field: str) -> None:
    assert load(valid_payload(**{field: "2026-11-25"}))[field] == dt.date(2026, 11, 25)


@pytest.mark.parametrize("field", ["homelessness_date", "release_or_discharge_date"])
def test_situation_dates_must_be_dates(field: str) -> None:
    assert list(errors_of(valid_payload(**{field: "next week"}))) == [field]


def test_at_risk_of_rough_sleeping_is_kept() -> None:
    loaded = load(valid_payload(at_risk_of_rough_sleeping_tonight=True))
    assert loaded["at_risk_of_rough_sleeping_tonight"] is True


@pytest.mark.parametrize(
    "field",
    [
        "at_risk_of_rough_sleeping_tonight",
        "person__interpreter_needed",
        "risk__marac",
        "person__safe_contact__voicemail",
    ],
)
def test_booleans_refuse_other_values(field: str) -> None:
    assert list(errors_of(valid_payload(**{field: "maybe"}))) == [field.replace("__", ".")]


@pytest.mark.parametrize(("level", "category"), [(1, 1), (2, 2), (3, 4), (None, None)])
def test_mappa_level_and_category_accepted(level: int | None, category: int | None) -> None:
    risk = load(valid_payload(risk__mappa_level=level, risk__mappa_category=category))["risk"]
    assert (risk["mappa_level"], risk["mappa_category"]) == (level, category)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        pytest.param("risk__mappa_level", 0, "MAPPA level is 1, 2 or 3.", id="level-0"),
        pytest.param("risk__mappa_level", 4, "MAPPA level is 1, 2 or 3.", id="level-4"),
        pytest.param("risk__mappa_category", 0, "MAPPA category is 1, 2, 3 or 4.", id="cat-0"),
        pytest.param("risk__mappa_category", 5, "MAPPA category is 1, 2, 3 or 4.", id="cat-5"),
        pytest.param("risk__mappa_level", 2.5, "Enter a whole number.", id="level-fraction"),
    ],
)
def test_mappa_out_of_range_is_refused(field: str, value: Any, message: str) -> None:
    assert errors_of(valid_payload(**{field: value})) == {field.replace("__", "."): [message]}


@pytest.mark.parametrize("risk", [None, DELETE], ids=["null", "absent"])
def test_risk_defaults_to_nothing_known(risk: Any) -> None:
    assert load(valid_payload(risk=risk))["risk"] == {
        "marac": False,
        "mappa_level": None,
        "mappa_category": None,
        "risk_to_staff": False,
        "details": None,
    }


def test_risk_flags_are_kept() -> None:
    loaded = load(valid_payload(risk={"marac": True, "risk_to_staff": True, "details": " Dog "}))
    assert loaded["risk"]["marac"] is True
    assert loaded["risk"]["risk_to_staff"] is True
    assert loaded["risk"]["details"] == "Dog"


# --- Ways to reach the person -------------------------------------------------------------------

NO_ROUTE = {
    "person__phone": None,
    "person__email": None,
    "person__address": None,
    "person__preferred_contact_method": None,
}


def test_no_way_to_reach_the_person_is_refused() -> None:
    assert errors_of(valid_payload(**NO_ROUTE)) == {"person": [REACH_MESSAGE]}
    assert REACH_MESSAGE == (
        "Give at least one way to reach the person: phone, email, address, or contact via the "
        "referrer."
    )


@pytest.mark.parametrize(
    "route",
    [
        pytest.param({"person__phone": "07700 900123"}, id="phone"),
        pytest.param({"person__phone": "01632 960001"}, id="landline"),
        pytest.param({"person__email": "aoife@example.org"}, id="email"),
        pytest.param({"person__address": {"line1": "Flat 2"}}, id="address"),
        pytest.param({"person__preferred_contact_method": "via_referrer"}, id="via-referrer"),
    ],
)
def test_any_one_way_to_reach_the_person_is_enough(route: dict[str, Any]) -> None:
    load(valid_payload(**{**NO_ROUTE, **route}))


@pytest.mark.parametrize(
    ("change", "key", "message"),
    [
        pytest.param(
            {"person__preferred_contact_method": "sms", "person__phone": None},
            "person.phone",
            "Enter a mobile number to contact the person by text message.",
            id="sms-without-phone",
        ),
        pytest.param(
            {"person__preferred_contact_method": "sms", "person__phone": "01632 960001"},
            "person.phone",
            "Text messages need a mobile number, like 07700 900123. "
            "Enter one or choose another way to contact the person.",
            id="sms-to-a-landline",
        ),
        pytest.param(
            {"person__preferred_contact_method": "sms", "person__safe_contact__sms": False},
            "person.safe_contact.sms",
            "Text messages must be marked safe for this person before they can be the "
            "preferred way to contact them.",
            id="sms-not-marked-safe",
        ),
        pytest.param(
            {"person__preferred_contact_method": "phone", "person__phone": None},
            "person.phone",
            "Enter a phone number to contact the person by phone.",
            id="phone-without-phone",
        ),
        pytest.param(
            {"person__preferred_contact_method": "email", "person__email": None},
            "person.email",
            "Enter an email address to contact the person by email.",
            id="email-without-email",
        ),
        pytest.param(
            {"person__preferred_contact_method": "email", "person__safe_contact__email": False},
            "person.safe_contact.email",
            "Email must be marked safe for this person before it can be the preferred way to "
            "contact them.",
            id="email-not-marked-safe",
        ),
        pytest.param(
            {"person__preferred_contact_method": "letter", "person__address": None,
             "person__safe_contact__letter": True},
            "person.address",
            "Enter an address to contact the person by letter.",
            id="letter-without-address",
        ),
        pytest.param(
            {"person__preferred_contact_method": "letter", "person__safe_contact__letter": False},
            "person.safe_contact.letter",
            "Letters must be marked safe for this person before they can be the preferred way "
            "to contact them.",
            id="letter-not-marked-safe",
        ),
    ],
)
def test_preferred_contact_method_needs_its_route(
    change: dict[str, Any], key: str, message: str
) -> None:
    assert errors_of(valid_payload(**change)) == {key: [message]}


def test_sms_to_a_safe_landline_is_refused_even_when_marked_safe() -> None:
    payload = valid_payload(
        person__preferred_contact_method="sms",
        person__phone="01632 960001",
        person__safe_contact__sms=True,
    )
    assert list(errors_of(payload)) == ["person.phone"]


def test_phone_preferred_needs_no_safe_flag() -> None:
    payload = valid_payload(
        person__preferred_contact_method="phone",
        person__phone="01632 960001",
        person__safe_contact={},
    )
    assert load(payload)["person"]["preferred_contact_method"] == "phone"


def test_all_contact_rule_errors_are_reported_together() -> None:
    payload = valid_payload(
        **{**NO_ROUTE, "person__preferred_contact_method": "sms"},
        person__safe_contact=None,
    )
    assert set(errors_of(payload)) == {"person", "person.phone", "person.safe_contact.sms"}


def test_contact_rules_wait_for_field_errors_to_be_fixed() -> None:
    # A bad phone is reported as a bad phone, not also as "no way to reach the person".
    payload = valid_payload(**{**NO_ROUTE, "person__phone": "0909 879 0000"})
    assert list(errors_of(payload)) == ["person.phone"]


# --- flatten_errors -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("messages", "flat"),
    [
        pytest.param({}, {}, id="nothing"),
        pytest.param({"reason": ["a"]}, {"reason": ["a"]}, id="top-level-field"),
        pytest.param(
            {"person": {"phone": ["a", "b"]}}, {"person.phone": ["a", "b"]}, id="nested-field"
        ),
        pytest.param(
            {"person": {"address": {"postcode": ["a"]}}},
            {"person.address.postcode": ["a"]},
            id="two-levels",
        ),
        pytest.param(
            {"household": {0: {"age": ["a"]}, 3: {"relationship": ["b"]}}},
            {"household.0.age": ["a"], "household.3.relationship": ["b"]},
            id="list-indexes",
        ),
        pytest.param({"support_needs": {1: ["a"]}}, {"support_needs.1": ["a"]}, id="list-item"),
        pytest.param({"_schema": ["a"]}, {"_schema": ["a"]}, id="top-level-schema"),
        pytest.param({"person": {"_schema": ["a"]}}, {"person": ["a"]}, id="nested-schema"),
        pytest.param(
            {"person": {"_schema": ["a"], "phone": ["b"]}, "reason": ["c"]},
            {"person": ["a"], "person.phone": ["b"], "reason": ["c"]},
            id="mixed",
        ),
        pytest.param(["a"], {"_schema": ["a"]}, id="bare-list"),
        pytest.param("a", {"_schema": ["a"]}, id="bare-string"),
    ],
)
def test_flatten_errors(messages: Any, flat: dict[str, list[str]]) -> None:
    assert flatten_errors(messages) == flat


def test_flatten_errors_on_a_real_load() -> None:
    payload = valid_payload(
        typo=1,
        person__phone="0909 879 0000",
        household=[{"relationship": "child", "age": 4}, {"relationship": "child", "age": -1}],
    )
    with pytest.raises(ValidationError) as caught:
        load(payload)
    assert flatten_errors(caught.value.messages) == {
        "typo": ["Not a recognised field: check its name and spelling."],
        "person.phone": ["Enter a UK phone number, like 07700 900123 or 01632 960001."],
        "household.1.age": ["Enter an age from 0 to 120."],
    }
