"""Officers' lists: "My referrals" by deadline, and the team queue with Claim."""
from __future__ import annotations

import uuid

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy.orm.exc import StaleDataError

from referral_service import clock
from referral_service.auth.guards import STAFF, roles, signed_in_user, staff_referral
from referral_service.domain import casework, queues, reads
from referral_service.domain.errors import DomainError
from referral_service.extensions import db
from referral_service.models import Role, User
from referral_service.web import navigation

bp = Blueprint("officer", __name__, url_prefix="/casework")

navigation.add("My referrals", "officer.my_referrals", Role.OFFICER, order=10)
def _waiting(user: User) -> tuple[int, str]:
    count = queues.team_queue_count(user.authority_id) if user.authority_id else 0
    return count, "referral waiting" if count == 1 else "referrals waiting"


navigation.add("Team queue", "officer.team_queue", *STAFF, order=20, badge=_waiting)
navigation.set_home(Role.OFFICER, "officer.my_referrals")


def casework_conflict() -> str:
    return "Someone else changed this referral at the same moment. Check the queue again."


@bp.get("/my-referrals")
@roles(Role.OFFICER)
def my_referrals() -> ResponseReturnValue:
    user = signed_in_user()
    mine = queues.officers_open_referrals(user)
    return render_template("casework/my_referrals.html", referrals=mine,
                           unread=reads.with_unread(user, (r.id for r in mine)),
                           deadline_status=queues.deadline_status, now=clock.now())


@bp.get("/queue")
@roles(*STAFF)
def team_queue() -> ResponseReturnValue:
    user = signed_in_user()
    assert user.authority_id is not None
    queue = queues.team_queue(user.authority_id)
    return render_template("casework/queue.html", referrals=queue,
                           unread=reads.with_unread(user, (r.id for r in queue)),
                           deadline_status=queues.deadline_status, now=clock.now(),
                           can_claim=user.role is Role.OFFICER)


@bp.post("/referrals/<uuid:referral_id>/claim")
@roles(Role.OFFICER)
def claim(referral_id: uuid.UUID) -> ResponseReturnValue:
    user = signed_in_user()
    referral = staff_referral(referral_id)
    try:
        casework.claim(referral, user, ip_address=request.remote_addr)
        db.session.flush()  # a claim by someone else at the same moment is refused here
    except (DomainError, StaleDataError) as refused:
        db.session.rollback()
        flash(getattr(refused, "message", casework_conflict()), "error")
        return redirect(url_for("officer.team_queue"))
    flash(f"You claimed {referral.reference}. It is now in your referrals.", "success")
    return redirect(url_for("casework.referral", referral_id=referral.id))
