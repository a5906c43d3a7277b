"""Was every message sent exactly once? The outbox against what the providers received.

Texts: the fake Twilio keeps each accepted message's ``StatusCallback``, which carries our
outbox id (``integrations.twilio_sms.callback_url``). Emails: the SMTP sink keeps each
message's ``Message-ID``, which carries the outbox id (``integrations.smtp_email``).
"""
from __future__ import annotations

import time
import uuid
from collections import Counter
from typing import Any
from urllib.parse import parse_qs, urlsplit

import sqlalchemy as sa

from integrations.twilio_sms import CALLBACK_MESSAGE_PARAM

SENT = ("sent", "delivered")
WAITING = ("queued", "sending")


def outbox_id_of_text(fields: dict[str, str]) -> str | None:
    values = parse_qs(urlsplit(fields.get("StatusCallback", "")).query).get(CALLBACK_MESSAGE_PARAM)
    return values[0] if values else None


def outbox_id_of_email(message_id: str) -> str | None:
    local = message_id.strip("<>").partition("@")[0]
    try:
        return str(uuid.UUID(local))
    except ValueError:
        return None


def outbox(engine: sa.Engine) -> dict[str, tuple[str, str, str | None]]:
    """Every outbox row: id -> (channel, status, status reason)."""
    with engine.connect() as connection:
        rows = connection.execute(sa.text(
            "SELECT id, channel, status, status_reason FROM outbox_messages")).all()
    return {str(row.id): (row.channel, row.status, row.status_reason) for row in rows}


def drain(engine: sa.Engine, minutes: float) -> float:
    """Wait (the load stopped) until no row is queued for now or being sent, for at most
    ``minutes``: rows a flushed Redis lost are handed over again after two minutes, and rows a
    killed worker held are settled after ten (``notifications.scheduler``). Returns the seconds
    waited."""
    began = time.monotonic()
    while time.monotonic() - began < minutes * 60:
        with engine.connect() as connection:
            waiting = connection.scalar(sa.text(
                "SELECT count(*) FROM outbox_messages WHERE status = 'sending' "
                "OR (status = 'queued' AND not_before <= now())"))
        if not waiting:
            break
        time.sleep(5)
    return time.monotonic() - began


def check(rows: dict[str, tuple[str, str, str | None]], texts: list[dict[str, str]],
          email_ids: list[str]) -> dict[str, Any]:
    """Per channel: rows by status, rows sent once, sent twice or more (duplicates), marked
    sent but never received (lost), received but not marked sent, still waiting; and anything
    received that no row explains."""
    received = Counter(outbox_id_of_text(fields) for fields in texts)
    received.update(outbox_id_of_email(message_id) for message_id in email_ids)
    result: dict[str, Any] = {}
    for channel in sorted({row[0] for row in rows.values()}):
        mine = {row_id: row for row_id, row in rows.items() if row[0] == channel}
        sent = [row_id for row_id, row in mine.items() if row[1] in SENT]
        result[channel] = {
            "rows": len(mine),
            "statuses": dict(Counter(row[1] for row in mine.values())),
            "sent_once": sum(received[row_id] == 1 for row_id in sent),
            "duplicates": sorted(row_id for row_id in mine if received[row_id] > 1),
            "lost": sorted(row_id for row_id in sent if received[row_id] == 0),
            "received_not_marked_sent": sorted(
                row_id for row_id, row in mine.items() if row[1] not in SENT and received[row_id]),
            "still_waiting": sorted(row_id for row_id, row in mine.items() if row[1] in WAITING),
            "failed_reasons": dict(Counter((row[2] or "")[:80] for row in mine.values()
                                           if row[1] == "failed")),
        }
    result["received_without_a_row"] = sum(
        count for row_id, count in received.items() if row_id not in rows)
    return result
