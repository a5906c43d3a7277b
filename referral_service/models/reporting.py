"""The working-hours calendar that lets the database measure time in working hours.

One row per UTC hour: whether it is a working hour (09:00-17:00 Europe/London, Monday to Friday,
not an England and Wales bank holiday), how many working seconds came before it since the start
of the calendar, and the London date and week it falls in. Working time between two instants is
then ``W(end) - W(start)`` with ``W(t) = seconds_before + (t - hour start if working)``: one
equality join per timestamp, the same on SQLite and PostgreSQL (see docs/reports.md).
UK offsets are whole hours, so every UTC hour is wholly working or wholly not.
"""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from referral_service.extensions import Model


class WorkingHour(Model):
    __tablename__ = "working_hours"

    # Hours since 1970-01-01T00:00Z: floor(epoch seconds / 3600).
    hour: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    # 1 for a working hour, 0 otherwise: multiplied, so no boolean arithmetic is needed.
    working: Mapped[int] = mapped_column(sa.SmallInteger)
    # Working seconds in the calendar before this hour starts.
    seconds_before: Mapped[int] = mapped_column(sa.BigInteger)
    local_date: Mapped[date] = mapped_column(sa.Date)
    # The Monday of the London week, for weekly trends.
    week_start: Mapped[date] = mapped_column(sa.Date)
