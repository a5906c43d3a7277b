"""Shared by the document tests: a partner with a referral and a token, and uploads."""
from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from referral_service.extensions import db
from referral_service.models import AuditEvent, ReferralDocument
from tests import factories as f


@pytest.fixture
def partner(client) -> Any:  # type: ignore[no-untyped-def]
    f.authority()
    org = f.organisation()
    referral = f.referral(org)
    issued = f.api_client(org)
    db.session.commit()
    return {"referral": referral, "org": org, "issued": issued,
            "headers": f.bearer_headers(client, issued)}


def upload(client, partner, data: bytes, name: str = "tenancy.pdf",  # type: ignore[no-untyped-def]
           referral_id: Any = None, headers: dict[str, str] | None = None):
    target = referral_id or partner["referral"].id
    return post_file(client, f"/api/v1/referrals/{target}/documents", "file", data, name,
                     headers=headers or partner["headers"])


def post_file(client, path: str, field: str, data: bytes, name: str,  # type: ignore[no-untyped-def]
              headers: dict[str, str] | None = None, form: dict[str, str] | None = None):
    """POST multipart/form-data encoded here, in memory: the test client would spool a body
    over 500 KB to a temporary file it never closes (a ResourceWarning, so a failure)."""
    boundary, body = encode_multipart({**(form or {}), field: FileStorage(
        io.BytesIO(data), filename=name, content_type="application/octet-stream")})
    return client.post(path, data=body, headers=headers or {},
                       content_type=f"multipart/form-data; boundary={boundary}")


def stored_files(app: Flask) -> list[Path]:
    root = Path(app.config["DOCUMENTS_DIR"])
    return sorted(root.iterdir()) if root.exists() else []


def documents_held() -> int:
    return db.session.scalar(select(func.count()).select_from(ReferralDocument)) or 0


def audited(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


