"""The small validators and normalisers in referral_service.validation.

Phone numbers are Ofcom's drama ranges only (07700 900000-900999, 01632 960000-960999), except
where a test needs a number of another kind (premium rate, freephone, French), and those are
made up; emails are at example.org.
"""

from __future__ import annotations

import string

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from marshmallow import ValidationError

from referral_service.validation import (
    EMAIL_MESSAGE,
    NHS_NUMBER_MESSAGE,
    PHONE_MESSAGE,
    POSTCODE_MESSAGE,
    check_nhs_number,
    is_mobile_e164,
    normalise_email,
    normalise_postcode,
    normalise_uk_phone,
    postcode_district,
)

# --- Phone numbers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entered", "e164"),
    [
        pytest.param("07700 900123", "+447700900123", id="mobile-national-spaced"),
        pytest.param("07700900123", "+447700900123", id="mobile-national-compact"),
        pytest.param("+44 7700 900123", "+447700900123", id="mobile-international"),
        pytest.param("+447700900123", "+447700900123", id="mobile-e164"),
        pytest.param("0044 7700 900123", "+447700900123", id="mobile-00-prefix"),
        pytest.param("+44 (0)7700 900123", "+447700900123", id="mobile-bracketed-trunk-zero"),
        pytest.param("07700-900-123", "+447700900123", id="mobile-hyphens"),
        pytest.param("07700.900.123", "+447700900123", id="mobile-dots"),
        pytest.param("  07700 900123  ", "+447700900123", id="surrounding-spaces"),
        pytest.param("07700\u00a0900123", "+447700900123", id="non-breaking-space"),
        pytest.param("(01632) 960 001", "+441632960001", id="geographic-bracketed-area-code"),
        pytest.param("01632 960001", "+441632960001", id="geographic-national"),
        pytest.param("+44 (0)1632 960001", "+441632960001", id="geographic-international-(0)"),
        pytest.param("0044 1632 960001", "+441632960001", id="geographic-00-prefix"),
        pytest.param("016977 1234", "+44169771234", id="geographic-9-digit-area"),
        pytest.param("020 7946 0000", "+442079460000", id="london"),
        pytest.param("0300 123 4567", "+443001234567", id="non-geographic-03"),
        pytest.param("0800 123 4567", "+448001234567", id="freephone-10-digit"),
        pytest.param("0800 123456", "+44800123456", id="freephone-9-digit"),
        pytest.param("0808 157 0000", "+448081570000", id="freephone-0808"),
    ],
)
def test_phone_accepted_and_normalised_to_e164(entered: str, e164: str) -> None:
    assert normalise_uk_phone(entered) == e164


@pytest.mark.parametrize(
    "entered",
    [
        pytest.param("0909 879 0000", id="premium-rate-09"),
        pytest.param("+44 909 879 0000", id="premium-rate-09-international"),
        pytest.param("0871 123 4567", id="service-number-087"),
        pytest.param("0845 123 4567", id="service-number-084"),
        pytest.param("0500 123456", id="old-freephone-0500"),
        pytest.param("0560 123 4567", id="voip-056"),
        pytest.param("+33 6 12 34 56 78", id="french-mobile"),
        pytest.param("0033 6 12 34 56 78", id="french-mobile-00"),
        pytest.param("+1 202 555 0123", id="us-number"),
        pytest.param("+353 85 123 4567", id="irish-mobile"),
        pytest.param("07700 90012", id="mobile-one-digit-short"),
        pytest.param("07700 9001234", id="mobile-one-digit-long"),
        pytest.param("01632 9600", id="geographic-too-short"),
        pytest.param("020 7946 000", id="london-too-short"),
        pytest.param("0800 12345", id="freephone-too-short"),
        pytest.param("7700 900123", id="no-leading-zero-or-country-code"),
        pytest.param("447700900123", id="country-code-without-plus"),
        pytest.param("0800 FLOWERS", id="letters"),
        pytest.param("01632 960001 ext 12", id="extension"),
        pytest.param("tel:+447700900123", id="tel-uri"),
        pytest.param("++447700900123", id="double-plus"),
        pytest.param("0\uff17\uff17\uff10\uff10 900123", id="full-width-digits"),
        pytest.param("", id="empty"),
        pytest.param("   ", id="blank"),
        pytest.param("+", id="plus-only"),
        pytest.param("0", id="zero-only"),
        pytest.param("00", id="international-prefix-only"),
        pytest.param("+44 0", id="country-code-only"),
        pytest.param("+999 123456", id="unassigned-country-code"),
        pytest.param("999", id="emergency-number"),
        pytest.param("0" * 30, id="very-long"),
    ],
)
def test_phone_refused_with_actionable_message(entered: str) -> None:
    with pytest.raises(ValidationError) as caught:
        normalise_uk_phone(entered)
    assert caught.value.messages == [PHONE_MESSAGE]


