"""Two clicks on "Send referral" at the same moment (two tabs, a double click) make one
referral: the draft's delete, counted, decides which request sends it. Real commits from two
threads on a database of the run's kind."""
from __future__ import annotations

import threading

from flask import Flask
from sqlalchemy import func, select

from referral_service.extensions import db
from referral_service.models import Referral, ReferralDraft
from tests import factories as f
from tests.integration.web_referrer_support import answer_all, post, sign_in


def test_simultaneous_sends_make_one_referral(fresh_app: Flask) -> None:
    with fresh_app.app_context():
        council = f.authority()
        f.officer(council)
        referrer = f.partner_user(f.organisation())
        db.session.commit()
        clients = [sign_in(fresh_app.test_client(), referrer) for _ in range(2)]
        answer_all(clients[0])
        db.session.remove()

    start = threading.Barrier(2)
    statuses: list[tuple[int, str]] = []

    def send(client) -> None:  # type: ignore[no-untyped-def]
        with fresh_app.app_context():
            start.wait()
            response = post(client, "/referrer/new/check")
            statuses.append((response.status_code, response.headers.get("Location", "")))
            db.session.remove()

    threads = [threading.Thread(target=send, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    with fresh_app.app_context():
        assert db.session.scalar(select(func.count(Referral.id))) == 1
        assert db.session.scalar(select(func.count(ReferralDraft.id))) == 0
        db.session.remove()
    assert sorted(code for code, _ in statuses) == [302, 302]
    assert sum("/sent" in location for _, location in statuses) == 1
