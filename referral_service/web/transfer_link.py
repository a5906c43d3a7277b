"""The page a council not on this service opens from its emailed one-time link (issue 15.3).

No one signs in: the secret in the path is the credential, for one referral only. The page is
never indexed, cached or passed on as a Referer; every view is audited; a link that expired or
was used answers 410 and one never issued 404, with the same page that names nothing.
"""
from __future__ import annotations

from flask import Blueprint, Response, make_response, render_template, request
from flask.typing import ResponseReturnValue

from referral_service.auth.guards import public
from referral_service.domain import external_transfers
from referral_service.domain.external_transfers import LinkState
from referral_service.web import forms

bp = Blueprint("transfer_link", __name__, url_prefix="/transfer-link")


def _private(response: Response) -> Response:
    response.headers["X-Robots-Tag"] = "noindex, nofollow, noarchive"
    response.headers["Cache-Control"] = "no-store"
    # The secret is in the address: never sent on to another site.
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _gone(state: LinkState) -> Response:
    status = 404 if state is LinkState.UNKNOWN else 410
    return _private(make_response(render_template("transfer_link/gone.html"), status))


@bp.route("/<secret>", methods=["GET", "POST"])
@public("the one-time link emailed to a council not on the service: the secret is the credential")
def page(secret: str) -> ResponseReturnValue:
    state, moved = external_transfers.find(secret)
    if moved is None:
        return _gone(state)
    errors: dict[str, str] = {}
    if request.method == "POST":
        found = moved
        errors = forms.attempt(lambda: external_transfers.mark_received(
            found, request.form.get("received_by", ""), request.remote_addr)) or {}
        if not errors:
            return _private(make_response(render_template(
                "transfer_link/received.html", transfer=found)))
        state, moved = external_transfers.find(secret)  # reloaded after the rollback
        if moved is None:
            return _gone(state)
    shown = external_transfers.view(moved, request.remote_addr)
    return _private(make_response(render_template(
        "transfer_link/referral.html", shown=shown, referral=shown.referral,
        transfer=shown.transfer, errors=errors, form=request.form), 400 if errors else 200))
