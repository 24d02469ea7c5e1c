from django.utils.translation import gettext_lazy as _

from civicgrid.core.plugins import NavItem

NAV = [
    NavItem("analytics:governance", _("Governance"), "analytics", 60),
    NavItem("analytics:crei", _("Resilience index"), "analytics", 61),
]
