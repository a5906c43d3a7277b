"""The service navigation and each role's home page, which page modules add themselves to.

A page module registers at import, e.g.::

    navigation.add("My referrals", "officer.my_referrals", Role.OFFICER, order=10)
    navigation.set_home(Role.OFFICER, "officer.my_referrals")

Items whose endpoint is not registered on the running app (a blueprint left out) are not shown.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app, request, url_for
from markupsafe import Markup

from referral_service.models import Role, User


@dataclass(frozen=True)
class Item:
    text: str
    endpoint: str
    roles: frozenset[Role]
    order: int
    # A count shown on the link (e.g. referrals waiting in the team queue), with its words.
    badge: Callable[[User], tuple[int, str]] | None = None


_items: dict[str, Item] = {}
_homes: dict[Role, str] = {}
FALLBACK_HOME = "signin.account"


def add(text: str, endpoint: str, *roles: Role, order: int = 100,
        badge: Callable[[User], tuple[int, str]] | None = None) -> None:
    _items[endpoint] = Item(text, endpoint, frozenset(roles), order, badge)


def _label(item: Item, user: User) -> dict[str, object]:
    count, words = item.badge(user) if item.badge else (0, "")
    if not count:
        return {"text": item.text}
    return {"html": Markup(
        '{} <strong class="govuk-tag govuk-tag--red app-nav-count">{}'
        '<span class="govuk-visually-hidden"> {}</span></strong>').format(item.text, count, words)}


def set_home(role: Role, endpoint: str) -> None:
    _homes[role] = endpoint


def _known(endpoint: str) -> bool:
    return endpoint in current_app.view_functions


def home_url(user: User) -> str:
    endpoint = _homes.get(user.role, FALLBACK_HOME)
    return url_for(endpoint if _known(endpoint) else FALLBACK_HOME)


def items_for(user: User | None) -> list[dict[str, object]]:
    """Items for ``govukServiceNavigation``: the ones this user's role may open."""
    if user is None:
        return []
    shown = sorted((item for item in _items.values()
                    if user.role in item.roles and _known(item.endpoint)),
                   key=lambda item: (item.order, item.text))
    current = request.endpoint
    return [{**_label(item, user), "href": url_for(item.endpoint),
             "active": current == item.endpoint} for item in shown]
