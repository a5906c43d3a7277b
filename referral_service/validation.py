"""Small, pure validators and normalisers for the values people type into referrals.

Each function takes what someone entered, returns the one form the service stores, or raises
:class:`marshmallow.ValidationError` with a message the person can act on. Nothing here touches
the database, the clock or a request, so the API schemas and the web forms share the same rules.
"""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import urlsplit

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from marshmallow import ValidationError

__all__ = [
    "CONTROL_CHARACTER_MESSAGE",
    "EMAIL_MESSAGE",
    "HTTPS_URL_MESSAGE",
    "LINE_BREAK_MESSAGE",
    "NHS_NUMBER_MESSAGE",
    "PHONE_MESSAGE",
    "POSTCODE_MESSAGE",
    "check_https_url",
    "check_nhs_number",
    "check_plain_text",
    "has_control_characters",
    "is_mobile_e164",
    "normalise_email",
    "normalise_postcode",
    "normalise_uk_phone",
    "postcode_district",
    "without_control_characters",
]

PHONE_MESSAGE = "Enter a UK phone number, like 07700 900123 or 01632 960001."
POSTCODE_MESSAGE = "Enter a real postcode, like AL8 6AB."
NHS_NUMBER_MESSAGE = "Enter a valid 10-digit NHS number."
EMAIL_MESSAGE = "Enter an email address in the correct format, like name@example.org."
HTTPS_URL_MESSAGE = "Enter a full web address starting https://, like https://www.example.gov.uk/privacy."
URL_MAX_LENGTH = 2000

# --- Control characters -------------------------------------------------------------------------

# NUL cannot be stored in PostgreSQL's text at all (it was a 500), and the other C0 controls and
# DEL are never typed by a person: refused in every input. Tab, LF and CR are how free text
# (reasons, notes, details) is laid out; in a one-line field (a name, a phone) they are refused.
CONTROL_CHARACTER_MESSAGE = (
    "Remove the control characters (such as a null byte) from this text: they cannot be saved."
)
LINE_BREAK_MESSAGE = (
    "Remove the line breaks, tabs and other control characters: this is a one-line answer."
)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CONTROL_OR_LINE_BREAK = re.compile(r"[\x00-\x1f\x7f]")


def has_control_characters(value: str, *, multiline: bool = True) -> bool:
    """Whether ``value`` holds a character refused in text (with ``multiline=False``, tabs and
    line breaks count as refused too)."""
    return (_CONTROL if multiline else _CONTROL_OR_LINE_BREAK).search(value) is not None


def check_plain_text(value: str, *, multiline: bool = False) -> str:
    """``value`` unchanged, or :class:`ValidationError` when it holds a control character."""
    if has_control_characters(value, multiline=multiline):
        raise ValidationError(CONTROL_CHARACTER_MESSAGE if multiline else LINE_BREAK_MESSAGE)
    return value


def without_control_characters(value: str) -> str:
    """``value`` less the characters refused everywhere (tabs and line breaks kept): for text
    that cannot be refused, such as an SMS a person sent."""
    return _CONTROL.sub("", value)


# --- Phone numbers ------------------------------------------------------------------------------

# What a person may type around the digits: spaces (any kind, so pasted non-breaking spaces
# work), hyphens, dots, slashes and brackets. Letters are refused outright: phonenumbers would
# otherwise read "0800 FLOWERS" as digits or split off "ext 12" and we would store a different
# number from the one given.
_PHONE_SEPARATORS = re.compile(r"[\s\-./()]+")
_PHONE_COMPACT = re.compile(r"\+?[0-9]{1,20}")

# UK national significant numbers (after +44 / the leading 0) that we accept, by first digits
# and allowed lengths. Allocation is deliberately not checked: phonenumbers calls Ofcom's drama
# ranges (07700 900xxx, 01632 960xxx) invalid, and tests and examples must use exactly those.
_UK_NSN_RULES: tuple[tuple[str, frozenset[int]], ...] = (
    ("7", frozenset({10})),  # mobiles, pagers, personal numbers
    ("1", frozenset({9, 10})),  # geographic; a few areas (e.g. 016977) have 9-digit numbers
    ("2", frozenset({10})),  # geographic (London, Cardiff, Belfast, ...)
    ("3", frozenset({10})),  # non-geographic charged at geographic rates (03xx)
    ("80", frozenset({9, 10})),  # freephone 0800 / 0808
)

# Mobile ranges that can receive SMS: 071-075, 077-079, and the Isle of Man's 07624.
# 070 (personal numbering) and 076 (pagers) are phone numbers but not mobiles.
_UK_MOBILE_E164 = re.compile(r"\+447(?:[1-57-9][0-9]{8}|624[0-9]{6})")


def normalise_uk_phone(value: str) -> str:
    """A UK phone number in any common format, returned as E.164 (``+447700900123``).

    Accepts "07700 900123", "+44 7700 900123", "0044 7700 900123", "(01632) 960 001" and
    "+44 (0)1632 960001". Refuses premium-rate (09), other service numbers and non-UK numbers.
    """
    if not isinstance(value, str):
        raise ValidationError(PHONE_MESSAGE)
    compact = _PHONE_SEPARATORS.sub("", value)
    # A UK number is written with its leading 0 or with an international prefix (+44 or 0044);
    # bare digits such as "1234567890" are more likely a typo or another kind of number.
    if not _PHONE_COMPACT.fullmatch(compact) or not compact.startswith(("+", "0")):
        raise ValidationError(PHONE_MESSAGE)
    try:
        parsed = phonenumbers.parse(value, "GB")
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(PHONE_MESSAGE) from exc
    if parsed.country_code != 44 or parsed.extension:
        raise ValidationError(PHONE_MESSAGE)
    nsn = phonenumbers.national_significant_number(parsed)
    if not nsn.isascii() or not nsn.isdigit():
        raise ValidationError(PHONE_MESSAGE)
    for prefix, lengths in _UK_NSN_RULES:
        if nsn.startswith(prefix) and len(nsn) in lengths:
            return f"+44{nsn}"
    raise ValidationError(PHONE_MESSAGE)


