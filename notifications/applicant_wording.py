"""The words of every message to an applicant, per language, as data.

Each template has up to four variants, chosen by what is known: ``officer_phone`` (an officer is
named and the team has a phone), ``officer``, ``team_phone`` and ``team`` (nobody named yet).
Placeholders are ``str.format`` fields; each variant of a language must use exactly the
placeholders of the English one (``notifications.languages`` checks a council's extra files).

English is the fallback. The Welsh wording is careful but not certified: the council's Welsh
language officer should check it (Welsh Language Standards) before it is switched on in earnest.
Both stay plain and short: never why the person was referred (someone else may read the phone).
"""
from __future__ import annotations

from dataclasses import dataclass

# Variants of each template: the officer-changed text is only sent once an officer is named.
VARIANTS: dict[str, tuple[str, ...]] = {
    "applicant_received": ("officer_phone", "officer", "team_phone", "team"),
    "applicant_officer_changed": ("officer_phone", "officer"),
    "applicant_contact_failed": ("officer_phone", "officer", "team_phone", "team"),
    "applicant_release_day": ("officer_phone", "officer", "team_phone", "team"),
}


@dataclass(frozen=True)
class DateWords:
    """What ``templates.when`` needs to write a London date and time in a language."""
    days: tuple[str, ...]  # Monday first, 7
    months: tuple[str, ...]  # January first, 12
    am: str
    pm: str


@dataclass(frozen=True)
class LanguageWording:
    dates: DateWords
    templates: dict[str, dict[str, str]]  # template name -> variant -> wording