def test_phone_message_gives_examples() -> None:
    assert PHONE_MESSAGE == "Enter a UK phone number, like 07700 900123 or 01632 960001."


@pytest.mark.parametrize(
    ("e164", "mobile"),
    [
        pytest.param("+447700900123", True, id="077-drama-mobile"),
        pytest.param("+447123456789", True, id="071"),
        pytest.param("+447512345678", True, id="075"),
        pytest.param("+447912345678", True, id="079"),
        pytest.param("+447624123456", True, id="isle-of-man-07624"),
        pytest.param("+447012345678", False, id="070-personal-number"),
        pytest.param("+447612345678", False, id="076-pager"),
        pytest.param("+441632960001", False, id="geographic"),
        pytest.param("+448001234567", False, id="freephone"),
        pytest.param("+33612345678", False, id="french-mobile"),
        pytest.param("07700900123", False, id="national-format-not-e164"),
        pytest.param("+4477009001234", False, id="too-long"),
        pytest.param("", False, id="empty"),
    ],
)
def test_is_mobile_e164(e164: str, mobile: bool) -> None:
    assert is_mobile_e164(e164) is mobile


@settings(deadline=None)
@given(
    st.text()
    | st.text(alphabet="0123456789 +()-./")
    | st.from_regex(r"(\+|00|0)[0-9 ]{0,6}", fullmatch=True)
    | st.from_regex(r"\+44[0-9 ]{8,12}", fullmatch=True)
)
@example("+44 (0)1632 960001")
@example("0" * 300)
def test_phone_never_raises_anything_but_validation_error(value: str) -> None:
    try:
        e164 = normalise_uk_phone(value)
    except ValidationError:
        return
    assert e164.startswith("+44")
    assert e164[1:].isdigit()
    assert normalise_uk_phone(e164) == e164  # normalising is idempotent


# --- Postcodes ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entered", "formatted"),
    [
        pytest.param("AL8 6AB", "AL8 6AB", id="already-formatted"),
        pytest.param("al8 6ab", "AL8 6AB", id="lower-case"),
        pytest.param("AL86AB", "AL8 6AB", id="no-space"),
        pytest.param("  al8   6Ab ", "AL8 6AB", id="extra-spaces-mixed-case"),
        pytest.param("AL8\u00a06AB", "AL8 6AB", id="non-breaking-space"),
        pytest.param("M1 1AE", "M1 1AE", id="A9"),
        pytest.param("B33 8TH", "B33 8TH", id="A99"),
        pytest.param("CR2 6XH", "CR2 6XH", id="AA9"),
        pytest.param("DN55 1PT", "DN55 1PT", id="AA99"),
        pytest.param("W1A 1AA", "W1A 1AA", id="A9A"),
        pytest.param("EC1A 1BB", "EC1A 1BB", id="AA9A"),
        pytest.param("SW1A 2AA", "SW1A 2AA", id="downing-street"),
        pytest.param("N1C 4AG", "N1C 4AG", id="kings-cross-N1C"),
        pytest.param("GIR 0AA", "GIR 0AA", id="girobank"),
        pytest.param("gir0aa", "GIR 0AA", id="girobank-compact-lower"),
    ],
)
def test_postcode_accepted_and_formatted(entered: str, formatted: str) -> None:
    assert normalise_postcode(entered) == formatted


