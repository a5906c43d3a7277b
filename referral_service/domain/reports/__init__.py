"""The scrutiny figures: who may see them (``scope``), the figures (``figures``), their CSV
(``export``), and the working-hours calendar they count time with (``calendar``)."""
from referral_service.domain.reports.figures import FIGURES, Figure, dashboard, figure
from referral_service.domain.reports.scope import (
    AGENCY_TYPES,
    Scope,
    authority_choices,
    scope_for,
)

__all__ = ["AGENCY_TYPES", "FIGURES", "Figure", "Scope", "authority_choices", "dashboard",
           "figure", "scope_for"]
