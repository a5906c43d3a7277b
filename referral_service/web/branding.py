"""Whose service a page says it is: a council's for its own staff, the operator's otherwise.

The service is not on GOV.UK, so no page shows the crown, the GOV.UK logotype or "GOV.UK"
(the Design System's guidance for services not on GOV.UK: the Generic header, not the GOV.UK
header). A person who works for an authority (an officer, a team leader, or an administrator
of that authority) sees their council's name and footer links: it is the council's service to
them. Everyone else (signed-out visitors, referrers from other public bodies, panel leads, an
administrator of the whole deployment) sees the operator's name from the configuration
(``SERVICE_OPERATOR_NAME``), since no one council speaks for the pages they use.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from referral_service.domain.branding import LINKS
from referral_service.models import User


@dataclass(frozen=True)
class Branding:
    organisation: str  # in the header, the page title and the footer's copyright line
    footer_links: list[dict[str, str]]  # {"href", "text"}, in LINKS order


def for_user(user: User | None, config: Mapping[str, object]) -> Branding:
    authority = user.authority if user is not None else None
    if authority is not None:
        return Branding(
            organisation=authority.display_name or authority.name,
            footer_links=_links({name: getattr(authority, name) for name in LINKS}))
    return operator(config)


def operator(config: Mapping[str, object]) -> Branding:
    """The deployment operator's branding (also for pages drawn without the database)."""
    return Branding(
        organisation=str(config["SERVICE_OPERATOR_NAME"]),
        footer_links=_links({name: config.get(f"SERVICE_OPERATOR_{name.upper()}")
                             for name in LINKS}))


def _links(urls: Mapping[str, object]) -> list[dict[str, str]]:
    return [{"href": str(urls[name]), "text": text} for name, text in LINKS.items()
            if urls.get(name)]