@pytest.mark.parametrize(
    "entered",
    [
        pytest.param("", id="empty"),
        pytest.param("   ", id="blank"),
        pytest.param("AL8", id="outward-only"),
        pytest.param("6AB", id="inward-only"),
        pytest.param("AL8 6A", id="inward-too-short"),
        pytest.param("AL8 66B", id="inward-digit-in-letter-place"),
        pytest.param("AL8 6ABC", id="too-long"),
        pytest.param("ALL8 6AB", id="three-letter-area"),
        pytest.param("A123 6AB", id="three-digit-district"),
        pytest.param("QA8 6AB", id="Q-never-first"),
        pytest.param("AZ8 6AB", id="Z-never-second"),
        pytest.param("AL8 6CB", id="C-never-in-inward"),
        pytest.param("AL8 6AO", id="O-never-in-inward"),
        pytest.param("W1I 1AA", id="I-never-third-in-A9A"),
        pytest.param("EC1C 1BB", id="C-never-fourth-in-AA9A"),
        pytest.param("SW1A-2AA", id="hyphen"),
        pytest.param("90210", id="us-zip-code"),
        pytest.param("AL8 6\ufb00", id="ligature-ff-that-upper-cases-to-FF"),
        pytest.param("AL8 6A\u017f", id="long-s-that-upper-cases-to-S"),
        pytest.param("\uff21L8 6AB", id="full-width-letter"),
    ],
)
def test_postcode_refused_with_actionable_message(entered: str) -> None:
    with pytest.raises(ValidationError) as caught:
        normalise_postcode(entered)
    assert caught.value.messages == [POSTCODE_MESSAGE]
    assert POSTCODE_MESSAGE == "Enter a real postcode, like AL8 6AB."


@pytest.mark.parametrize(
    ("postcode", "district"),
    [
        pytest.param("AL8 6AB", "AL8", id="AA9"),
        pytest.param("al86ab", "AL8", id="unformatted"),
        pytest.param("EC1A 1BB", "EC1A", id="AA9A"),
        pytest.param("M1 1AE", "M1", id="A9"),
        pytest.param("DN55 1PT", "DN55", id="AA99"),
    ],
)
def test_postcode_district_is_the_outward_code(postcode: str, district: str) -> None:
    assert postcode_district(postcode) == district


def test_postcode_district_refuses_a_non_postcode() -> None:
    with pytest.raises(ValidationError):
        postcode_district("not a postcode")


@settings(deadline=None)
@given(
    st.text()
    | st.text(alphabet=string.ascii_letters + string.digits + " ", max_size=10)
    | st.from_regex(r"[A-Z]{1,2}[0-9][0-9A-Z]? ?[0-9][A-Z]{2}", fullmatch=True)
)
def test_postcode_never_raises_anything_but_validation_error(value: str) -> None:
    try:
        formatted = normalise_postcode(value)
    except ValidationError:
        return
    assert formatted == formatted.upper()
    assert formatted.count(" ") == 1
    assert len(formatted.split(" ")[1]) == 3
    assert normalise_postcode(formatted) == formatted


# --- NHS numbers --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entered", "digits"),
    [
        pytest.param("9434765919", "9434765919", id="bare"),
        pytest.param("943 476 5919", "9434765919", id="spaced"),
        pytest.param("943-476-5919", "9434765919", id="hyphenated"),
        pytest.param(" 943 476 5919 ", "9434765919", id="surrounding-spaces"),
        pytest.param("4010232137", "4010232137", id="another-valid"),
        pytest.param("4010232080", "4010232080", id="check-digit-11-counts-as-0"),
    ],
)
def test_nhs_number_accepted(entered: str, digits: str) -> None:
    assert check_nhs_number(entered) == digits


