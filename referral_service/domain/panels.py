"""What sharing with a panel rests on, as data: the lawful bases an officer chooses from, per panel
type, and how long a share lasts.

Change the law here, not in the code that checks it: the share form's radios, the API and the
validation all read these tables.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from referral_service.models import OrganisationType

MARAC = OrganisationType.MARAC
MAPPA = OrganisationType.MAPPA
PANEL_NAMES = {MARAC: "MARAC", MAPPA: "MAPPA"}

# A share lasts until this long after the next panel meeting unless the officer chooses otherwise.
DEFAULT_AFTER_MEETING = timedelta(days=30)
# And never longer than this from the day it is made: a longer need is a new decision.
LONGEST_SHARE = timedelta(days=365)


@dataclass(frozen=True)
class LawfulBasis:
    code: str
    title: str
    hint: str


LAWFUL_BASES: dict[OrganisationType, tuple[LawfulBasis, ...]] = {
    MAPPA: (
        LawfulBasis(
            "cja2003_s325",
            "Criminal Justice Act 2003, section 325: duty to co-operate",
            "The housing authority is a duty-to-co-operate agency under section 325(3); "
            "information is shared with the MAPPA responsible authority on a need-to-know basis."),
        LawfulBasis(
            "ukgdpr_6_1_e_dpa2018_sch1_para6",
            "UK GDPR Article 6(1)(e) with DPA 2018 Schedule 1 paragraph 6",
            "Public task, and processing necessary for a statutory function (criminal offence "
            "data under DPA 2018 section 10(5))."),
        LawfulBasis(
            "ukgdpr_6_1_e_dpa2018_sch1_para10",
            "UK GDPR Article 6(1)(e) with DPA 2018 Schedule 1 paragraph 10",
            "Public task, and processing necessary for preventing or detecting unlawful acts."),
    ),
    MARAC: (
        LawfulBasis(
            "cda1998_s115",
            "Crime and Disorder Act 1998, section 115",
            "Disclosure to a relevant authority for the purposes of reducing crime and disorder, "
            "including domestic abuse."),
        LawfulBasis(
            "ukgdpr_6_1_e_dpa2018_sch1_para18",
            "UK GDPR Article 6(1)(e) with DPA 2018 Schedule 1 paragraph 18",
            "Public task, and safeguarding of children and of individuals at risk."),
        LawfulBasis(
            "ukgdpr_6_1_d_vital_interests",
            "UK GDPR Article 6(1)(d): vital interests",
            "Where there is a risk to life or of serious harm and no other basis fits."),
        LawfulBasis(
            "children_act_2004_s11",
            "Children Act 2004, section 11",
            "The housing authority's duty to safeguard and promote the welfare of children in "
            "the household."),
    ),
}


def bases_for(panel_type: OrganisationType) -> tuple[LawfulBasis, ...]:
    return LAWFUL_BASES.get(panel_type, ())


def basis_title(code: str) -> str:
    for bases in LAWFUL_BASES.values():
        for basis in bases:
            if basis.code == code:
                return basis.title
    return code
