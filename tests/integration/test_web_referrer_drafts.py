"""Drafts of web referrals hold personal data about someone not yet referred: kept while the
referrer works on them (across sessions), gone 30 days after their last change."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import time_machine
from sqlalchemy import func, select
from sqlalchemy import update as sa_update

from referral_service.extensions import db
from referral_service.models import AuditEvent, ReferralDraft
from tests import factories as f
from tests.integration.web_referrer_support import (  # noqa: F401  (fixtures)
    World,
    answer,
    sign_in,
    world_fixture,
)

MONDAY = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def drafts_kept() -> int:
    return db.session.scalar(select(func.count(ReferralDraft.id))) or 0


def test_a_draft_is_kept_for_a_month_after_its_last_change(client, world: World) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(MONDAY, tick=False):
        sign_in(client, world.referrer)
        answer(client, "consent")
        answer(client, "name")
    with time_machine.travel(MONDAY + timedelta(days=29), tick=False):
        sign_in(client, world.referrer)
        assert 'value="Aoife"' in client.get("/referrer/new/name").get_data(as_text=True)
        answer(client, "authority")  # a change: the month starts again
    with time_machine.travel(MONDAY + timedelta(days=58), tick=False):
        sign_in(client, world.referrer)  # (the 8-hour session has long ended; the draft has not)
        assert 'value="Aoife"' in client.get("/referrer/new/name").get_data(as_text=True)
    with time_machine.travel(MONDAY + timedelta(days=60), tick=False):
        sign_in(client, world.referrer)
        assert "Continue your referral" not in client.get("/referrer/new").get_data(as_text=True)
        assert client.get("/referrer/new/name").headers["Location"].endswith("/new/consent")


def test_purge_deletes_stale_drafts_and_audits_only_the_count(client, cli, world: World) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(MONDAY, tick=False):
        sign_in(client, world.referrer)
        answer(client, "consent")
    fresh_referrer = f.partner_user(world.organisation)
    db.session.commit()
    with time_machine.travel(MONDAY + timedelta(days=25), tick=False):
        sign_in(client, fresh_referrer)
        answer(client, "consent")
    with time_machine.travel(MONDAY + timedelta(days=31), tick=False):
        first = cli("drafts", "purge", "--json")
        again = cli("drafts", "purge", "--json")
    assert first.exit_code == 0 and json.loads(first.output)["deleted"] == 1
    assert json.loads(again.output)["deleted"] == 0
    assert db.session.scalars(select(ReferralDraft.user_id)).all() == [fresh_referrer.id]
    event = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "referral_drafts.purged")).one()
    assert event.details == {"count": 1, "older_than_days": 30}


def test_purge_refuses_a_nonsense_age(cli, world: World) -> None:  # type: ignore[no-untyped-def]
    result = cli("drafts", "purge", "--older-than-days", "0")
    assert result.exit_code != 0 and "older-than-days" in result.output



def test_the_scheduler_deletes_stale_drafts(client, world: World) -> None:  # type: ignore[no-untyped-def]
    from notifications import scheduler

    later = f.partner_user(world.organisation)
    db.session.commit()
    with time_machine.travel(MONDAY, tick=False):
        for referrer in (world.referrer, later):
            sign_in(client, referrer)
            answer(client, "consent")
    with time_machine.travel(MONDAY + timedelta(days=29), tick=False):
        assert scheduler.tick()["drafts_purged"] == 0  # not stale yet
    with time_machine.travel(MONDAY + timedelta(days=20, hours=1), tick=False):
        sign_in(client, later)
        answer(client, "name")  # a change: later's month starts again
    with time_machine.travel(MONDAY + timedelta(days=31), tick=False):
        assert scheduler.tick()["drafts_purged"] == 1
        assert db.session.scalars(select(ReferralDraft.user_id)).all() == [later.id]
        assert scheduler.tick()["drafts_purged"] == 0  # nothing else is stale
    db.session.execute(sa_update(ReferralDraft).values(updated_at=MONDAY))  # stale now too
    db.session.commit()
    with time_machine.travel(MONDAY + timedelta(days=31, minutes=1), tick=False):
        assert scheduler.tick()["drafts_purged"] == 1  # the next tick, not the next day
        assert drafts_kept() == 0
    events = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "referral_drafts.purged")).all()
    assert [(e.details["count"], e.actor_label) for e in events] == [(1, "system:scheduler")] * 2
