"""The keyed-in journey (web/referrer/questions.KEYED_IN) against its schemas: the referrer's own
pages less the council, plus how it arrived; every page in one section of check your answers;
every message the source schema gives has a box."""
from __future__ import annotations

import pytest
from marshmallow import ValidationError

from referral_service.models.enums import KEYED_IN_SOURCES, OrganisationType
from referral_service.schemas.errors import flatten_errors
from referral_service.schemas.keyed_in import (
    REFERRING_TYPES,
    KeyedInSourceSchema,
    KeyedInSubmissionSchema,
)
from referral_service.web.referrer.errors import locate
from referral_service.web.referrer.questions import (
    KEYED_IN,
    ORGANISATION_TYPE_LABELS,
    PAGES,
    SOURCE_CHANNEL_LABELS,
)
from tests import factories as f


def test_the_same_pages_as_the_referrer_less_the_council_after_the_source() -> None:
    slugs = [page.slug for page in KEYED_IN.pages]
    assert slugs[0] == "source"
    assert slugs[1:] == [page.slug for page in PAGES if page.slug != "authority"]
    listed = [slug for _, slugs_ in KEYED_IN.sections for slug in slugs_]
    assert sorted(listed) == sorted(slugs)
    names = [one.name for _, one in KEYED_IN.fields]
    assert len(names) == len(set(names))


def test_channels_and_kinds_offered_are_the_schemas() -> None:
    assert set(SOURCE_CHANNEL_LABELS) == {source.value for source in KEYED_IN_SOURCES}
    assert set(ORGANISATION_TYPE_LABELS) == set(REFERRING_TYPES)
    assert not {OrganisationType.MARAC.value, OrganisationType.MAPPA.value} & set(
        REFERRING_TYPES)


@pytest.mark.parametrize("typed", [
    {}, {"channel": "fax"}, {"channel": "phone", "organisation_name": "X"},
    {"channel": "phone", "organisation_id": "nope"},
    {"channel": "phone", "organisation_id": "00000000-0000-4000-8000-000000000000",
     "organisation_name": "X"},
])
def test_every_source_message_has_a_box_on_the_source_page(typed: dict[str, str]) -> None:
    with pytest.raises(ValidationError) as refused:
        KeyedInSourceSchema().load(typed)
    for path in flatten_errors(refused.value.messages):
        where = locate(f"source.{path}", KEYED_IN)
        assert where is not None and where.page.slug == "source", path


def test_the_referrer_email_is_optional_and_no_council_is_asked() -> None:
    body = f.payload()
    body.pop("authority_code")
    body["referrer"].pop("email")
    loaded = KeyedInSubmissionSchema().load(body)
    assert loaded["referrer"]["email"] is None and loaded["authority_code"] is None
    with pytest.raises(ValidationError) as refused:
        KeyedInSubmissionSchema().load({**body, "referrer": {"email": "not-an-email"}})
    assert set(flatten_errors(refused.value.messages)) >= {"referrer.name", "referrer.email"}