ENGLISH = LanguageWording(
    dates=DateWords(days=("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
                    months=("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep",
                            "Oct", "Nov", "Dec"),
                    am="am", pm="pm"),
    templates={
        # Short forms ("Your ref is", "Reply here"): the longer wording ran to 162+ characters,
        # two SMS segments, with a long council name, a team phone and no officer named yet.
        "applicant_received": {
            "officer_phone": "{council} Council: {officer} from our team will contact you by "
                             "{due}. Your ref is {reference}. Reply here or call {team_phone}.",
            "officer": "{council} Council: {officer} from our team will contact you by {due}. "
                       "Your ref is {reference}. Reply here.",
            "team_phone": "{council} Council: Someone from our team will contact you by {due}. "
                          "Your ref is {reference}. Reply here or call {team_phone}.",
            "team": "{council} Council: Someone from our team will contact you by {due}. "
                    "Your ref is {reference}. Reply here.",
        },
        "applicant_officer_changed": {
            "officer_phone": "{council} Council: {officer} is now your contact (ref "
                             "{reference}). Call {team_phone} or reply here.",
            "officer": "{council} Council: {officer} is now your contact (ref {reference}). "
                       "Reply here.",
        },
        # Not "when it is safe to talk": to someone else reading the phone that hints at abuse.
        "applicant_contact_failed": {
            "officer_phone": "{council} Council: {officer} tried to reach you today (ref "
                             "{reference}). Please call {team_phone} or reply when you are free "
                             "to talk.",
            "officer": "{council} Council: {officer} tried to reach you today (ref {reference}). "
                       "Please reply when you are free to talk.",
            "team_phone": "{council} Council: We tried to reach you today (ref {reference}). "
                          "Please call {team_phone} or reply when you are free to talk.",
            "team": "{council} Council: We tried to reach you today (ref {reference}). "
                    "Please reply when you are free to talk.",
        },
        # The morning of a release or discharge date, which it must not mention. There is no
        # office address to give (Authority has none): who can help and how to reach them.
        "applicant_release_day": {
            "officer_phone": "{council} Council: If you need help today, {officer} from our "
                             "team is here. Call {team_phone} or reply here (ref {reference}).",
            "officer": "{council} Council: If you need help today, {officer} from our team is "
                       "here. Reply here (ref {reference}).",
            "team_phone": "{council} Council: If you need help today, our team is here. Call "
                          "{team_phone} or reply here (ref {reference}).",
            "team": "{council} Council: If you need help today, our team is here. Reply here "
                    "(ref {reference}).",
        },
    },
)

# Worded to need no "â", "ŵ", "ŷ" or "î" ("gael gafael arnoch", not "gysylltu â chi"; "o'n
# swyddfa", not "o'n tîm"): one such letter makes the whole text Unicode, 70 characters a
# segment instead of 160, and these then fit one segment like the English.
WELSH = LanguageWording(
    dates=DateWords(days=("Llun", "Maw", "Mer", "Iau", "Gwe", "Sad", "Sul"),
                    months=("Ion", "Chwef", "Maw", "Ebr", "Mai", "Meh", "Gorff", "Awst", "Medi",
                            "Hyd", "Tach", "Rhag"),
                    am="yb", pm="yp"),
    templates={
        "applicant_received": {
            "officer_phone": "Cyngor {council}: Bydd {officer} o'n swyddfa yn cysylltu erbyn "
                             "{due}. Cyf: {reference}. Atebwch yma neu ffoniwch {team_phone}.",
            "officer": "Cyngor {council}: Bydd {officer} o'n swyddfa yn cysylltu erbyn {due}. "
                       "Cyf: {reference}. Atebwch yma.",
            "team_phone": "Cyngor {council}: Bydd un o'n swyddogion yn cysylltu erbyn {due}. "
                          "Cyf: {reference}. Atebwch yma neu ffoniwch {team_phone}.",
            "team": "Cyngor {council}: Bydd un o'n swyddogion yn cysylltu erbyn {due}. "
                    "Cyf: {reference}. Atebwch yma.",
        },
        "applicant_officer_changed": {
            "officer_phone": "Cyngor {council}: {officer} yw eich cyswllt newydd (cyf "
                             "{reference}). Ffoniwch {team_phone} neu atebwch yma.",
            "officer": "Cyngor {council}: {officer} yw eich cyswllt newydd (cyf {reference}). "
                       "Atebwch yma.",
        },
        "applicant_contact_failed": {
            "officer_phone": "Cyngor {council}: Ceisiodd {officer} gael gafael arnoch heddiw "
                             "(cyf {reference}). Ffoniwch {team_phone} neu atebwch pan fyddwch "
                             "yn rhydd i siarad.",
            "officer": "Cyngor {council}: Ceisiodd {officer} gael gafael arnoch heddiw (cyf "
                       "{reference}). Atebwch pan fyddwch yn rhydd i siarad.",
            "team_phone": "Cyngor {council}: Ceision ni gael gafael arnoch heddiw (cyf "
                          "{reference}). Ffoniwch {team_phone} neu atebwch pan fyddwch yn "
                          "rhydd i siarad.",
            "team": "Cyngor {council}: Ceision ni gael gafael arnoch heddiw (cyf {reference}). "
                    "Atebwch pan fyddwch yn rhydd i siarad.",
        },
        "applicant_release_day": {
            "officer_phone": "Cyngor {council}: Os oes angen help arnoch heddiw, mae {officer} "
                             "o'n swyddfa yma. Ffoniwch {team_phone} neu atebwch yma (cyf "
                             "{reference}).",
            "officer": "Cyngor {council}: Os oes angen help arnoch heddiw, mae {officer} o'n "
                       "swyddfa yma. Atebwch yma (cyf {reference}).",
            "team_phone": "Cyngor {council}: Os oes angen help arnoch heddiw, mae ein swyddfa "
                          "yma. Ffoniwch {team_phone} neu atebwch yma (cyf {reference}).",
            "team": "Cyngor {council}: Os oes angen help arnoch heddiw, mae ein swyddfa yma. "
                    "Atebwch yma (cyf {reference}).",
        },
    },
)

BUILT_IN: dict[str, LanguageWording] = {"en": ENGLISH, "cy": WELSH}
