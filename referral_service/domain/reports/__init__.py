"""The scrutiny figures: who may see them (``scope``), the figures (``figures``), their CSV
(``export``), and the working-hours calendar they count time with (``calendar``)."""
from referral_service.domain.reports.figures import FIGURES, Figure, figure
from referral_service.domain.reports.scope import Scope, scope_for

__all__ = ["FIGURES", "Figure", "Scope", "figure", "scope_for"]
