"""The "withdraw consent" form, shared by the referrer's page and the officer's: what is
withdrawn (one scope the person gave and has not taken back), why, and optional notes.

The views call ``domain.consent.withdraw_by_referrer`` or ``withdraw_by_officer``; this module
only reads the form and says what to offer. A scope already withdrawn is left to the domain,
whose Conflict the page shows (409).
"""
from __future__ import annotations

from typing import Any

from flask import request

from referral_service.domain.consent import BY_WORDS, NOTES_MAX
from referral_service.models import ConsentRecorder, ConsentScope, Referral, WithdrawalReason
from referral_service.models.consent import consented_to
from referral_service.web.labels import london_datetime

# What the person takes back, as a radio button (in this order).
SCOPE_LABELS = {
    ConsentScope.REFERRAL.value: "The referral itself",
    ConsentScope.TEXTS.value: "Text messages",
    ConsentScope.EMAIL.value: "Email",
    ConsentScope.PANEL_SHARING.value: "Sharing with MARAC or MAPPA panels",
}
SCOPE_HINTS = {
    ConsentScope.REFERRAL.value: "The referral is closed at once and the council stops work on it.",
    ConsentScope.TEXTS.value: "The council stops texting the person. The referral stays open.",
    ConsentScope.EMAIL.value: "The council stops emailing the person. The referral stays open.",
    ConsentScope.PANEL_SHARING.value: "No new shares with a panel. The referral stays open.",
}
# Why. A STOP text is the person's own withdrawal, never chosen on a form.
REASON_LABELS = {
    WithdrawalReason.PERSON_WITHDREW.value: "The person told us they withdraw consent",
    WithdrawalReason.MADE_IN_ERROR.value: "Consent was recorded by mistake",
    WithdrawalReason.NO_CAPACITY.value: "The person could not give informed consent",
    WithdrawalReason.OTHER.value: "Another reason (say in the notes)",
}
ANCHORS = {"scope": "#scope", "reason": "#reason", "notes": "#notes"}


def open_scopes(referral: Referral) -> list[str]:
    """The scopes the person gave and has not taken back: what can still be withdrawn."""
    if not referral.is_open:
        return []
    return [scope.value for scope in ConsentScope if consented_to(referral, scope)]


def scope_items(referral: Referral, chosen: str | None) -> list[dict[str, Any]]:
    return [{"value": value, "text": SCOPE_LABELS[value], "hint": {"text": SCOPE_HINTS[value]},
             "checked": value == chosen} for value in open_scopes(referral)]


def given_scopes(referral: Referral) -> set[ConsentScope]:
    record = referral.consent
    return record.given_scopes() if record is not None else {ConsentScope.REFERRAL}


def parse(referral: Referral, errors: dict[str, str]) -> dict[str, Any]:
    """The form as the domain's arguments, or messages against its fields in ``errors``."""
    wanted = request.form.get("scope") or ""
    scope = ConsentScope(wanted) if wanted in set(ConsentScope) else None
    if scope is None or scope not in given_scopes(referral):
        errors["scope"] = "Select what the person withdraws consent to."
        scope = None
    reason = None
    if (request.form.get("reason") or "") in REASON_LABELS:
        reason = WithdrawalReason(request.form["reason"])
    else:
        errors["reason"] = "Select why consent is withdrawn."
    notes = request.form.get("notes", "").strip()
    if len(notes) > NOTES_MAX:
        errors["notes"] = f"Keep the notes to {NOTES_MAX} characters or fewer."
    return {"scope": scope, "reason": reason, "notes": notes or None}


def done_message(scope: ConsentScope) -> str:
    if scope is ConsentScope.REFERRAL:
        return "Consent to the referral was withdrawn. The referral is closed."
    return f"Consent to {SCOPE_LABELS[scope.value].lower()} was withdrawn."


def record_rows(referral: Referral) -> list[dict[str, Any]]:
    """The consent record as GOV.UK summary list rows: given by, recorded by, when, for what,
    and each withdrawal (with its reason; a STOP undone by START says so)."""
    record = referral.consent
    if record is None:
        return [{"key": {"text": "Consent"}, "value": {"text": "No record"}}]
    recorder = "referrer" if record.recorded_by is ConsentRecorder.REFERRER else "council"
    scopes = [SCOPE_LABELS[s.value] for s in ConsentScope if s in record.given_scopes()]
    if record.panels:
        scopes[-1] += f" ({', '.join(p.upper() for p in record.panels)})"
    withdrawals = [
        f"{SCOPE_LABELS[w.scope.value]}: withdrawn by {BY_WORDS[w.withdrawn_by]}, "
        f"{london_datetime(w.withdrawn_at)} ({_REASON_WORDS[w.reason]})"
        + (f". Given again {london_datetime(w.lifted_at)}" if w.lifted_at else "")
        for w in sorted(referral.consent_withdrawals, key=lambda w: w.withdrawn_at)]
    return [
        {"key": {"text": "Given by"}, "value": {"text": record.given_by_name}},
        {"key": {"text": "Recorded by"},
         "value": {"text": f"{record.recorded_by_name} ({recorder})"}},
        {"key": {"text": "When"}, "value": {"text": london_datetime(record.given_at)}},
        {"key": {"text": "Agreed to"}, "value": {"text": "; ".join(scopes)}},
        {"key": {"text": "Withdrawn"},
         "value": {"text": "; ".join(withdrawals) if withdrawals else "Nothing withdrawn"}},
    ]


_REASON_WORDS = {
    WithdrawalReason.PERSON_WITHDREW: "the person withdrew it",
    WithdrawalReason.TEXTED_STOP: "the person texted STOP",
    WithdrawalReason.MADE_IN_ERROR: "recorded by mistake",
    WithdrawalReason.NO_CAPACITY: "the person could not give informed consent",
    WithdrawalReason.OTHER: "another reason",
}
