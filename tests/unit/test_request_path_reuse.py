"""What the partner API reuses between requests, for speed, must not carry anything across them.

The referral and other request schemas are made once (``referral_service.api.referrals``), and
psycopg is let cache the parsed form of wide statements (``referral_service.extensions``).
"""
from __future__ import annotations

import time_machine
from marshmallow import ValidationError

from referral_service.api import referrals as api_referrals
from referral_service.schemas.referral import ReferralSubmissionSchema
from tests.unit.test_referral_schema import DELETE, NOW, valid_payload


def test_the_shared_submission_schema_loads_each_payload_as_a_new_schema_would() -> None:
    shared = api_referrals.SUBMISSION
    payloads = [
        valid_payload(),
        valid_payload(person__address=DELETE, person__safe_contact=DELETE,
                      person__preferred_contact_method="phone", household=DELETE, risk=DELETE),
        valid_payload(person__first_name="Bríd", person__phone="+44 7700 900456",
                      referrer__email="Someone@EXAMPLE.org"),
    ]
    with time_machine.travel(NOW, tick=False):
        for payload in payloads + payloads[::-1]:
            assert shared.load(payload) == ReferralSubmissionSchema().load(payload)


def test_a_refused_payload_leaves_nothing_behind_in_the_shared_schema() -> None:
    shared = api_referrals.SUBMISSION
    with time_machine.travel(NOW, tick=False):
        try:
            shared.load(valid_payload(person__phone="not a phone", consent__given=False))
        except ValidationError as error:
            first = error.normalized_messages()
        else:  # pragma: no cover
            raise AssertionError("the payload should have been refused")
        assert shared.load(valid_payload()) == ReferralSubmissionSchema().load(valid_payload())
        try:
            shared.load(valid_payload(person__phone="not a phone", consent__given=False))
        except ValidationError as error:
            assert error.normalized_messages() == first


def test_loaded_values_are_not_shared_between_loads() -> None:
    """Defaults such as an empty household must be a new list each time, not one shared list."""
    shared = api_referrals.SUBMISSION
    with time_machine.travel(NOW, tick=False):
        first = shared.load(valid_payload(household=DELETE, support_needs=DELETE))
        first["household"].append({"relationship": "child", "age": 1})
        first["support_needs"].append("other")
        first["person"]["safe_contact"]["sms"] = "changed"
        second = shared.load(valid_payload(household=DELETE, support_needs=DELETE))
    assert second["household"] == [] and second["support_needs"] == []
    assert second["person"]["safe_contact"]["sms"] is True


def test_psycopg_caches_the_parsed_referral_insert() -> None:
    import referral_service.extensions  # noqa: F401  (applies the setting)

    try:
        from psycopg import _queries
    except ImportError:  # pragma: no cover
        return
    # The referral INSERT binds about 65 parameters; psycopg's default cache stops at 50.
    assert _queries.MAX_CACHED_STATEMENT_PARAMS >= 100
