"""The reads that run for every referral received must cost a few index pages, however much
the service already holds: not a walk through an authority's referrals or the whole outbox.

Checked on PostgreSQL as a prepared statement with a generic plan, which is what psycopg runs
once a statement has been used five times on a connection: values are unknown when it is
planned, so a bound value cannot match a partial index's condition, and an ``OR`` across
identifiers cannot be split by value.
"""
from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import pytest
from psycopg import sql
from sqlalchemy import Executable, text
from sqlalchemy.dialects.postgresql import psycopg
from sqlalchemy.types import NullType

from notifications import policy
from referral_service import clock
from referral_service.domain import duplicates
from referral_service.extensions import db
from referral_service.models import Audience, Channel, MessageStatus, OutboxMessage
from tests import factories as f

pytestmark = pytest.mark.postgres_only

HELD = 300  # referrals (and applicant messages) already held
FEW_PAGES = 30  # one probe of an index per condition; a walk reads a page per row held


def generic_plan(statement: Executable, values: dict[str, Any]) -> dict[str, Any]:
    """EXPLAIN ANALYZE of ``statement`` prepared with a generic plan, run with ``values``."""
    dialect = psycopg.dialect(paramstyle="numeric_dollar")
    compiled = statement.compile(dialect=dialect)
    names = compiled.positiontup or []
    types = [type_name(dialect, compiled.binds[name].type) for name in names]
    given = {name: bind.value for name, bind in compiled.binds.items() if bind.value is not None}
    connection = db.session.connection()
    connection.execute(text("SET LOCAL plan_cache_mode = force_generic_plan"))
    connection.exec_driver_sql(f"PREPARE hot ({', '.join(types)}) AS {compiled.string}")
    try:
        # EXECUTE takes no bound parameters: the values are written in as literals.
        driver = connection.connection.driver_connection
        literals = ", ".join(f"{sql.Literal({**given, **values}[name]).as_string(driver)}::{type_}"
                             for name, type_ in zip(names, types, strict=True))
        explained = connection.exec_driver_sql(
            f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) EXECUTE hot({literals})").scalar_one()
    finally:
        connection.exec_driver_sql("DEALLOCATE hot")
    return (explained if isinstance(explained, list) else json.loads(explained))[0]


def type_name(dialect: Any, type_: Any) -> str:
    # A value bound without a type (None, say) is left to PostgreSQL to infer, as psycopg does.
    return "unknown" if isinstance(type_, NullType) else str(
        dialect.type_compiler_instance.process(type_))


def pages(plan: dict[str, Any]) -> int:
    node = plan["Plan"]
    return int(node.get("Shared Hit Blocks", 0)) + int(node.get("Shared Read Blocks", 0))


@pytest.fixture
def held(db_session):  # type: ignore[no-untyped-def]
    """An authority holding HELD open referrals, statistics up to date."""
    authority = f.authority()
    f.officer(authority, capacity=None)
    org = f.organisation()
    for _ in range(HELD):
        f.referral(org)
    db.session.commit()
    db.session.execute(text("ANALYZE"))
    return authority


@pytest.mark.parametrize("has", [(True, True, True), (False, False, True), (True, False, False),
                                 (False, True, False)])
def test_a_duplicate_look_up_that_finds_nothing_reads_a_few_pages(
        held, has: tuple[bool, bool, bool]) -> None:  # type: ignore[no-untyped-def]
    plan = generic_plan(duplicates._matches_statement(*has), {
        "authority_id": held.id, "referral_id": held.id, "nhs_number": "9434765919",
        "name_key": "nobody known", "date_of_birth": date(1901, 1, 1),
        "phone": "+447700800999"})  # never a unique_person number
    assert plan["Plan"]["Actual Rows"] == 0
    assert pages(plan) < FEW_PAGES, json.dumps(plan, indent=1)


def test_the_applicant_safety_facts_read_a_few_pages(held) -> None:  # type: ignore[no-untyped-def]
    now = clock.now()
    for n in range(1000):  # other people's messages, today: the cap must not count them
        db.session.add(OutboxMessage(
            audience=Audience.APPLICANT, channel=Channel.SMS, status=MessageStatus.SENT,
            to_address=f"+4477009{n:05d}", event="referral.received", template="applicant_received",
            body="Hello",
            created_at=now - timedelta(minutes=n % 60)))
    db.session.commit()
    db.session.execute(text("ANALYZE"))
    plan = generic_plan(policy._FACTS, {
        "phone": "+447700900999", "phone_address": "+447700900999", "email": None,
        "midnight": now - timedelta(hours=2)})
    assert pages(plan) < FEW_PAGES, json.dumps(plan, indent=1)