@pytest.mark.parametrize(
    "entered",
    [
        pytest.param("9434765918", id="wrong-check-digit"),
        pytest.param("9434765910", id="wrong-check-digit-0"),
        pytest.param("4934765919", id="two-digits-swapped"),
        pytest.param("943476591", id="nine-digits"),
        pytest.param("94347659190", id="eleven-digits"),
        pytest.param("943476591X", id="letter"),
        pytest.param("943 476 591.9", id="dot"),
        pytest.param("", id="empty"),
        pytest.param(
            "\u0669\u0664\u0663\u0664\u0667\u0666\u0665\u0669\u0661\u0669", id="arabic-digits"
        ),
        pytest.param("0000000000", id="placeholder-zeros"),
        pytest.param("1111111111", id="placeholder-ones"),
    ],
)
def test_nhs_number_refused(entered: str) -> None:
    with pytest.raises(ValidationError) as caught:
        check_nhs_number(entered)
    assert caught.value.messages == ["Enter a valid 10-digit NHS number."]


@pytest.mark.parametrize("last_digit", range(10))
def test_nhs_number_whose_check_digit_works_out_as_10_is_always_refused(last_digit: int) -> None:
    # 10*1 + 9*2 + ... + 2*9 = 210; 210 % 11 = 1; 11 - 1 = 10: no digit can be right.
    with pytest.raises(ValidationError):
        check_nhs_number(f"123456789{last_digit}")


@pytest.mark.parametrize("position", range(10))
@pytest.mark.parametrize("replacement", "0123456789")
def test_nhs_number_any_single_digit_typo_is_caught(position: int, replacement: str) -> None:
    valid = "9434765919"
    if valid[position] == replacement:
        assert check_nhs_number(valid) == valid
        return
    typo = valid[:position] + replacement + valid[position + 1 :]
    with pytest.raises(ValidationError):
        check_nhs_number(typo)


@settings(deadline=None)
@given(
    st.text()
    | st.text(alphabet="0123456789 -", min_size=9, max_size=14)
    | st.text(alphabet=string.digits + string.ascii_letters + "\u0669 -", min_size=10, max_size=12)
)
@example("943476591X")
@example("\u0669" * 10)
def test_nhs_number_never_raises_anything_but_validation_error(value: str) -> None:
    try:
        digits = check_nhs_number(value)
    except ValidationError as error:
        assert error.messages == [NHS_NUMBER_MESSAGE]
        return
    assert len(digits) == 10
    assert digits.isascii()
    assert digits.isdigit()
    assert check_nhs_number(digits) == digits


# --- Email addresses ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entered", "normalised"),
    [
        pytest.param("aoife@example.org", "aoife@example.org", id="plain"),
        pytest.param("Aoife@EXAMPLE.ORG", "Aoife@example.org", id="domain-lower-cased"),
        pytest.param("  aoife@example.org ", "aoife@example.org", id="surrounding-spaces"),
        pytest.param("first.last+tag@sub.example.org", "first.last+tag@sub.example.org", id="tag"),
        pytest.param("sam.patel@probation.example", "sam.patel@probation.example", id="api-md"),
    ],
)
def test_email_accepted_and_normalised(entered: str, normalised: str) -> None:
    assert normalise_email(entered) == normalised


@pytest.mark.parametrize(
    "entered",
    [
        pytest.param("", id="empty"),
        pytest.param("   ", id="blank"),
        pytest.param("aoife", id="no-at-sign"),
        pytest.param("aoife@", id="no-domain"),
        pytest.param("@example.org", id="no-local-part"),
        pytest.param("aoife@example", id="domain-without-dot"),
        pytest.param("aoife@@example.org", id="two-at-signs"),
        pytest.param("aoife o'neill@example.org", id="space-in-local-part"),
        pytest.param("aoife@example..org", id="double-dot"),
        pytest.param("Aoife <aoife@example.org>", id="display-name"),
    ],
)
def test_email_refused_with_actionable_message(entered: str) -> None:
    with pytest.raises(ValidationError) as caught:
        normalise_email(entered)
    assert caught.value.messages == [EMAIL_MESSAGE]
    assert EMAIL_MESSAGE == "Enter an email address in the correct format, like name@example.org."


@settings(deadline=None)
@given(st.text() | st.emails())
def test_email_never_raises_anything_but_validation_error(value: str) -> None:
    try:
        normalised = normalise_email(value)
    except ValidationError:
        return
    assert "@" in normalised