def is_mobile_e164(e164: str) -> bool:
    """Whether an E.164 number is a UK mobile that can receive SMS (+4471-75, +4477-79, +447624)."""
    return isinstance(e164, str) and _UK_MOBILE_E164.fullmatch(e164) is not None


# --- Postcodes ----------------------------------------------------------------------------------

# Royal Mail / BS 7666 format: outward code A9, A99, AA9, AA99, A9A or AA9A, then the inward code
# 9AA. Letters that never appear in a position are refused, which catches common typos (O for 0).
_OUTWARD = (
    r"(?:[A-PR-UWYZ][0-9][0-9]?"  # A9, A99
    r"|[A-PR-UWYZ][A-HK-Y][0-9][0-9]?"  # AA9, AA99
    r"|[A-PR-UWYZ][0-9][A-HJKPSTUW]"  # A9A
    r"|[A-PR-UWYZ][A-HK-Y][0-9][ABEHMNPRVWXY])"  # AA9A
)
_INWARD = r"[0-9][ABD-HJLNP-UW-Z]{2}"
_POSTCODE = re.compile(rf"(?:{_OUTWARD}{_INWARD}|GIR0AA)")


def normalise_postcode(value: str) -> str:
    """A UK postcode, whatever its case and spacing, as upper case with one space ("AL8 6AB")."""
    if not isinstance(value, str):
        raise ValidationError(POSTCODE_MESSAGE)
    compact = "".join(value.split())
    # Checked before upper-casing: str.upper() turns some non-ASCII letters into ASCII ones.
    if not compact.isascii():
        raise ValidationError(POSTCODE_MESSAGE)
    compact = compact.upper()
    if not _POSTCODE.fullmatch(compact):
        raise ValidationError(POSTCODE_MESSAGE)
    return f"{compact[:-3]} {compact[-3:]}"


def postcode_district(postcode: str) -> str:
    """The outward code (postcode district) of a postcode: "AL8 6AB" -> "AL8"."""
    return normalise_postcode(postcode).split(" ", 1)[0]


# --- NHS numbers --------------------------------------------------------------------------------

_NHS_SEPARATORS = re.compile(r"[\s\-]+")
_NHS_DIGITS = re.compile(r"[0-9]{10}")


def check_nhs_number(value: str) -> str:
    """A 10-digit NHS number with a correct modulus-11 check digit, returned as bare digits.

    Spaces and hyphens are allowed in the input ("943 476 5919"). A check digit that works out
    as 10 means the number cannot exist. Numbers of one repeated digit ("0000000000") pass the
    arithmetic but are placeholders, never issued, so they are refused too.
    """
    if not isinstance(value, str):
        raise ValidationError(NHS_NUMBER_MESSAGE)
    digits = _NHS_SEPARATORS.sub("", value)
    if not _NHS_DIGITS.fullmatch(digits) or len(set(digits)) == 1:
        raise ValidationError(NHS_NUMBER_MESSAGE)
    weights = range(10, 1, -1)
    total = sum(int(digit) * weight for digit, weight in zip(digits[:9], weights, strict=True))
    check = 11 - total % 11
    if check == 11:
        check = 0
    if check == 10 or check != int(digits[9]):
        raise ValidationError(NHS_NUMBER_MESSAGE)
    return digits


# --- Email addresses ----------------------------------------------------------------------------


def normalise_email(value: str) -> str:
    """An email address checked for syntax only (no DNS), in its normalised form.

    The domain is lower-cased and internationalised parts are normalised; the local part keeps
    its case, because some mail servers treat it as significant.
    """
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(EMAIL_MESSAGE)
    normalised = _normalised_email(value.strip())
    if normalised is None:
        raise ValidationError(EMAIL_MESSAGE)
    return normalised


@lru_cache(maxsize=4096)
def _normalised_email(value: str) -> str | None:
    """A pure function of its text, and a referrer sends the same address on every referral
    (email_validator's checks are about 1% of receiving one). None: not an address."""
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError:
        return None


# --- Web addresses ------------------------------------------------------------------------------


def check_https_url(value: str) -> str:
    """A link people will follow from our pages: ``https://`` with a host name, no spaces, no
    control characters and no ``user:password@`` (which would hide where the link goes)."""
    value = value.strip()
    if len(value) > URL_MAX_LENGTH:
        raise ValidationError(f"Use at most {URL_MAX_LENGTH} characters.")
    if has_control_characters(value, multiline=False) or any(c.isspace() for c in value):
        raise ValidationError(HTTPS_URL_MESSAGE)
    try:
        parts = urlsplit(value)
        port_ok = parts.port is None or parts.port > 0
    except ValueError:  # a bad port or an unbalanced IPv6 bracket
        raise ValidationError(HTTPS_URL_MESSAGE) from None
    if (parts.scheme != "https" or not parts.hostname or "." not in parts.hostname
            or "@" in parts.netloc or not port_ok):
        raise ValidationError(HTTPS_URL_MESSAGE)
    return value
