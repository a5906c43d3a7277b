"""The stack's ceiling: bare Flask + Flask-SQLAlchemy inserting one row per POST.

Run beside the service in the same benchmark so both are measured on the same machine, minute
and database.
"""
from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from flask import Flask, jsonify, request
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)


class Row(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "bench_rows"
    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    body: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))


app = Flask(__name__)
app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["DATABASE_URL"]
db.init_app(app)


@app.post("/rows")
def create_row():  # type: ignore[no-untyped-def]
    row = Row(body=request.get_data(as_text=True), created_at=datetime.now(UTC))
    db.session.add(row)
    db.session.commit()
    return jsonify(id=str(row.id)), 201
